// flowpath/classify/megaflow_cache.hpp — the megaflow cache (OVS's dpcls).
//
// Design.  A megaflow is a (masked key, mask) pair the slow path produced;
// packets that agree with it on the mask's bits get its actions without an
// upcall.  Megaflows are grouped by mask into subtables (tuple space
// search): lookup probes one hash table per distinct mask.  Masks are few
// in practice (a bridge configuration produces a handful of shapes), and
// most traffic matches the same one or two, so subtables are kept in rank
// order — hits counted per subtable, re-sorted every `resort_interval`
// lookups — and a batch usually finishes in the first subtable it probes.
// When the first subtable took at least a quarter of the hits since the
// last sort, it is probed alone before the others (the "leader"): its traffic
// then costs one probe however many other masks exist, which is what keeps
// a victim's flows fast under a tuple-space explosion attack.
//
// Batch lookup: a 32-bit map of packets still unmatched goes through the
// subtables in rank order; each subtable hashes only those packets' masked
// words, prefetches, compares and clears the bits it matched
// (classify/megaflow_subtable.hpp).  The loop stops when the map is empty.
// With two or more subtables every key is first hashed once on the bits
// that all masks share (in_port at least, since the datapath always makes
// it exact); a subtable whose pre-filter bit for that hash is clear cannot
// hold the key and is skipped.  With flows spread evenly over 8 masks this
// cuts the probes per hit from ~4.5 to ~1.13.  The probe stages (hash +
// prefetch bucket; compare + prefetch entry; confirm) then run over all
// candidate subtables at once, so a batch waits for memory about twice,
// not twice per subtable.
//
// Limits (CVE-2019-25076, tuple space explosion): crafted traffic can make
// the slow path emit many distinct masks, and every extra mask costs every
// packet one more probe.  The cache therefore holds at most `max_flows`
// megaflows (default 200,000, as OVS) and `max_subtables` masks (default
// 1,024).  At a limit install() refuses and counts
// (install_refused_flow_limit / install_refused_subtable_limit); the
// datapath then executes the upcall's actions for that packet without
// caching them, so such packets are still forwarded correctly, each at the
// cost of an upcall.  Existing flows keep working.
//
// Overlap: two megaflows in different subtables may both match a key.  The
// slow path only installs a megaflow whose mask covers every bit its
// decision consulted, and the datapath removes megaflows whose translation
// changed, so overlapping megaflows always agree and rank order is free to
// change.
//
// Cost: see megaflow_subtable.hpp, times the subtables probed.  install()
// and remove() allocate (slow path).  Thread-safety: none (one datapath
// thread owns the cache).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/classify/megaflow_subtable.hpp"
#include "flowpath/simd/backend.hpp"

namespace flowpath {

struct MegaflowConfig {
  size_t max_flows = 200'000;
  size_t max_subtables = 1'024;
  uint32_t resort_interval = 1'024;  // batch lookups between re-sorts
};

struct MegaflowCounters {
  uint64_t installed = 0;
  uint64_t removed = 0;
  uint64_t install_refused_flow_limit = 0;
  uint64_t install_refused_subtable_limit = 0;
  uint64_t resorts = 0;
};

enum class InstallStatus { kInstalled, kExists, kFlowLimit, kSubtableLimit };

template <class B = simd::Default>
class MegaflowCache {
 public:
  using Subtable = MegaflowSubtable<B>;

  explicit MegaflowCache(MegaflowConfig cfg = {}) : cfg_(cfg) {}
  MegaflowCache(const MegaflowCache&) = delete;
  MegaflowCache& operator=(const MegaflowCache&) = delete;

  /// Looks up keys[i] for every bit i of `todo` (at most 32 keys); matches
  /// go to out[i].  Returns the bitmap of matched packets and adds the
  /// number of (packet, subtable) probes that ended in a hit to *probes
  /// (OVS's "subtable lookups per megaflow hit").
  uint32_t lookup_batch(const FlowKey* keys, uint32_t todo, MegaflowEntry** out,
                        uint64_t* probes = nullptr) noexcept {
    uint32_t found = 0;
    if (ranked_.size() == 1) {
      found = ranked_[0]->lookup_batch(keys, todo, out);
      ranked_[0]->hits += uint32_t(std::popcount(found));
      if (probes) *probes += uint32_t(std::popcount(found));
    } else if (!ranked_.empty()) {
      size_t first = 0;
      if (leader_) {  // one subtable takes most hits: probe it alone first
        found = ranked_[0]->lookup_batch(keys, todo, out);
        ranked_[0]->hits += uint32_t(std::popcount(found));
        if (probes) *probes += uint32_t(std::popcount(found));
        todo &= ~found;
        first = 1;
      }
      if (todo) found |= lookup_filtered(keys, todo, out, probes, first);
    }
    if (++lookups_since_sort_ >= cfg_.resort_interval) resort();
    return found;
  }

  MegaflowEntry* lookup(const FlowKey& key) noexcept {
    MegaflowEntry* out[1] = {nullptr};
    lookup_batch(&key, 1u, out);
    return out[0];
  }

  /// Installs key & mask -> actions.  Returns the entry (or the existing one
  /// with the same match), or nullptr at a limit (see *status).
  MegaflowEntry* install(const FlowKey& key, const FlowMask& mask, const DpActionList& actions,
                         const std::vector<std::shared_ptr<RuleStats>>& stats,
                         InstallStatus* status = nullptr) {
    InstallStatus st_dummy;
    InstallStatus& result = status ? *status : st_dummy;
    Subtable* st = find_subtable(mask);
    if (st) {
      if (MegaflowEntry* e = st->lookup(key)) {
        result = InstallStatus::kExists;
        return e;
      }
    }
    if (size_ >= cfg_.max_flows) {
      ++counters_.install_refused_flow_limit;
      result = InstallStatus::kFlowLimit;
      return nullptr;
    }
    if (!st) {
      if (ranked_.size() >= cfg_.max_subtables) {
        ++counters_.install_refused_subtable_limit;
        result = InstallStatus::kSubtableLimit;
        return nullptr;
      }
      st = add_subtable(mask);
    }
    MegaflowEntry* e = allocate();
    e->match = Match(key, mask);
    e->filter_hash = filter_hash_of(e->match.value);
    e->actions = actions;
    e->set_rule_stats(stats);
    e->packets = e->bytes = 0;
    e->used_ms = 0;
    e->tcp_flags = 0;
    e->batch_tag = 0;
    e->dead = false;
    e->recircs = true, e->keeps_key = false;
    e->subtable = st->index;
    st->insert(e);
    ++size_;
    ++counters_.installed;
    result = InstallStatus::kInstalled;
    return e;
  }

  /// Removes a live entry; pointers to it become stale (serial changes).
  void remove(MegaflowEntry* e) {
    if (e->dead) return;
    Subtable* st = subtables_[e->subtable].get();
    st->remove(e);
    e->dead = true;
    ++e->serial;
    e->actions.clear();
    e->rule_stats.clear();
    e->rules_owned = false;
    free_.push_back(e);
    --size_;
    ++counters_.removed;
    if (st->size() == 0) drop_subtable(st);
  }

  void flush() {
    std::vector<MegaflowEntry*> all;
    for_each([&](MegaflowEntry& e) { all.push_back(&e); });
    for (MegaflowEntry* e : all) remove(e);
  }

  /// Calls f(MegaflowEntry&) for every live megaflow (subtables in rank
  /// order).  f must not install or remove.
  template <class F>
  void for_each(F&& f) const {
    for (const Subtable* st : ranked_) st->for_each(f);
  }

  /// Re-sorts subtables by hits since the last sort (most hit first).
  /// The first subtable becomes the leader (probed alone, before the
  /// staged lookup of the rest) when it took at least a quarter of the
  /// hits: one probe for its share, against up to kStageSubtables staged
  /// probes, pays off well before that.
  void resort() {
    lookups_since_sort_ = 0;
    ++counters_.resorts;
    std::stable_sort(ranked_.begin(), ranked_.end(),
                     [](const Subtable* a, const Subtable* b) { return a->hits > b->hits; });
    uint64_t total = 0;
    for (const Subtable* st : ranked_) total += st->hits;
    leader_ = ranked_.size() > 1 && total && uint64_t(ranked_[0]->hits) * 4 >= total;
    for (Subtable* st : ranked_) st->hits = 0;
  }
  bool has_leader() const noexcept { return leader_; }

  size_t size() const noexcept { return size_; }
  size_t n_subtables() const noexcept { return ranked_.size(); }
  const MegaflowConfig& config() const noexcept { return cfg_; }
  const MegaflowCounters& counters() const noexcept { return counters_; }
  /// Subtables in rank order (for show commands and tests).
  const std::vector<Subtable*>& subtables() const noexcept { return ranked_; }

 private:
  static constexpr size_t kStageSubtables = 16;

  // Two or more subtables: pre-filter, then run each probe stage over up
  // to kStageSubtables candidate subtables before the next stage, so that
  // the bucket misses of all of them overlap, then the entry misses; a
  // subtable-at-a-time loop would wait for memory twice per subtable.
  // Confirmation goes in rank order; a packet confirmed in one subtable is
  // not confirmed in later ones (its prefetches there were wasted, which
  // the pre-filter makes rare).
  uint32_t lookup_filtered(const FlowKey* keys, uint32_t todo, MegaflowEntry** out,
                           uint64_t* probes, size_t first) noexcept {
    uint32_t fh[32];
    uint8_t tried[32];
    std::fill(std::begin(tried), std::end(tried), uint8_t(first));
    for (uint32_t m = todo; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      fh[i] = filter_hash_of(keys[i]);
    }
    uint32_t found = 0;
    typename Subtable::Probe probe[kStageSubtables];
    uint32_t map[kStageSubtables];
    Subtable* sts[kStageSubtables];
    for (size_t base = first; base < ranked_.size() && todo; base += kStageSubtables) {
      size_t n = 0;
      for (size_t k = base; k < ranked_.size() && k < base + kStageSubtables; ++k) {
        uint32_t pass = ranked_[k]->filter(fh, todo);
        if (!pass) continue;
        sts[n] = ranked_[k];
        map[n] = pass;
        sts[n]->stage_hash(keys, pass, probe[n]);
        ++n;
      }
      for (size_t k = 0; k < n; ++k) sts[k]->stage_match(map[k], probe[k]);
      for (size_t k = 0; k < n && todo; ++k) {
        const uint32_t pass = map[k] & todo;
        if (!pass) continue;
        for (uint32_t m = pass; m; m &= m - 1) ++tried[std::countr_zero(m)];
        uint32_t hit = sts[k]->stage_confirm(keys, pass, probe[k], out);
        if (!hit) continue;
        sts[k]->hits += uint32_t(std::popcount(hit));
        if (probes)
          for (uint32_t m = hit; m; m &= m - 1) *probes += tried[std::countr_zero(m)];
        found |= hit;
        todo &= ~hit;
      }
    }
    return found;
  }

  Subtable* find_subtable(const FlowMask& mask) noexcept {
    uint32_t h = simd::hash_masked<B>(mask, exact_mask(), 0);
    for (size_t i = 0; i < mask_hashes_.size(); ++i)
      if (mask_hashes_[i] == h && subtables_[i] && subtables_[i]->mask() == mask)
        return subtables_[i].get();
    return nullptr;
  }

  Subtable* add_subtable(const FlowMask& mask) {
    size_t i = 0;
    while (i < subtables_.size() && subtables_[i]) ++i;
    if (i == subtables_.size()) {
      subtables_.emplace_back();
      mask_hashes_.push_back(0);
    }
    subtables_[i] = std::make_unique<Subtable>(mask);
    subtables_[i]->index = uint32_t(i);
    mask_hashes_[i] = simd::hash_masked<B>(mask, exact_mask(), 0);
    ranked_.push_back(subtables_[i].get());
    narrow_common(mask);
    return subtables_[i].get();
  }

  // The pre-filter hashes the bits every subtable's mask has.  A new mask
  // can only narrow that set; when it does, every entry is re-hashed and
  // every filter rebuilt (rare: the set shrinks at most a few times).
  // Dropping a subtable leaves the set as it is (still valid, if narrower
  // than it could be) until the cache is empty.
  void narrow_common(const FlowMask& mask) {
    FlowMask next = ranked_.size() == 1 ? mask : common_;
    for (size_t w = 0; w < FlowKey::kWords; ++w) next.words()[w] &= mask.word(w);
    if (ranked_.size() > 1 && next == common_) return;
    common_ = next;
    n_common_ = 0;
    for (uint32_t m = mask_word_map(common_); m; m &= m - 1) {
      uint32_t w = uint32_t(std::countr_zero(m));
      common_idx_[n_common_] = uint8_t(w);
      common_words_[n_common_++] = common_.word(w);
    }
    for (Subtable* st : ranked_) {
      st->for_each([&](MegaflowEntry& e) { e.filter_hash = filter_hash_of(e.match.value); });
      st->rebuild_filter();
    }
  }

  uint32_t filter_hash_of(const FlowKey& key) const noexcept {
    const KeyWord* kw = key.words();
    uint64_t sum = 0;
    for (uint32_t j = 0; j < n_common_; ++j)
      sum += simd::hash_term(kw[common_idx_[j]] & common_words_[j], j);
    return simd::hash_finish(sum, n_common_, 0x6d66u);
  }

  void drop_subtable(Subtable* st) {
    ranked_.erase(std::find(ranked_.begin(), ranked_.end(), st));
    mask_hashes_[st->index] = 0;
    subtables_[st->index].reset();
    while (!subtables_.empty() && !subtables_.back()) {
      subtables_.pop_back();
      mask_hashes_.pop_back();
    }
  }

  MegaflowEntry* allocate() {
    if (!free_.empty()) {
      MegaflowEntry* e = free_.back();
      free_.pop_back();
      return e;
    }
    pool_.push_back(std::make_unique<MegaflowEntry>());
    return pool_.back().get();
  }

  MegaflowConfig cfg_;
  MegaflowCounters counters_;
  std::vector<std::unique_ptr<Subtable>> subtables_;  // by index (holes allowed)
  std::vector<uint32_t> mask_hashes_;
  std::vector<Subtable*> ranked_;
  std::vector<std::unique_ptr<MegaflowEntry>> pool_;
  std::vector<MegaflowEntry*> free_;
  size_t size_ = 0;
  uint32_t lookups_since_sort_ = 0;
  bool leader_ = false;  // see resort()
  FlowMask common_;      // bits in every subtable's mask (pre-filter key)
  uint32_t n_common_ = 0;
  uint8_t common_idx_[FlowKey::kWords] = {};
  uint64_t common_words_[FlowKey::kWords] = {};
};

}  // namespace flowpath
