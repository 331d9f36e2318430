// flowpath/datapath/dependency_index.hpp — which cached megaflows a slow-
// path change can affect.
//
// Every megaflow installed from a tracked upcall is recorded with what its
// translation consulted (XlateDeps, datapath/change_journal.hpp):
//   * each OpenFlow table lookup as (owner, table, K & wc, wc): the lookup
//     key masked by the bits that lookup consulted.  Any key agreeing with K
//     on wc gets the same rule, so a rule change with match M can alter the
//     lookup only if M overlaps that region: (K ^ M.value) & M.mask & wc
//     == 0.  This covers adds (a new rule must match a key of the region to
//     win), removals and modifications (the removed rule was the winner, so
//     it matches the region);
//   * each MAC table lookup as (owner, vlan, mac): only a change of that
//     entry (learned, moved, aged out, evicted) can change its answer.
// and the journal position its translation saw (changes numbered below it
// are already in the decision).
//
// Index.  MAC lookups: a hash map (owner, vlan, mac) -> megaflows.  Table
// lookups: grouped by (owner, table, wc); within a group a hash map of
// K & wc -> megaflows.  A rule change whose match covers a group's wc probes
// one bucket (M.value & wc); otherwise the group is scanned with the exact
// overlap test.  Hash collisions only invalidate more: never wrong.
//
// References are not removed when a megaflow dies: each carries the
// megaflow's serial and is skipped once stale; the index is compacted in
// place when stale references outnumber live ones (O(1) amortised per
// install).
//
// Cost: add O(deps); invalidate O(1 + matching references) for a MAC or a
// rule whose match covers the lookups' wc, O(group size) otherwise.
// Thread-safety: none (one datapath thread).
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <unordered_map>
#include <vector>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/datapath/change_journal.hpp"

namespace flowpath {

class DependencyIndex {
 public:
  /// Records what e's translation consulted; `seq` is the journal position
  /// after it (UpcallResult::journal_seq).  Appends when e is already
  /// recorded with its current serial (a second translation of it).
  void add(MegaflowEntry* e, const XlateDeps& deps, uint64_t seq) {
    auto [it, fresh] = records_.try_emplace(e);
    Record& rec = it->second;
    if (fresh || rec.serial != e->serial) {
      dead_refs_ += fresh ? 0 : rec.nrefs;
      live_refs_ -= fresh ? 0 : std::min<uint64_t>(live_refs_, rec.nrefs);
      rec = Record{e->serial, seq, {}, {}, 0};
    } else if (seq < rec.seq) {
      rec.seq = seq;  // the older of the two translations decides
    }
    rec.tables.reserve(rec.tables.size() + deps.tables.size());
    rec.macs.reserve(rec.macs.size() + deps.macs.size());
    for (const TableDep& d : deps.tables) {
      rec.tables.push_back(d);
      add_table_ref(e, rec, uint32_t(rec.tables.size() - 1));
    }
    for (const MacDep& d : deps.macs) {
      rec.macs.push_back(d);
      macs_[mac_key(d.owner, d.vlan, d.mac)].push_back(Ref{e, rec.serial, 0, rec.seq, 0});
      ++rec.nrefs;
      ++live_refs_;
    }
  }

  /// Calls remove(e) once for every live recorded megaflow that change `c`
  /// (kMac or kRule) may affect; returns how many.
  template <class F>
  size_t invalidate(const CacheChange& c, F&& remove) {
    size_t n = 0;
    auto hit = [&](const Ref& r) {
      if (!r.e->alive(r.serial) || r.seq > c.seq) return;
      forget(r.e);
      remove(r.e);
      ++n;
    };
    if (c.kind == CacheChange::Kind::kMac) {
      auto it = macs_.find(mac_key(c.owner, c.vlan, c.mac));
      if (it != macs_.end()) {
        // Keep only what survives: megaflows translated after the change.
        std::vector<Ref>& refs = it->second;
        size_t keep = 0;
        for (size_t i = 0; i < refs.size(); ++i) {
          hit(refs[i]);
          if (refs[i].e->alive(refs[i].serial)) refs[keep++] = refs[i];
        }
        refs.resize(keep);
        if (refs.empty()) macs_.erase(it);
      }
    } else if (c.kind == CacheChange::Kind::kRule) {
      auto git = by_table_.find(owner_table(c.owner, c.table));
      if (git != by_table_.end())
        for (uint32_t gi : git->second) invalidate_group(*groups_[gi], c, hit);
    }
    maybe_rebuild();
    return n;
  }

  void clear() {
    records_.clear();
    macs_.clear();
    groups_.clear();
    by_table_.clear();
    by_shape_.clear();
    live_refs_ = dead_refs_ = 0;
  }

  size_t groups() const noexcept { return groups_.size(); }
  uint64_t live_refs() const noexcept { return live_refs_; }
  uint64_t stale_refs() const noexcept { return dead_refs_; }
  uint64_t rebuilds() const noexcept { return rebuilds_; }

 private:
  struct Ref {
    MegaflowEntry* e;
    uint32_t serial;
    uint32_t dep;  // index into the record's tables (table references)
    uint64_t seq;
    uint64_t hash;  // table references: key_hash(K & wc)
  };
  struct Record {
    uint32_t serial = 0;
    uint64_t seq = 0;
    std::vector<TableDep> tables;
    std::vector<MacDep> macs;
    uint32_t nrefs = 0;
  };
  struct Group {
    uint32_t owner;
    uint8_t table;
    FlowMask wc;
    std::vector<Ref> refs;                                       // every reference, for scans
    std::unordered_map<uint64_t, std::vector<uint32_t>> by_key;  // hash(K & wc) -> refs[]
  };

  static uint64_t mix(uint64_t h, uint64_t v) noexcept {
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
  }
  static uint64_t mac_key(uint32_t owner, uint16_t vlan, const EthAddr& mac) noexcept {
    uint64_t m = 0;
    for (int i = 0; i < 6; ++i) m = m << 8 | mac.b[i];
    return mix(mix(owner, vlan), m);
  }
  static uint64_t owner_table(uint32_t owner, uint8_t table) noexcept {
    return uint64_t(owner) << 8 | table;
  }
  static uint64_t key_hash(const FlowKey& k) noexcept {
    uint64_t h = 0;
    for (size_t i = 0; i < FlowKey::kWords; ++i) h = mix(h, k.word(i));
    return h;
  }

  Group& group_for(const TableDep& d) {
    uint64_t shape = mix(key_hash(d.wc), owner_table(d.owner, d.table));
    auto& candidates = by_shape_[shape];
    for (uint32_t gi : candidates) {
      Group& g = *groups_[gi];
      if (g.owner == d.owner && g.table == d.table && g.wc == d.wc) return g;
    }
    auto idx = uint32_t(groups_.size());
    groups_.push_back(std::make_unique<Group>(Group{d.owner, d.table, d.wc, {}, {}}));
    candidates.push_back(idx);
    by_table_[owner_table(d.owner, d.table)].push_back(idx);
    return *groups_.back();
  }

  void add_table_ref(MegaflowEntry* e, Record& rec, uint32_t dep) {
    const TableDep& d = rec.tables[dep];
    Group& g = group_for(d);
    uint64_t h = key_hash(masked(d.key, d.wc));
    g.by_key[h].push_back(uint32_t(g.refs.size()));
    g.refs.push_back(Ref{e, rec.serial, dep, rec.seq, h});
    ++rec.nrefs;
    ++live_refs_;
  }

  template <class Hit>
  void invalidate_group(Group& g, const CacheChange& c, Hit& hit) {
    FlowMask common = masked(c.match.mask, g.wc);
    if (common == g.wc) {  // the rule pins every bit the lookups consulted
      auto it = g.by_key.find(key_hash(masked(c.match.value, g.wc)));
      if (it == g.by_key.end()) return;
      std::vector<uint32_t>& ids = it->second;
      size_t keep = 0;
      for (size_t i = 0; i < ids.size(); ++i) {
        const Ref& r = g.refs[ids[i]];
        hit(r);
        if (r.e->alive(r.serial)) ids[keep++] = ids[i];
      }
      ids.resize(keep);
      if (ids.empty()) g.by_key.erase(it);
      return;
    }
    for (const Ref& r : g.refs) {
      if (!r.e->alive(r.serial) || r.seq > c.seq) continue;
      auto rit = records_.find(r.e);
      if (rit == records_.end() || rit->second.serial != r.serial) continue;
      const FlowKey& k = rit->second.tables[r.dep].key;
      bool overlap = true;
      for (size_t w = 0; w < FlowKey::kWords && overlap; ++w)
        overlap = ((k.word(w) ^ c.match.value.word(w)) & common.word(w)) == 0;
      if (overlap) hit(r);
    }
  }

  void forget(MegaflowEntry* e) {
    auto it = records_.find(e);
    if (it == records_.end()) return;
    dead_refs_ += it->second.nrefs;
    live_refs_ -= std::min<uint64_t>(live_refs_, it->second.nrefs);
    records_.erase(it);
  }

  // Drops stale references in place: O(references), no re-hashing of
  // masks or keys (each reference kept its bucket's hash).
  void maybe_rebuild() {
    if (dead_refs_ <= live_refs_ + 4096) return;
    ++rebuilds_;
    auto alive = [](const Ref& r) { return r.e->alive(r.serial); };
    for (auto it = records_.begin(); it != records_.end();)
      it = it->first->alive(it->second.serial) ? std::next(it) : records_.erase(it);
    uint64_t live = 0;
    for (auto it = macs_.begin(); it != macs_.end();) {
      auto& v = it->second;
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Ref& r) { return !alive(r); }), v.end());
      live += v.size();
      it = v.empty() ? macs_.erase(it) : std::next(it);
    }
    for (auto& g : groups_) {
      auto& v = g->refs;
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Ref& r) { return !alive(r); }), v.end());
      g->by_key.clear();
      for (uint32_t i = 0; i < v.size(); ++i) g->by_key[v[i].hash].push_back(i);
      live += v.size();
    }
    live_refs_ = live;
    dead_refs_ = 0;
  }

  std::unordered_map<MegaflowEntry*, Record> records_;
  std::unordered_map<uint64_t, std::vector<Ref>> macs_;
  std::vector<std::unique_ptr<Group>> groups_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_table_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_shape_;
  uint64_t live_refs_ = 0, dead_refs_ = 0, rebuilds_ = 0;
};

}  // namespace flowpath
