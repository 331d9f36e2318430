// flowpath/classify/megaflow_subtable.hpp — the megaflows of one mask.
//
// Design.  Every megaflow in a subtable shares its mask, so a subtable
// only stores the 64-bit key words that the mask touches (OVS's miniflow
// idea): a mask on in_port + nw_dst keeps two words per flow, not fifteen.
// Probe words are gathered from a key (key.word(i) & mask.word(i) for each
// touched word i), hashed with simd::hash_words, and looked up in an open-
// addressed table of buckets.  A bucket is eight 32-bit hashes, compared
// against the probe hash with one vector compare (simd::match_u32); the
// flow's compact key lives at the same position in a parallel array, so a
// hash match costs one more cache line to confirm.  A bucket that ever
// overflowed into its neighbour is flagged, so a miss usually ends after
// one bucket.  Hash 0 marks an empty position (real hashes are forced odd).
//
// Batch lookup runs in passes over the packets still unmatched: gather +
// hash + prefetch the bucket for every packet; compare hashes and prefetch
// the candidate's stored words; confirm.  Each pass finds the previous
// pass's lines in cache, so the misses of 32 packets overlap.  The pass is a template
// on N, the number of words the mask touches (1..8), so gathers, hashes
// and compares unroll; wider masks (9..15 words: IPv6 + L2 + L4 at once)
// use the generic loop, because instantiating fifteen variants per backend
// costs code size for masks that are rare and already slow to hash.
//
// Cost per packet and subtable: gather N words, hash N words, one bucket
// compare, one N-word confirm on a hash hit.  Thread-safety: none.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/compare.hpp"
#include "flowpath/simd/hash.hpp"

namespace flowpath {

template <class B>
class MegaflowSubtable {
 public:
  static constexpr uint32_t kBucketWays = 8;
  static constexpr size_t kMaxSpecialised = 8;

  struct alignas(32) Bucket {
    uint32_t hashes[kBucketWays];
  };

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

  /// Looks up every packet i with bit i of `todo` set; stores matches in
  /// out[i] and returns the bitmap of packets that matched.
  uint32_t lookup_batch(const FlowKey* keys, uint32_t todo, MegaflowEntry** out) const noexcept {
    switch (n_words_) {
      case 1:
        return lookup_n<1>(keys, todo, out);
      case 2:
        return lookup_n<2>(keys, todo, out);
      case 3:
        return lookup_n<3>(keys, todo, out);
      case 4:
        return lookup_n<4>(keys, todo, out);
      case 5:
        return lookup_n<5>(keys, todo, out);
      case 6:
        return lookup_n<6>(keys, todo, out);
      case 7:
        return lookup_n<7>(keys, todo, out);
      case 8:
        return lookup_n<8>(keys, todo, out);
      default:
        return lookup_n<0>(keys, todo, out);
    }
  }

  MegaflowEntry* lookup(const FlowKey& key) const noexcept {
    MegaflowEntry* out[1] = {nullptr};
    lookup_batch(&key, 1u, out);
    return out[0];
  }

  /// Inserts an entry whose match.mask equals mask(); the caller checked
  /// that no entry with the same masked key exists.
  void insert(MegaflowEntry* e) {
    if ((count_ + 1) * 2 > capacity()) resize(capacity() * 2);
    uint64_t words[FlowKey::kWords];
    gather(e->match.value, words);
    place(e, words, hash_of(words));
    ++count_;
  }

  void remove(MegaflowEntry* e) noexcept {
    size_t slot = e->slot;
    buckets_[slot / kBucketWays].hashes[slot % kBucketWays] = 0;
    entries_[slot] = nullptr;
    --count_;
  }

  template <class F>
  void for_each(F&& f) const {
    for (MegaflowEntry* e : entries_)
      if (e) f(*e);
  }

 private:
  size_t capacity() const noexcept { return entries_.size(); }

  void gather(const FlowKey& key, uint64_t* words) const noexcept {
    for (uint32_t j = 0; j < n_words_; ++j) words[j] = key.word(idx_[j]) & mask_words_[j];
  }
  uint32_t hash_of(const uint64_t* words) const noexcept {
    return simd::hash_words<B>(words, n_words_, 0) | 1u;
  }

  template <size_t N>
  uint32_t lookup_n(const FlowKey* keys, uint32_t todo, MegaflowEntry** out) const noexcept {
    constexpr size_t kW = N ? N : FlowKey::kWords;
    const uint32_t n = N ? uint32_t(N) : n_words_;
    uint64_t words[32][kW];
    uint32_t hashes[32];
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      const KeyWord* kw = keys[i].words();
      for (uint32_t j = 0; j < n; ++j) words[i][j] = kw[idx_[j]] & mask_words_[j];
      if constexpr (N != 0)
        hashes[i] = simd::hash_words<B, N>(words[i], 0) | 1u;
      else
        hashes[i] = simd::hash_words<B>(words[i], n, 0) | 1u;
      __builtin_prefetch(&buckets_[hashes[i] & bucket_mask_]);
    }
    // Second pass: the buckets are (nearly) in cache; prefetch the first
    // candidate's stored words and entry so the confirm pass overlaps the
    // misses of all packets instead of taking them one by one.
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      uint32_t b = hashes[i] & bucket_mask_;
      uint32_t cand = simd::match_u32<B>(buckets_[b].hashes, kBucketWays, hashes[i]);
      if (cand) {
        size_t slot = size_t(b) * kBucketWays + uint32_t(std::countr_zero(cand));
        __builtin_prefetch(&keys_[slot * n]);
        __builtin_prefetch(&entries_[slot]);
      }
    }
    uint32_t found = 0;
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      if (MegaflowEntry* e = find<N>(words[i], hashes[i])) {
        __builtin_prefetch(e);
        out[i] = e;
        found |= 1u << i;
      }
    }
    return found;
  }

  template <size_t N>
  MegaflowEntry* find(const uint64_t* probe, uint32_t h) const noexcept {
    const uint32_t n = N ? uint32_t(N) : n_words_;
    uint32_t b = h & bucket_mask_;
    for (uint32_t probes = 0;; ++probes) {
      uint32_t cand = simd::match_u32<B>(buckets_[b].hashes, kBucketWays, h);
      for (; cand; cand &= cand - 1) {
        size_t slot = size_t(b) * kBucketWays + uint32_t(std::countr_zero(cand));
        const uint64_t* stored = &keys_[slot * n];
        uint64_t diff = 0;
        for (uint32_t j = 0; j < n; ++j) diff |= stored[j] ^ probe[j];
        if (diff == 0) return entries_[slot];
      }
      if (!overflow_[b] || probes == max_probe_) return nullptr;
      b = (b + 1) & bucket_mask_;
    }
  }

  void place(MegaflowEntry* e, const uint64_t* words, uint32_t h) noexcept {
    uint32_t b = h & bucket_mask_;
    for (uint32_t probes = 0;; ++probes) {
      uint32_t empty = simd::match_u32<B>(buckets_[b].hashes, kBucketWays, 0);
      if (empty) {
        size_t slot = size_t(b) * kBucketWays + uint32_t(std::countr_zero(empty));
        buckets_[b].hashes[slot % kBucketWays] = h;
        std::memcpy(&keys_[slot * n_words_], words, n_words_ * sizeof(uint64_t));
        entries_[slot] = e;
        e->slot = uint32_t(slot);
        if (probes > max_probe_) max_probe_ = probes;
        return;
      }
      overflow_[b] = 1;
      b = (b + 1) & bucket_mask_;
    }
  }

  // Rebuilds the table with `slots` positions (a power of two >= 8); also
  // clears overflow flags left behind by removals.
  void resize(size_t slots) {
    std::vector<MegaflowEntry*> old;
    old.reserve(count_);
    for (MegaflowEntry* e : entries_)
      if (e) old.push_back(e);
    size_t n_buckets = slots / kBucketWays;
    buckets_.assign(n_buckets, Bucket{});
    overflow_.assign(n_buckets, 0);
    keys_.assign(slots * n_words_, 0);
    entries_.assign(slots, nullptr);
    bucket_mask_ = uint32_t(n_buckets - 1);
    max_probe_ = 0;
    uint64_t words[FlowKey::kWords];
    for (MegaflowEntry* e : old) {
      gather(e->match.value, words);
      place(e, words, hash_of(words));
    }
  }

  FlowMask mask_;
  uint32_t word_map_ = 0;
  uint32_t n_words_ = 0;
  uint8_t idx_[FlowKey::kWords] = {};
  uint64_t mask_words_[FlowKey::kWords] = {};
  uint32_t bucket_mask_ = 0;
  uint32_t max_probe_ = 0;  // farthest any entry sits from its home bucket
  size_t count_ = 0;
  std::vector<Bucket> buckets_;
  std::vector<uint8_t> overflow_;
  std::vector<uint64_t> keys_;  // slot * n_words_, compact masked words
  std::vector<MegaflowEntry*> entries_;
};

}  // namespace flowpath
