// flowpath/classify/megaflow_subtable.hpp — the megaflows of one mask.
//
// Design.  Every megaflow in a subtable shares its mask, so a probe only
// reads the 64-bit key words that the mask touches (OVS's miniflow idea):
// a mask on in_port + nw_dst hashes two words per packet, not fifteen.
// The probe hash is computed straight from the packet's key words in
// registers (hash_core.hpp's per-word terms, scalar: for the 1-8 words of
// a typical mask a vector set-up, a store and a reload cost more than the
// multiplies), and looked up in an open-addressed table of one-cache-line
// buckets: five 32-bit hashes and the five entry pointers.  A hash match
// is confirmed against the entry's compact copy of its masked words (up to
// five; wider masks compare match.value), which sits in the second of the
// two entry lines that executing the hit needs anyway, so a hit touches
// the bucket line and those two lines, nothing else.  A bucket that ever overflowed into
// its neighbour is flagged, so a miss usually ends after one bucket.  Hash
// 0 marks an empty position (real hashes are forced odd).
//
// Pre-filter.  The cache hashes every packet once on the bits that all
// subtables' masks share (megaflow_cache.hpp); each subtable keeps a bit
// array (8 bits per slot) of those hashes for its entries.  Removal leaves
// bits set (a stale bit costs a probe, never a wrong answer); the array is
// rebuilt when removals since the last build exceed the live entries.  A packet whose bit is clear
// cannot match here and is not probed: with flows spread over many masks most subtables are skipped
// for ~2 loads per packet instead of a hash and a bucket probe.
//
// Batch lookup runs in passes over the packets still unmatched: hash +
// prefetch the bucket for every packet; compare hashes and prefetch the
// candidate entry; confirm.  Each pass finds the previous pass's lines in
// cache, so the misses of 32 packets overlap.  The passes are a template
// on N, the number of words the mask touches (1..8), so the hash and the
// confirm unroll; wider masks (9..15 words) use the generic loop.
//
// Cost per packet and subtable probed: N loads, N multiplies, one bucket
// compare, an N-word confirm on a hash hit.  Thread-safety: none.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/compare.hpp"
#include "flowpath/simd/hash.hpp"

namespace flowpath {

template <class B>
class MegaflowSubtable {
 public:
  static constexpr uint32_t kBucketWays = 5;
  static constexpr size_t kMaxSpecialised = 8;
  static constexpr uint32_t kFilterBitsPerSlot = 8;

  struct alignas(64) Bucket {
    uint32_t hashes[kBucketWays + 1];  // the last lane is always 0 (padding)
    MegaflowEntry* entries[kBucketWays];
  };
  static_assert(sizeof(Bucket) == 64);

  explicit MegaflowSubtable(const FlowMask& mask) : mask_(mask) {
    word_map_ = mask_word_map(mask);
    for (uint32_t m = word_map_; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      idx_[n_words_] = uint8_t(i);
      mask_words_[n_words_++] = mask.word(i);
    }
    resize(16);
  }

  const FlowMask& mask() const noexcept { return mask_; }
  uint32_t n_words() const noexcept { return n_words_; }
  size_t size() const noexcept { return count_; }

  uint64_t hits = 0;   // since the last re-sort (ranking)
  uint32_t index = 0;  // position in the cache's subtable array

  /// Per-batch probe state of one subtable (the stages below fill it).
  struct Probe {
    uint32_t hashes[32];
    uint32_t cands[32];
  };

  /// Looks up every packet i with bit i of `todo` set; stores matches in
  /// out[i] and returns the bitmap of packets that matched.
  uint32_t lookup_batch(const FlowKey* keys, uint32_t todo, MegaflowEntry** out) const noexcept {
    Probe p;
    return dispatch([&](auto n) {
      hash_n<n()>(keys, todo, p);
      match_n(todo, p);
      return confirm_n<n()>(keys, todo, p, out);
    });
  }

  // The three passes of lookup_batch, for callers that interleave several
  // subtables (the cache runs each stage over all candidate subtables
  // before the next, so that their memory misses overlap).
  /// Stage 1: hash the keys of `todo`, prefetch their buckets.
  void stage_hash(const FlowKey* keys, uint32_t todo, Probe& p) const noexcept {
    dispatch([&](auto n) { return hash_n<n()>(keys, todo, p), 0u; });
  }
  /// Stage 2: compare bucket hashes, prefetch candidate entries.
  void stage_match(uint32_t todo, Probe& p) const noexcept { match_n(todo, p); }
  /// Stage 3: confirm candidates of `todo` (a subset of stage 1's).
  uint32_t stage_confirm(const FlowKey* keys, uint32_t todo, const Probe& p,
                         MegaflowEntry** out) const noexcept {
    return dispatch([&](auto n) { return confirm_n<n()>(keys, todo, p, out); });
  }

  MegaflowEntry* lookup(const FlowKey& key) const noexcept {
    MegaflowEntry* out[1] = {nullptr};
    lookup_batch(&key, 1u, out);
    return out[0];
  }

  /// Bits of `todo` whose pre-filter hash fh[i] may be in this subtable.
  uint32_t filter(const uint32_t* fh, uint32_t todo) const noexcept {
    uint32_t pass = 0;
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      uint32_t bit = fh[i] & filter_mask_;
      pass |= uint32_t(filter_bits_[bit >> 6] >> (bit & 63) & 1) << i;
    }
    return pass;
  }

  /// Inserts an entry whose match.mask equals mask() (e->filter_hash set);
  /// the caller checked that no entry with the same masked key exists.
  void insert(MegaflowEntry* e) {
    if ((count_ + 1) * 2 > capacity()) resize(capacity() * 2);
    for (uint32_t j = 0; j < n_words_ && j < MegaflowEntry::kCompactWords; ++j)
      e->compact[j] = e->match.value.word(idx_[j]);
    place(e, hash_of(e->match.value));
    filter_add(e->filter_hash);
    ++count_;
  }

  void remove(MegaflowEntry* e) noexcept {
    size_t slot = e->slot;
    buckets_[slot / kBucketWays].hashes[slot % kBucketWays] = 0;
    buckets_[slot / kBucketWays].entries[slot % kBucketWays] = nullptr;
    --count_;
    // The filter keeps the entry's bit (a false positive costs one probe,
    // never a wrong answer) until stale bits could outnumber live ones.
    if (++filter_stale_ > count_ + 64) rebuild_filter();
  }

  /// Re-reads every entry's filter_hash (after the cache changed them).
  void rebuild_filter() noexcept {
    std::fill(filter_bits_.begin(), filter_bits_.end(), 0);
    filter_stale_ = 0;
    for_each([&](const MegaflowEntry& e) { filter_add(e.filter_hash); });
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Bucket& b : buckets_)
      for (MegaflowEntry* e : b.entries)
        if (e) f(*e);
  }

 private:
  size_t capacity() const noexcept { return buckets_.size() * kBucketWays; }

  // The compact-word hash (== simd::hash_words<B>(masked words, n)), from
  // the key's words directly.
  template <size_t N>
  uint32_t probe_hash(const KeyWord* kw) const noexcept {
    const uint32_t n = N ? uint32_t(N) : n_words_;
    uint64_t sum = 0;
    for (uint32_t j = 0; j < n; ++j) sum += simd::hash_term(kw[idx_[j]] & mask_words_[j], j);
    return simd::hash_finish(sum, n, 0) | 1u;
  }
  uint32_t hash_of(const FlowKey& key) const noexcept { return probe_hash<0>(key.words()); }

  template <size_t N>
  bool confirm(const KeyWord* kw, const MegaflowEntry* e) const noexcept {
    constexpr uint32_t kC = MegaflowEntry::kCompactWords;
    uint64_t diff = 0;
    if constexpr (N != 0 && N <= kC) {
      for (uint32_t j = 0; j < N; ++j) diff |= (kw[idx_[j]] & mask_words_[j]) ^ e->compact[j];
    } else {
      const KeyWord* v = e->match.value.words();
      for (uint32_t j = 0; j < n_words_; ++j) diff |= (kw[idx_[j]] & mask_words_[j]) ^ v[idx_[j]];
    }
    return diff == 0;
  }

  // Calls f(std::integral_constant<size_t, N>) for this mask's word count
  // (0 = generic loop, for masks wider than kMaxSpecialised words).
  template <class F>
  uint32_t dispatch(F&& f) const noexcept {
    switch (n_words_) {
      case 1:
        return f(std::integral_constant<size_t, 1>{});
      case 2:
        return f(std::integral_constant<size_t, 2>{});
      case 3:
        return f(std::integral_constant<size_t, 3>{});
      case 4:
        return f(std::integral_constant<size_t, 4>{});
      case 5:
        return f(std::integral_constant<size_t, 5>{});
      case 6:
        return f(std::integral_constant<size_t, 6>{});
      case 7:
        return f(std::integral_constant<size_t, 7>{});
      case 8:
        return f(std::integral_constant<size_t, 8>{});
      default:
        return f(std::integral_constant<size_t, 0>{});
    }
  }

  template <size_t N>
  void hash_n(const FlowKey* keys, uint32_t todo, Probe& p) const noexcept {
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      p.hashes[i] = probe_hash<N>(keys[i].words());
      __builtin_prefetch(&buckets_[p.hashes[i] & bucket_mask_]);
    }
  }

  // The buckets are (nearly) in cache; prefetch the first candidate's two
  // entry lines so that confirming overlaps the misses of all packets.
  void match_n(uint32_t todo, Probe& p) const noexcept {
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      const Bucket& b = buckets_[p.hashes[i] & bucket_mask_];
      p.cands[i] = simd::match_u32<B>(b.hashes, kBucketWays, p.hashes[i]);
      if (p.cands[i]) {
        const MegaflowEntry* e = b.entries[std::countr_zero(p.cands[i])];
        __builtin_prefetch(e);                                      // actions, counters
        __builtin_prefetch(reinterpret_cast<const char*>(e) + 64);  // compact words
      }
    }
  }

  template <size_t N>
  uint32_t confirm_n(const FlowKey* keys, uint32_t todo, const Probe& p,
                     MegaflowEntry** out) const noexcept {
    uint32_t found = 0;
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      const KeyWord* kw = keys[i].words();
      uint32_t b = p.hashes[i] & bucket_mask_;
      MegaflowEntry* e = nullptr;
      for (uint32_t c = p.cands[i]; c; c &= c - 1) {
        MegaflowEntry* x = buckets_[b].entries[std::countr_zero(c)];
        if (confirm<N>(kw, x)) {
          e = x;
          break;
        }
      }
      if (!e && overflow_[b]) [[unlikely]]
        e = find_overflow<N>(kw, p.hashes[i], b);
      if (e) {
        out[i] = e;
        found |= 1u << i;
      }
    }
    return found;
  }

  // Continues a probe past home bucket b (which overflowed).
  template <size_t N>
  MegaflowEntry* find_overflow(const KeyWord* kw, uint32_t h, uint32_t b) const noexcept {
    for (uint32_t probes = 0; overflow_[b] && probes < max_probe_; ++probes) {
      b = (b + 1) & bucket_mask_;
      for (uint32_t c = simd::match_u32<B>(buckets_[b].hashes, kBucketWays, h); c; c &= c - 1) {
        MegaflowEntry* x = buckets_[b].entries[std::countr_zero(c)];
        if (confirm<N>(kw, x)) return x;
      }
    }
    return nullptr;
  }

  void place(MegaflowEntry* e, uint32_t h) noexcept {
    uint32_t b = h & bucket_mask_;
    for (uint32_t probes = 0;; ++probes) {
      uint32_t empty = simd::match_u32<B>(buckets_[b].hashes, kBucketWays, 0);
      if (empty) {
        uint32_t way = uint32_t(std::countr_zero(empty));
        buckets_[b].hashes[way] = h;
        buckets_[b].entries[way] = e;
        e->slot = b * kBucketWays + way;
        if (probes > max_probe_) max_probe_ = probes;
        return;
      }
      overflow_[b] = 1;
      b = (b + 1) & bucket_mask_;
    }
  }

  void filter_add(uint32_t fh) noexcept {
    uint32_t bit = fh & filter_mask_;
    filter_bits_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }

  // Rebuilds the table with at least `slots` positions (a power of two of
  // buckets); also clears overflow flags left behind by removals.
  void resize(size_t slots) {
    std::vector<MegaflowEntry*> old;
    old.reserve(count_);
    for_each([&](MegaflowEntry& e) { old.push_back(&e); });
    size_t n_buckets = std::bit_ceil((slots + kBucketWays - 1) / kBucketWays);
    buckets_.assign(n_buckets, Bucket{});
    overflow_.assign(n_buckets, 0);
    bucket_mask_ = uint32_t(n_buckets - 1);
    max_probe_ = 0;
    size_t filter_bits = std::bit_ceil(capacity() * kFilterBitsPerSlot);
    filter_bits_.assign(filter_bits / 64, 0);
    filter_mask_ = uint32_t(filter_bits - 1);
    filter_stale_ = 0;
    for (MegaflowEntry* e : old) {
      place(e, hash_of(e->match.value));
      filter_add(e->filter_hash);
    }
  }

  FlowMask mask_;
  uint32_t word_map_ = 0;
  uint32_t n_words_ = 0;
  uint8_t idx_[FlowKey::kWords] = {};
  uint64_t mask_words_[FlowKey::kWords] = {};
  uint32_t bucket_mask_ = 0;
  uint32_t max_probe_ = 0;  // farthest any entry sits from its home bucket
  uint32_t filter_mask_ = 0;
  size_t count_ = 0;
  std::vector<Bucket> buckets_;
  std::vector<uint8_t> overflow_;
  size_t filter_stale_ = 0;            // removals since the filter was built
  std::vector<uint64_t> filter_bits_;  // the pre-filter, read per packet
};

}  // namespace flowpath
