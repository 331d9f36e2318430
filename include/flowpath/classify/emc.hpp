// flowpath/classify/emc.hpp — the exact-match cache (EMC).
//
// Design.  In front of the megaflow cache sits a small per-thread table
// keyed by the whole flow key: a hit costs one hash (already computed for
// the batch), the slot's two cache lines and a 128-byte compare, with no
// subtable walk.  Each key hashes to two candidate slots (the low bits and
// the next bits of the hash, as OVS's EMC); lookup checks both.
//
// A slot is two aligned lines (session 17; it was 144 bytes, three lines):
// the key's 16 words in place, except words 10-11 (nd_target), which hold
// the slot's hash, serial and megaflow pointer.  nd_target is zero for
// every packet but an ICMPv6 neighbour solicitation or advertisement; an
// ND key keeps it in a side array (nd_, 16 bytes a slot) and marks its
// slot by a bit in a padding byte of the stored word 15 (byte 121, always
// zero in a key: flow_key.hpp), so a key without ND words never matches an
// ND slot and pays no test for it.  The compare is the key's 16-word
// XOR/OR with words 10-11 taken from the probe alone (zero unless ND), so
// an ND probe never hits on the common path: on a miss it is looked up
// again with the side array (lookup_nd).
//
// Entries point at megaflow entries and remember the entry's serial.  A
// megaflow that was removed (revalidation, limits, flush) has dead set and
// a new serial, so its EMC entries stop matching immediately: the EMC can
// never serve a dead megaflow, and it needs no cleanup pass of its own.
//
// Insertion is probabilistic (default 1 in 100, as Open vSwitch): a flow
// that sends many packets soon gets an entry, while a burst of short flows
// does not evict the long-lived ones.  The random source is a xorshift32
// with a fixed seed, so tests are deterministic.  insert_inv_prob = 1
// inserts always, 0 never.  Victim choice: an empty or dead slot, else the
// second candidate.
//
// Cost: a hit reads two lines of its slot (one more for an ND key) + a
// 14-word compare; 8,192 entries take 1 MiB (+ 128 KiB of ND words).
// Thread-safety: none — one EMC per datapath thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

struct EmcConfig {
  uint32_t entries = 8'192;        // rounded up to a power of two
  uint32_t insert_inv_prob = 100;  // insert 1 in N; 1 = always, 0 = never
  uint32_t seed = 0x9e3779b9u;
};

class Emc {
 public:
  explicit Emc(EmcConfig cfg = {}) : cfg_(cfg) {
    uint32_t n = 2;
    while (n < cfg_.entries) n <<= 1;
    mask_ = n - 1;
    slots_ = std::make_unique<Slot[]>(n);
    nd_ = std::make_unique<NdWords[]>(n);
    rng_ = cfg_.seed ? cfg_.seed : 1;
  }

  /// The live megaflow cached for key (hash = its flow hash), or nullptr.
  [[gnu::always_inline]] MegaflowEntry* lookup(const FlowKey& key, uint32_t hash) const noexcept {
    const KeyWord* k = key.words();
    const Slot& a = slots_[hash & mask_];
    if (a.hash == hash && a.flow && a.flow->alive(a.serial) && a.same(k)) return a.flow;
    const Slot& b = slots_[second(hash)];
    if (b.hash == hash && b.flow && b.flow->alive(b.serial) && b.same(k)) return b.flow;
    // same() fails a key with ND words: they are in nd_ (rare, so tested
    // on a miss only).
    if ((k[10] | k[11]) != 0) [[unlikely]]
      return lookup_nd(key, hash);
    return nullptr;
  }

  /// Prefetches the first candidate slot's first line (call a few packets
  /// ahead).
  void prefetch(uint32_t hash) const noexcept { __builtin_prefetch(&slots_[hash & mask_]); }

  /// Offers key -> flow; inserted with probability 1/insert_inv_prob.
  void maybe_insert(const FlowKey& key, uint32_t hash, MegaflowEntry* flow) noexcept {
    if (cfg_.insert_inv_prob == 0) return;
    if (cfg_.insert_inv_prob > 1 && next_random() % cfg_.insert_inv_prob != 0) return;
    insert(key, hash, flow);
  }

  /// Inserts unconditionally.
  void insert(const FlowKey& key, uint32_t hash, MegaflowEntry* flow) noexcept {
    const uint32_t ia = hash & mask_, ib = second(hash);
    uint32_t victim = ib;
    if (holds(ia, key, hash))
      victim = ia;
    else if (holds(ib, key, hash))
      victim = ib;
    else if (!live(slots_[ia]))
      victim = ia;
    else if (!live(slots_[ib]))
      victim = ib;
    Slot& v = slots_[victim];
    const KeyWord* k = key.words();
    const bool nd = (k[10] | k[11]) != 0;
    for (int i = 0; i < 10; ++i) v.lo[i] = k[i];
    for (int i = 12; i < 16; ++i) v.hi[i - 12] = k[i];
    if (nd) {
      v.hi[3] |= kNdMark;
      nd_[victim] = NdWords{k[10], k[11]};
    }
    v.hash = hash;
    v.flow = flow;
    v.serial = flow->serial;
    ++inserts_;
  }

  void clear() noexcept {
    for (uint32_t i = 0; i <= mask_; ++i) slots_[i] = Slot{};
  }

  uint32_t capacity() const noexcept { return mask_ + 1; }
  uint64_t inserts() const noexcept { return inserts_; }
  /// Live entries (a scan: for tests and show commands).
  uint32_t size() const noexcept {
    uint32_t n = 0;
    for (uint32_t i = 0; i <= mask_; ++i) n += live(slots_[i]);
    return n;
  }
  const EmcConfig& config() const noexcept { return cfg_; }

 private:
  // A slot: two lines, laid out as a FlowKey whose words 10-11 (nd_target,
  // in nd_[slot] for an ND key) hold the slot's hash, serial and megaflow,
  // so the compare is the key's own 16-word compare with two words masked
  // (vectorised as FlowKey::operator== is).  Word 15 has kNdMark set when
  // the key's words 10-11 are in nd_.
  struct alignas(64) Slot {
    KeyWord lo[10] = {};  // key words 0-9
    uint32_t hash = 0;    // word 10
    uint32_t serial = 0;
    MegaflowEntry* flow = nullptr;  // word 11
    KeyWord hi[4] = {};             // key words 12-15
    const KeyWord* words() const noexcept { return reinterpret_cast<const KeyWord*>(this); }
    KeyWord* words() noexcept { return reinterpret_cast<KeyWord*>(this); }
    // The key's words but 10-11 equal the slot's and its words 10-11 are
    // zero (k: a key's words); vectorised, the mask is one AND a vector.
    bool same(const KeyWord* k) const noexcept {
      const KeyWord* w = words();
      uint64_t diff = 0;
      for (size_t i = 0; i < FlowKey::kWords; ++i) diff |= (w[i] & kCompared[i]) ^ k[i];
      return diff == 0;
    }
  };
  static constexpr uint64_t kCompared[FlowKey::kWords] = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull,
                                                          ~0ull, ~0ull, ~0ull, ~0ull, 0,     0,
                                                          ~0ull, ~0ull, ~0ull, ~0ull};
  static_assert(sizeof(Slot) == 128 && offsetof(Slot, hash) == 80 && offsetof(Slot, hi) == 96);
  struct NdWords {
    uint64_t w10 = 0, w11 = 0;
  };
  // Byte 121 of the key (padding after ct_state, zero in every key) as a
  // bit of word 15 (little-endian words, as the flow hash reads them).
  static constexpr uint64_t kNdMark = uint64_t(1) << 8;
  static_assert(offsetof(FlowKey, ct_state) == 120 && offsetof(FlowKey, ct_zone) == 122);
  static_assert(std::endian::native == std::endian::little);

  // A key with ND words: only a marked slot with the same side words.
  [[gnu::noinline]] MegaflowEntry* lookup_nd(const FlowKey& key, uint32_t hash) const noexcept {
    for (uint32_t i : {hash & mask_, second(hash)}) {
      const Slot& s = slots_[i];
      if (s.hash == hash && s.flow && s.flow->alive(s.serial) && holds(i, key, hash)) return s.flow;
    }
    return nullptr;
  }
  // Slot i holds exactly key (live or not).
  bool holds(uint32_t i, const FlowKey& key, uint32_t hash) const noexcept {
    const Slot& s = slots_[i];
    const KeyWord* k = key.words();
    if (s.hash != hash) return false;
    if ((k[10] | k[11]) == 0) return s.same(k);
    FlowKey marked = key;  // as stored: words 10-11 in nd_, the mark set
    marked.words()[10] = marked.words()[11] = 0;
    marked.words()[15] |= kNdMark;
    return s.same(marked.words()) && nd_[i].w10 == k[10] && nd_[i].w11 == k[11];
  }

  static bool live(const Slot& s) noexcept { return s.flow && s.flow->alive(s.serial); }
  uint32_t second(uint32_t hash) const noexcept { return (hash >> 13 ^ hash >> 26) & mask_; }
  uint32_t next_random() noexcept {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return rng_;
  }

  EmcConfig cfg_;
  uint32_t mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<NdWords[]> nd_;  // words 10-11 of the ND keys, per slot
  uint32_t rng_ = 1;
  uint64_t inserts_ = 0;
};

}  // namespace flowpath
