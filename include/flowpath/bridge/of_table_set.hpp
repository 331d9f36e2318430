// flowpath/bridge/of_table_set.hpp — the storage under an OpenFlowTable
// (bridge/openflow_table.hpp): its 255 table shards (bridge/of_table_shard.hpp),
// the cookie index, the selection and order of flow-mods and dumps, bulk
// deletes, and the retired objects that wait to be freed.
//
//   OfTableSet<Classifier> s;
//   s.table(0).place(r);                      // the shard, made on first use
//   auto v = s.select(filter, /*use_out_port=*/true);
//   s.remove_cookie(c);                        // del-flows cookie=c/-1
//   auto g = s.take_garbage();                 // free outside the lock
//
// Bulk deletes: a delete that takes at least half of a big table rebuilds
// the table from the rules that stay, in their order (seq), instead of
// unlinking rules one by one: O(kept) inserts instead of O(removed)
// unlinks, each of which pays the classifier's bookkeeping (ranks,
// buckets, prefix tries).  A delete of at least kBulkChange rules of one
// table tells the change hook once, with the catch-all Match{}.  Removed
// rules, replaced tables and cookie sets taken whole go to the garbage,
// freed by take_garbage()'s caller, off the path of the flow-mod and of
// the barrier reply that follows it.
//
// Cost: select O(rules) for non-strict filters, O(selected) with a full
// cookie mask, O(1) average strict; sorted_if O(n log n) on keys copied out
// of the rules; remove_cookie O(surviving rules + cookies).
// Thread-safety: none; the OpenFlowTable's owner serialises everything.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "flowpath/bridge/of_cookie_index.hpp"
#include "flowpath/bridge/of_table_shard.hpp"

namespace flowpath {

template <class Classifier>
class OfTableSet {
 public:
  using Shard = OfTableShard<Classifier>;
  using ChangeHook = std::function<void(uint8_t table, const Match& match)>;
  static constexpr size_t kRebuildMin = 1024;
  static constexpr size_t kBulkChange = 64;

  /// Table `id`, made on first use (id < kOfNumTables).
  Shard& table(uint8_t id) {
    if (!tables_[id]) tables_[id] = std::make_unique<Shard>();
    return *tables_[id];
  }
  /// Table `id` when it exists, else nullptr.
  const Shard* find(uint8_t id) const noexcept {
    return id < kOfNumTables ? tables_[id].get() : nullptr;
  }
  size_t size() const noexcept {
    size_t n = 0;
    for (const auto& t : tables_)
      if (t) n += t->index.size();
    return n;
  }
  size_t size(uint8_t id) const noexcept {
    return id < kOfNumTables && tables_[id] ? tables_[id]->index.size() : 0;
  }
  int32_t max_priority() const noexcept {
    int32_t m = INT32_MIN;
    for (const auto& t : tables_)
      if (t && !t->priorities.empty()) m = std::max(m, t->priorities.rbegin()->first);
    return m;
  }
  OfCookieIndex& cookies() noexcept { return cookies_; }
  void set_hook(ChangeHook f) { hook_ = std::move(f); }
  bool has_hook() const noexcept { return bool(hook_); }
  void notify(uint8_t table, const Match& m) const {
    if (hook_) hook_(table, m);
  }
  /// Out of its table (every index but the cookies').
  void erase(const OfRule& r) { tables_[r.table_id]->erase(r); }

  template <class F>
  void for_each_rule(F&& f) const {
    for (const auto& t : tables_)
      if (t)
        for (const auto& [k, r] : t->index) f(r);
  }

  // A dump's selection and order: sorted on keys copied out of the rules
  // (no pointer chase per comparison: a 100,000-rule dump sorts 3x
  // faster), each with its index slot.  When every priority is an
  // OpenFlow one (16 bits) and every seq below 2^40 -- always but for
  // hidden rules -- the whole order packs into one word (table, inverted
  // priority, seq) and the sort compares that alone (~2x fewer
  // instructions than the two-word comparison).
  struct Sortable {
    uint64_t hi, seq;  // hi: table, then priority descending
    const OfRulePtr* r;
  };
  template <class Keep>
  std::vector<Sortable> sorted_if(uint8_t table_id, Keep& keep) const {
    std::vector<Sortable> v;
    v.reserve(table_id == kOfTableAll ? size()
              : tables_[table_id]     ? tables_[table_id]->index.size()
                                      : 0);
    bool packs = true;
    for (uint8_t id = 0; id < kOfNumTables; ++id) {
      if (!tables_[id] || (table_id != kOfTableAll && table_id != id)) continue;
      for (const auto& [k, r] : tables_[id]->index) {
        if (!keep(*r)) continue;
        packs &= r->priority >= 0 && r->priority <= 0xffff && r->seq < (uint64_t(1) << 40);
        v.push_back(
            {uint64_t(id) << 32 | (0xffffffffu - uint32_t(int64_t(r->priority) + 0x80000000ll)),
             r->seq, &r});
      }
    }
    if (packs) {
      for (Sortable& s : v) {  // table (8) | 0xffff - priority (16) | seq (40)
        uint64_t priority = 0x7fffffffull - (s.hi & 0xffffffffu);  // back from hi's low half
        s.hi = (s.hi >> 32) << 56 | (0xffff - priority) << 40 | s.seq;
      }
      std::sort(v.begin(), v.end(),
                [](const Sortable& a, const Sortable& b) { return a.hi < b.hi; });
      return v;
    }
    std::sort(v.begin(), v.end(), [](const Sortable& a, const Sortable& b) {
      return a.hi != b.hi ? a.hi < b.hi : a.seq < b.seq;
    });
    return v;
  }

  /// The rules a modify (use_out_port false) or delete selects.
  std::vector<OfRulePtr> select(const OfFlowFilter& flt, bool use_out_port) const {
    std::vector<OfRulePtr> out;
    auto consider = [&](const OfRulePtr& r) {
      if ((r->cookie & flt.cookie_mask) != (flt.cookie & flt.cookie_mask)) return;
      if (use_out_port && flt.out_port != kOfppNone && !r->outputs_to(flt.out_port)) return;
      out.push_back(r);
    };
    if (!flt.strict && flt.cookie_mask == ~uint64_t(0)) {  // the cookie index
      if (const auto* rules = cookies_.find(flt.cookie))
        for (const auto& [p, r] : *rules)
          if ((flt.table == kOfTableAll || flt.table == r->table_id) && flt.covers(r->match))
            consider(r);
      return out;
    }
    for (uint8_t id = 0; id < kOfNumTables; ++id) {
      if (!tables_[id] || (flt.table != kOfTableAll && flt.table != id)) continue;
      const Shard& t = *tables_[id];
      if (flt.strict) {
        Match m = flt.match;
        m.normalize();
        auto it = t.index.find(OfRuleKey{m, flt.priority});
        if (it != t.index.end()) consider(it->second);
      } else {
        for (const auto& [k, r] : t.index)
          if (flt.covers(r->match)) consider(r);
      }
    }
    return out;
  }

  /// Replaces table `id` by one holding its rules not in `gone`, inserted
  /// in their original order (seq), so ties between equal priorities go
  /// the same way as before.
  void rebuild_without(uint8_t id, const std::vector<OfRulePtr>& gone) {
    std::vector<const OfRule*> dead;
    for (const auto& r : gone)
      if (r->table_id == id) dead.push_back(r.get());
    std::sort(dead.begin(), dead.end());
    std::vector<OfRulePtr> keep;
    for (const auto& [k, r] : tables_[id]->index)
      if (!std::binary_search(dead.begin(), dead.end(), r.get())) keep.push_back(r);
    rebuild(id, std::move(keep));
  }

  /// A non-strict delete of every rule of one cookie (full cookie mask,
  /// catch-all match, no out_port, every table or the only one the cookie
  /// is in): what a controller sends to remove what it added.
  bool takes_whole_cookie(const OfFlowFilter& f) const {
    if (f.strict || f.cookie_mask != ~uint64_t(0) || f.out_port != kOfppNone) return false;
    if (!is_zero(f.match.mask) || f.match.has_meta()) return false;
    const auto* set = cookies_.find_set(f.cookie);
    if (!set) return false;
    if (f.table != kOfTableAll)
      for (auto [id, n] : set->per_table)
        if (n && id != f.table) return false;
    return true;
  }
  /// That delete without touching the removed rules: the cookie's index
  /// entry is taken whole, each table it (mostly) fills is rebuilt from
  /// its survivors, found through the other cookies when they are fewer
  /// than the table; only tables it barely touches pay per-rule erasures.
  /// The rules, their index nodes and the old tables go to the garbage.
  size_t remove_cookie(uint64_t cookie) {
    OfCookieIndex::Set gone = cookies_.take(cookie);
    const size_t others = size() - gone.rules.size();
    std::array<bool, kOfNumTables> piecemeal{};
    std::array<size_t, kOfNumTables> per_table{};
    for (auto [id, n] : gone.per_table) {
      per_table[id] = n;
      if (n == 0) continue;
      const Shard& t = *tables_[id];
      if (n < kRebuildMin || n * 2 < t.index.size()) {
        piecemeal[id] = true;
        continue;
      }
      std::vector<OfRulePtr> keep;
      keep.reserve(t.index.size() - n);
      if (others < t.index.size()) {
        // A copy: a lambda may not capture a structured binding before
        // C++20's P1091, which clang 14 (Debian 12's) lacks.
        const auto table = id;
        cookies_.for_each_except(cookie, [&](const OfRulePtr& r) {
          if (r->table_id == table) keep.push_back(r);
        });
      } else {
        for (const auto& [k, r] : t.index)
          if (r->cookie != cookie) keep.push_back(r);
      }
      rebuild(id, std::move(keep));
    }
    // Only a table the cookie barely touches needs its rules one by one.
    if (std::find(piecemeal.begin(), piecemeal.end(), true) != piecemeal.end())
      for (const auto& [p, r] : gone.rules) {
        if (!piecemeal[r->table_id]) continue;
        erase(*r);
        if (per_table[r->table_id] < kBulkChange) notify(r->table_id, r->match);
      }
    for (auto [id, n] : gone.per_table)
      if (n >= kBulkChange) notify(id, Match{});
    size_t n = gone.rules.size();
    old_cookie_sets_.push_back(std::move(gone));
    return n;
  }

  /// What flow-mods retired: the rules, the tables rebuilds replaced and the
  /// cookie sets deletes took whole.  Nothing else refers to them.
  struct Garbage {
    std::vector<OfRulePtr> rules;
    std::vector<std::unique_ptr<Shard>> tables;
    std::vector<OfCookieIndex::Set> cookie_sets;
  };
  Garbage take_garbage() noexcept {
    return {std::exchange(graveyard_, {}), std::exchange(old_tables_, {}),
            std::exchange(old_cookie_sets_, {})};
  }
  void retire(OfRulePtr r) { graveyard_.push_back(std::move(r)); }
  void retire(std::vector<OfRulePtr> rules) {
    if (graveyard_.empty()) {
      graveyard_ = std::move(rules);
    } else {
      graveyard_.insert(graveyard_.end(), std::make_move_iterator(rules.begin()),
                        std::make_move_iterator(rules.end()));
    }
  }
  void retire(OfCookieIndex::Set s) { old_cookie_sets_.push_back(std::move(s)); }

 private:
  /// Replaces table `id` by one holding `keep` (its survivors), inserted in
  /// their original order (seq); the old table goes to the garbage.
  void rebuild(uint8_t id, std::vector<OfRulePtr> keep) {
    std::sort(keep.begin(), keep.end(),
              [](const auto& a, const auto& b) { return a->seq < b->seq; });
    auto t = std::make_unique<Shard>();
    for (auto& r : keep) {
      t->place(r);
      t->index.emplace(OfRuleKey{r->match, r->priority}, r);
      ++t->priorities[r->priority];
    }
    old_tables_.push_back(std::move(tables_[id]));
    tables_[id] = std::move(t);
  }

  std::array<std::unique_ptr<Shard>, kOfNumTables> tables_{};
  OfCookieIndex cookies_;
  std::vector<OfRulePtr> graveyard_;                 // retired rules, freed with the garbage
  std::vector<std::unique_ptr<Shard>> old_tables_;   // replaced by rebuilds, likewise
  std::vector<OfCookieIndex::Set> old_cookie_sets_;  // taken whole by deletes, likewise
  ChangeHook hook_;
};

}  // namespace flowpath
