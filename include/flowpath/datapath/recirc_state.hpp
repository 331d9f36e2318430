// flowpath/datapath/recirc_state.hpp — a datapath's recirculation state:
// the packets queued for the next pass (with the keys they keep), the
// clone buffers of packets that actions follow after a recirc, the
// connection hints by flow hash, the tracker and the counters.  The sink
// that fills it is RecircSink (recirc_sink.hpp); Datapath runs its passes.
//
// Cost: vectors reserved for kMaxPending packets; clone buffers (64 x
// 2 KB) and the hint table (8,192 x 24 B) allocated on first use.
// Thread-safety: one per datapath thread; the tracker is shared and safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/flow/ct_label_ids.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

/// A datapath's recirculation state: the packets of the next pass and the
/// buffers of cloned packets.
class RecircState {
 public:
  static constexpr size_t kClones = 64;       // clone buffers (allocated on first use)
  static constexpr size_t kMaxPending = 256;  // packets queued for one pass
  static constexpr int kMaxDepth = 6;         // recirculations per packet, as OVS

  RecircState() {
    next.reserve(kMaxPending);
    cur.reserve(kMaxPending);
  }

  /// A copy of p in a clone buffer, or nullptr when none is free.
  Packet* clone(const Packet& p) {
    if (!pool_) {
      pool_ = std::make_unique<PacketBuffer[]>(kClones);
      free_.reserve(kClones);
      for (size_t i = kClones; i-- > 0;) free_.push_back(uint16_t(i));
    }
    if (free_.empty()) return nullptr;
    PacketBuffer& b = pool_[free_.back()];
    free_.pop_back();
    b.assign(p.bytes());
    Packet& c = b.packet();
    c.in_port = p.in_port;
    c.timestamp_ns = p.timestamp_ns;
    c.meta = p.meta;
    return &c;
  }
  bool is_clone(const Packet* p) const noexcept {
    if (!pool_) return false;
    auto a = reinterpret_cast<uintptr_t>(p), lo = reinterpret_cast<uintptr_t>(&pool_[0]);
    return a >= lo && a < lo + kClones * sizeof(PacketBuffer);
  }
  void release(const Packet* p) noexcept {
    auto off = reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(&pool_[0]);
    free_.push_back(uint16_t(off / sizeof(PacketBuffer)));
  }
  size_t clones_in_use() const noexcept { return pool_ ? kClones - free_.size() : 0; }

  /// The tracker: the shared one given (set_tracker), else one of our own
  /// created on the first ct() (a datapath used alone, e.g. by tests).
  ct::Conntrack& tracker() {
    if (!tracker_) {
      own_tracker_ = std::make_unique<ct::Conntrack>();
      tracker_ = own_tracker_.get();
    }
    return *tracker_;
  }
  void set_tracker(ct::Conntrack* t) noexcept { tracker_ = t; }
  ct::Conntrack* tracker_if_any() const noexcept { return tracker_; }

  std::vector<Packet*> next;  // queued by recirculate() for the next pass
  std::vector<Packet*> cur;   // the pass being run (Datapath's)
  // The flow key of each queued packet whose frame the actions before its
  // recirc left as parsed (next_key[i], or nullptr: parse next[i] again),
  // so its next pass need not parse it; cur_key: the pass being run.  A key
  // in the batch given to Datapath::process() (alive until it returns) is
  // pointed at; one in `batch` (overwritten by the pass's next 32) is copied
  // into next_store[i] first.  Empty until a datapath asks for keys
  // (enable_keys()); from then on every queued packet writes its entry.
  std::vector<const FlowKey*> next_key, cur_key;
  std::vector<FlowKey> next_store, cur_store;
  uint64_t keys_reused = 0;    // recirculated packets not parsed again
  uint64_t keys_in_place = 0;  // of those, classified in the received batch (no copy)
  uint64_t emc_next = 0;       // of those, answered by the EMC's remembered next pass
  uint64_t inlined = 0;        // of those, run inline (DatapathConfig::recirc_inline)
  void enable_keys() {
    if (!next_key.empty()) return;
    next_key.assign(kMaxPending, nullptr);
    cur_key.assign(kMaxPending, nullptr);
    next_store.resize(kMaxPending);
    cur_store.resize(kMaxPending);
  }
  // Connection hints (session 19): per flow hash of the pass that ran a
  // ct() (meta.hash), the connection that ct() found for the last packet
  // of that hash, so a packet of a flow the EMC hit starts from it
  // (Conntrack::try_hint: verified whole, a wrong hint costs a key
  // compare).  Two candidate entries per hash, as the EMC's slots (one
  // direct-mapped entry lost ~25% of the hints of 1,000 flows to
  // collisions), tagged with the hash.  Off (hints_on false) when the
  // datapath computes no flow hash (EMC disabled) or for A/B (ct_hints).
  struct HintEntry {
    ct::Conntrack::Hint hint;
    uint32_t hash = 0;
  };
  static constexpr uint32_t kHints = 8192;
  bool hints_on = false;
  std::unique_ptr<HintEntry[]> hints;  // allocated on first use
  uint64_t ct_hinted = 0;              // packets whose ct() a hint answered
  HintEntry* hint_table() {
    if (!hints) hints = std::make_unique<HintEntry[]>(kHints);
    return hints.get();
  }
  static uint32_t hint_a(uint32_t h) noexcept { return h & (kHints - 1); }
  static uint32_t hint_b(uint32_t h) noexcept { return (h >> 13 ^ h >> 26) & (kHints - 1); }
  /// The hint stored for flow hash h, or nullptr.
  static const ct::Conntrack::Hint* hint_of(const HintEntry* t, uint32_t h) noexcept {
    const HintEntry& a = t[hint_a(h)];
    if (a.hash == h) return &a.hint;
    const HintEntry& b = t[hint_b(h)];
    return b.hash == h ? &b.hint : nullptr;
  }
  /// Stores a hint for h: its own entry, else an unused or outdated one
  /// (generation other than gen), else the second candidate.
  static void set_hint(HintEntry* t, uint32_t h, const void* node, uint64_t gen) noexcept {
    HintEntry& a = t[hint_a(h)];
    HintEntry& b = t[hint_b(h)];
    HintEntry& v = a.hash == h || a.hint.gen != gen || !a.hint.node ? a : b;
    v = HintEntry{{node, gen}, h};
  }
  Batch batch;  // a recirculated pass's batch (Datapath's)
  uint64_t recirculations = 0;
  uint64_t recirc_drops = 0;  // no clone buffer, next pass full, or too deep
  uint64_t ct_packets = 0;    // packets through the tracker
  CtLabelCache labels;        // ct_label -> id, this thread's front of the table

 private:
  std::unique_ptr<PacketBuffer[]> pool_;
  std::vector<uint16_t> free_;
  ct::Conntrack* tracker_ = nullptr;
  std::unique_ptr<ct::Conntrack> own_tracker_;
};

}  // namespace flowpath
