// flowpath/flow/ct_label_ids.hpp — small numbers for 128-bit ct_labels, so
// that a recirculated packet's label fits the FlowKey (FlowKey::ct_label_id).
//
//   CtLabelCache cache;                          // one per datapath thread
//   uint32_t id = cache.id(label);               // 0 for the zero label
//   std::optional<CtLabelBytes> l = ct_label_ids().label(id);   // slow path
//
// Why ids: OVS's flow key holds the 128-bit label; ours is 128 bytes in 16
// words, every one hashed and compared by the EMC and the megaflow cache,
// and 16 more bytes would cost every packet of every flow.  Labels are set
// by `ct(exec(set_field:V->ct_label))` with constants (OpenFlow allows
// nothing else), so a datapath sees few distinct values; each distinct
// non-zero label gets an id, the key carries the id, and a megaflow whose
// translation consulted ct_label matches the id exactly (its label
// exactly: a narrower megaflow than OVS's when a rule masks the label, never
// a wrong one).  The zero label is id 0: packets without a label pay
// nothing, and no label is looked up on the common path.
//
// The table is one per process, append-only, because an id must mean the
// same label to every datapath thread that puts it in a key and to every
// translation (an upcall, or a revalidation with no packet) that reads it
// back.  Ids are never reused.  It holds at most kMaxIds labels (16 MiB);
// beyond that id() returns kUnknown and the packet's next pass drops
// (bridge/ofproto.hpp), as FrozenTable drops when its ids run out.
//
// Cost: the datapath asks its CtLabelCache (direct-mapped, 64 entries, no
// lock) once per tracked packet with a non-zero label; a cache miss takes
// the table's mutex.  label(id) takes the mutex (slow path only).
// Thread-safety: CtLabelIds is safe from any thread; a CtLabelCache
// belongs to one thread.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace flowpath {

/// A ct_label as big-endian bytes (PipelineMeta::ct_label's layout).
using CtLabelBytes = std::array<uint8_t, 16>;

class CtLabelIds {
 public:
  static constexpr uint32_t kMaxIds = 1u << 20;
  static constexpr uint32_t kUnknown = ~0u;  // table full: the label has no id

  /// The id of `l` (made on first use): 0 for zero, kUnknown when full.
  uint32_t intern(const CtLabelBytes& l) {
    if (is_zero(l)) return 0;
    std::lock_guard lock(mu_);
    auto [it, fresh] = ids_.try_emplace(l, 0);
    if (fresh) {
      if (labels_.size() >= kMaxIds) {
        ids_.erase(it);
        return kUnknown;
      }
      labels_.push_back(l);
      it->second = uint32_t(labels_.size());
    }
    return it->second;
  }
  /// The label id names (zero for 0), or nullopt for an id never given.
  std::optional<CtLabelBytes> label(uint32_t id) const {
    if (id == 0) return CtLabelBytes{};
    std::lock_guard lock(mu_);
    if (id > labels_.size()) return std::nullopt;
    return labels_[id - 1];
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return labels_.size();
  }

  static bool is_zero(const CtLabelBytes& l) noexcept {
    uint64_t a, b;
    std::memcpy(&a, l.data(), 8);
    std::memcpy(&b, l.data() + 8, 8);
    return (a | b) == 0;
  }

 private:
  mutable std::mutex mu_;
  std::map<CtLabelBytes, uint32_t> ids_;
  std::vector<CtLabelBytes> labels_;  // id - 1 -> label
};

/// The process's table (see the contract above for why one).
inline CtLabelIds& ct_label_ids() {
  static CtLabelIds table;
  return table;
}

/// A thread's lock-free front of ct_label_ids(): direct-mapped on a hash of
/// the label.  Never wrong: a hit compares the whole label.
class CtLabelCache {
 public:
  static constexpr size_t kSlots = 64;

  uint32_t id(const CtLabelBytes& l) {
    if (CtLabelIds::is_zero(l)) return 0;
    uint64_t a, b;
    std::memcpy(&a, l.data(), 8);
    std::memcpy(&b, l.data() + 8, 8);
    Slot& s = slots_[((a ^ b) * 0x9e3779b97f4a7c15ull) >> 58];
    if (s.id && s.label == l) return s.id;
    const uint32_t id = ct_label_ids().intern(l);
    if (id != CtLabelIds::kUnknown) s = Slot{l, id};
    return id;
  }

 private:
  struct Slot {
    CtLabelBytes label{};
    uint32_t id = 0;
  };
  std::array<Slot, kSlots> slots_{};
};

}  // namespace flowpath
