// flowpath/classify/classifier_v2_index.hpp — ClassifierV2's writer-side
// index of live rules by identity (match, priority, port ranges).
//
// An open-addressing table of Rule* keyed by the identity hash each rule
// caches (Rule::ihash): a find is one hash of the probe identity and, most
// often, one slot and one rule compare; insert and erase touch one slot.
// Why not std::unordered_multimap: on the update path it cost a node
// allocation per insert, a free per erase, a division per probe and the
// identity hash recomputed on every access (about a fifth of an update's
// time at 10K rules).  Linear probing, load (live + tombstones) <= 1/2,
// rebuilt in place when tombstones fill it.  RulePool recycles the rules'
// storage for the same reason (a rule is ~350 bytes; a dropped delta
// generation frees thousands at once, which glibc then coalesces and
// splits again: a tenth of an update's time).
// Thread-safety: writer only (the owner's lock).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "flowpath/classify/tuple_table.hpp"
#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath::classify_detail {

/// Hash of a rule's identity.  Four independent lanes over the 2 x 16 key
/// words (classifier_rule.hpp's identity_hash is one serial multiply chain
/// of 34 steps: 4% of an update), then one final mix.
inline uint64_t v2_identity_hash(const Match& m, int32_t priority, const PortRanges& rg) noexcept {
  static_assert(FlowKey::kWords % 2 == 0 && sizeof(PortRanges) <= 8);
  constexpr uint64_t k = 0xff51afd7ed558ccdull;
  uint64_t a = 1, b = 2, c = 3, d = 4;
  for (size_t i = 0; i < FlowKey::kWords; i += 2) {
    a = std::rotl((a ^ m.value.word(i)) * k, 31);
    b = std::rotl((b ^ m.value.word(i + 1)) * k, 31);
    c = std::rotl((c ^ m.mask.word(i)) * k, 31);
    d = std::rotl((d ^ m.mask.word(i + 1)) * k, 31);
  }
  uint64_t w[6] = {a, b, c, d, static_cast<uint32_t>(priority), 0};
  std::memcpy(&w[5], &rg, sizeof rg);
  return hash_words64(w, 6);
}

template <class Rule>
class RuleIndex {
 public:
  RuleIndex() : slots_(16, nullptr) {}

  /// The rule with hash h for which same(rule) holds, or nullptr.
  template <class Same>
  Rule* find(uint64_t h, Same&& same) const noexcept {
    size_t m = slots_.size() - 1;
    for (size_t i = h & m;; i = (i + 1) & m) {
      Rule* r = slots_[i];
      if (!r) return nullptr;
      if (r != tomb() && r->ihash == h && same(*r)) return r;
    }
  }
  void insert(Rule* r) {
    if ((n_ + tombs_ + 1) * 2 > slots_.size()) rehash();
    size_t m = slots_.size() - 1, i = r->ihash & m;
    while (slots_[i] && slots_[i] != tomb()) i = (i + 1) & m;
    if (slots_[i] == tomb()) --tombs_;
    slots_[i] = r;
    ++n_;
  }
  /// Removes r (which must be present).
  void erase(const Rule* r) noexcept {
    size_t m = slots_.size() - 1, i = r->ihash & m;
    while (slots_[i] != r) i = (i + 1) & m;
    // A slot followed by an empty one can become empty, not a tombstone.
    slots_[i] = slots_[(i + 1) & m] ? tomb() : nullptr;
    tombs_ += slots_[i] == tomb();
    --n_;
  }

  size_t size() const noexcept { return n_; }
  size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(Rule*); }
  template <class F>
  void for_each(F&& f) const {
    for (Rule* r : slots_)
      if (r && r != tomb()) f(r);
  }

 private:
  static Rule* tomb() noexcept { return reinterpret_cast<Rule*>(uintptr_t{1}); }
  void rehash() {
    std::vector<Rule*> old;
    old.swap(slots_);
    slots_.assign(std::bit_ceil(std::max<size_t>(16, (n_ + 1) * 4)), nullptr);
    n_ = tombs_ = 0;
    for (Rule* r : old)
      if (r && r != tomb()) insert(r);
  }

  std::vector<Rule*> slots_;
  size_t n_ = 0, tombs_ = 0;
};

/// Free list of Rule-sized blocks: at most `keep` (the caller's choice,
/// sized by its rule count) and never more than kKeep.
template <class Rule>
class RulePool {
 public:
  static constexpr size_t kKeep = 4096;
  RulePool() = default;
  RulePool(const RulePool&) = delete;
  RulePool& operator=(const RulePool&) = delete;
  ~RulePool() {
    for (void* p : free_) ::operator delete(p);
  }
  template <class... A>
  Rule* make(A&&... a) {
    void* p = free_.empty() ? ::operator new(sizeof(Rule)) : free_.back();
    if (!free_.empty()) free_.pop_back();
    try {
      return new (p) Rule(std::forward<A>(a)...);
    } catch (...) {
      ::operator delete(p);
      throw;
    }
  }
  void destroy(Rule* r, size_t keep) noexcept {
    r->~Rule();
    if (free_.size() < std::min(keep, kKeep))
      free_.push_back(r);  // reserved below kKeep: no allocation here
    else
      ::operator delete(r);
  }
  size_t memory_bytes() const noexcept { return free_.size() * sizeof(Rule); }

 private:
  std::vector<void*> free_ = [] {
    std::vector<void*> v;
    v.reserve(kKeep);
    return v;
  }();
};

}  // namespace flowpath::classify_detail
