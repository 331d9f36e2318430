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
// The next pass's answer (session 18).  A recirculated pass that reuses
// its packets' keys in place (datapath.hpp) probes the EMC with the
// previous pass's key K with only its pass fields P changed (recirc_id,
// ct_state, ct_zone, ct_mark, ct_label_id).  K is the key of the slot the
// previous pass hit, so (slot, P) determines the new key, its hash and so
// the EMC's answer: remember_next(slot, key, hash, flow) stores that answer
// beside the slot (next_, 32 bytes a slot, allocated on first use), and
// next_of(slot, key, hash) gives it back, saving the hash and the probe,
// only while it is what lookup() would return:
//  - no slot has been written since (epoch_, bumped by every insert and
//    clear): the slot still holds K, and every slot the probe reads is as
//    it was when the answer was remembered;
//  - the key's pass fields are the remembered ones (recirc_id, word 15
//    whole: ct_state, ct_zone, ct_mark) and its ct_label_id is zero (a
//    labelled key is never remembered: 32 bytes hold no label);
//  - the remembered megaflow is alive with its serial.  A megaflow never
//    comes back to life under a serial it died with, so a probe that failed
//    on a slot then fails on it now, and the probe's hit is the same.
// The caller promises the key is the slot's key with its pass fields set,
// the slot being where the same key hit in this epoch.
//
// Cost: a hit reads two lines of its slot (one more for an ND key) + a
// 14-word compare; 8,192 entries take 1 MiB (+ 128 KiB of ND words).
// Thread-safety: none — one EMC per datapath thread.
#pragma once

#include <algorithm>
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

  static constexpr uint32_t kNoSlot = ~0u;

  /// The live megaflow cached for key (hash = its flow hash), or nullptr.
  [[gnu::always_inline]] MegaflowEntry* lookup(const FlowKey& key, uint32_t hash) const noexcept {
    uint32_t at;
    return lookup(key, hash, at);
  }
  /// lookup(), and the slot that answered in `at` (kNoSlot on a miss).
  [[gnu::always_inline]] MegaflowEntry* lookup(const FlowKey& key, uint32_t hash,
                                               uint32_t& at) const noexcept {
    const KeyWord* k = key.words();
    const uint32_t ia = hash & mask_;
    const Slot& a = slots_[ia];
    if (a.hash == hash && a.flow && a.flow->alive(a.serial) && a.same(k)) {
      at = ia;
      return a.flow;
    }
    const uint32_t ib = second(hash);
    const Slot& b = slots_[ib];
    if (b.hash == hash && b.flow && b.flow->alive(b.serial) && b.same(k)) {
      at = ib;
      return b.flow;
    }
    at = kNoSlot;
    // same() fails a key with ND words: they are in nd_ (rare, so tested
    // on a miss only).
    if ((k[10] | k[11]) != 0) [[unlikely]]
      return lookup_nd(key, hash, at);
    return nullptr;
  }

  /// Changes whenever a slot is written (insert, clear).
  uint32_t epoch() const noexcept { return epoch_; }
  /// Whether remember_next() was ever called (next_of() needs it).
  bool has_next() const noexcept { return next_ != nullptr; }
  /// lookup(next, flow_hash(next)) without the hash or the probe, when
  /// remembered for `next`'s pass fields (see "The next pass's answer"):
  /// the megaflow, with its hash in `hash`; else nullptr.  `next` must be
  /// the key of slot `at` (a lookup's hit in this epoch) with its pass
  /// fields set; has_next() must be true.
  [[gnu::always_inline]] MegaflowEntry* next_of(uint32_t at, const FlowKey& next,
                                                uint32_t& hash) const noexcept {
    const NextPass& m = next_[at];
    if (m.epoch != epoch_ || m.recirc_id != next.recirc_id || m.ct_word != next.words()[15] ||
        next.ct_label_id != 0 || !m.flow->alive(m.serial))
      return nullptr;
    hash = m.hash;
    return m.flow;
  }
  void prefetch_next(uint32_t at) const noexcept { __builtin_prefetch(&next_[at]); }
  /// Remembers lookup(next, hash) == flow for slot `at` (next_of's terms).
  void remember_next(uint32_t at, const FlowKey& next, uint32_t hash,
                     MegaflowEntry* flow) noexcept {
    if (next.ct_label_id != 0) return;
    if (!next_) next_ = std::make_unique<NextPass[]>(mask_ + 1);
    next_[at] = NextPass{epoch_, next.recirc_id, next.words()[15], flow, flow->serial, hash};
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
    bump_epoch();
  }

  void clear() noexcept {
    for (uint32_t i = 0; i <= mask_; ++i) slots_[i] = Slot{};
    bump_epoch();
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
    [[gnu::always_inline]] bool same(const KeyWord* k) const noexcept {
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
  // The next pass's answer for a slot's key with pass fields (recirc_id,
  // ct_word = key word 15: ct_state, ct_zone, ct_mark; ct_label_id zero).
  struct alignas(32) NextPass {
    uint32_t epoch = 0;  // epoch_ when remembered; 0: never (epoch_ >= 1)
    uint32_t recirc_id = 0;
    uint64_t ct_word = 0;
    MegaflowEntry* flow = nullptr;
    uint32_t serial = 0;
    uint32_t hash = 0;
  };
  static_assert(sizeof(NextPass) == 32);
  static_assert(offsetof(FlowKey, ct_state) / 8 == 15 && offsetof(FlowKey, ct_mark) / 8 == 15);
  void bump_epoch() noexcept {
    if (++epoch_ != 0) [[likely]]
      return;
    epoch_ = 1;  // wrapped: forget every answer, none may match again
    if (next_) std::fill_n(next_.get(), mask_ + 1, NextPass{});
  }
  // Byte 121 of the key (padding after ct_state, zero in every key) as a
  // bit of word 15 (little-endian words, as the flow hash reads them).
  static constexpr uint64_t kNdMark = uint64_t(1) << 8;
  static_assert(offsetof(FlowKey, ct_state) == 120 && offsetof(FlowKey, ct_zone) == 122);
  static_assert(std::endian::native == std::endian::little);

  // A key with ND words: only a marked slot with the same side words.
  [[gnu::noinline]] MegaflowEntry* lookup_nd(const FlowKey& key, uint32_t hash,
                                             uint32_t& at) const noexcept {
    for (uint32_t i : {hash & mask_, second(hash)}) {
      const Slot& s = slots_[i];
      if (s.hash == hash && s.flow && s.flow->alive(s.serial) && holds(i, key, hash)) {
        at = i;
        return s.flow;
      }
    }
    at = kNoSlot;
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
  std::unique_ptr<NdWords[]> nd_;     // words 10-11 of the ND keys, per slot
  std::unique_ptr<NextPass[]> next_;  // the next pass's answers, per slot
  uint32_t epoch_ = 1;
  uint32_t rng_ = 1;
  uint64_t inserts_ = 0;
};

}  // namespace flowpath
