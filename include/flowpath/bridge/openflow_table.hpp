// flowpath/bridge/openflow_table.hpp — a switch's OpenFlow tables: 255
// tables (ids 0..254) of rules with priorities, cookies, timeouts, actions
// and per-rule stats, with the flow-mod operations and the dump-flows text
// of ovs-ofctl.
//
//   OpenFlowTable<> t(&clock);
//   t.add(parse_flow("priority=3,in_port=1 actions=NORMAL"));
//   const OfRule* r = t.lookup(0, key, &wc);   // wc |= bits consulted
//   r->stats->add(1, 60, clock.now_ms());      // the datapath credits hits
//   t.expire();                                // idle/hard timeouts
//   std::cout << t.dump_flows();
//
// Semantics (OpenFlow 1.0 as Open vSwitch implements it):
// - add: a rule with the same match and priority in the same table is
//   replaced; its counters and age restart (ADD resets counts).
// - modify: replaces the actions of the selected rules, keeps their
//   counters, restarts hard_age; never adds.  delete removes them.
//   A published rule never changes but for its atomic counters: modify
//   installs a copy (same counters, age, order) and retires the old rule
//   like a delete, so a reader that pinned rules (shared_rules_if: a flow
//   dump) may read them after the owner's lock is released.
//   Strict selection: same match and priority.  Non-strict: every rule at
//   least as specific as the filter's match (any priority).  Both may be
//   narrowed by cookie/mask, delete also by out_port (an output action).
// - lookup: highest priority wins, ties go to the rule added first (the
//   classifier's contract, classify/linear_classifier.hpp).  Rules that
//   match pipeline metadata (registers, conj_id, ct_label) and conjunction
//   clauses live in a per-table side list ordered by priority, scanned
//   after the classifier down to its hit's priority (their key masks go
//   into wc: the registers themselves never reach a megaflow, they derive
//   from the key).  Conjunctive match as OVS: clauses (actions
//   conjunction(ID,K/N)) above the best ordinary rule are collected; when
//   all N clauses of an ID matched, the table is looked up again with
//   conj_id=ID and a rule found there above the ordinary one wins.
// - generation() increments on every change, so caches built from lookups
//   (megaflows) know when to revalidate.
// - set_change_hook(f): f(table, match) for every rule added, modified or
//   removed (expiry included) -- once with the catch-all Match{} for a
//   delete of kBulkChange or more rules of a table; set_lookup_log(&f): f(table, key, wc) for
//   every lookup, wc being the bits that lookup consulted.  Together they
//   let a datapath invalidate only the flows a change can affect
//   (datapath/dependency_index.hpp).
//
// The classifier is a template parameter with the LinearClassifier API
// over OfRulePtr values, so switching to a faster one is a one-line change.
//
// Cost: lookup = one classifier lookup per table; flow-mods O(rules) for
// non-strict selections, O(selected) for a full cookie mask (cookie index,
// bridge/of_cookie_index.hpp), O(1) average for strict ones.  A delete of
// a whole cookie that fills its tables (del-flows cookie=C/-1) is
// O(surviving rules + cookies): no removed rule is touched.  Removed
// rules are freed by reclaim() or the next expire(), not by the flow-mod.
// Thread-safety: none; one control thread owns the tables.  The data path
// only touches the shared RuleStats (atomics).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flowpath/bridge/of_cookie_index.hpp"
#include "flowpath/bridge/of_rule.hpp"
#include "flowpath/classify/linear_classifier.hpp"
#include "flowpath/core/clock.hpp"
#include "flowpath/flow/ct_label_ids.hpp"

namespace flowpath {

template <class Classifier = LinearClassifier<OfRulePtr>>
class OpenFlowTable {
 public:
  explicit OpenFlowTable(const Clock* clock = Clock::system()) : clock_(clock) {}

  /// OpenFlow ADD.  Returns the installed rule.
  const OfRule& add(uint8_t table_id, const Match& match, int32_t priority, OfActionList actions,
                    uint64_t cookie = 0, uint16_t idle_timeout = 0, uint16_t hard_timeout = 0) {
    if (table_id >= kOfNumTables)
      throw Error("table " + std::to_string(table_id) + ": no such table");
    auto r = std::make_shared<OfRule>();
    r->match = match;
    r->match.normalize();
    r->priority = priority;
    r->cookie = cookie;
    r->table_id = table_id;
    r->idle_timeout = idle_timeout;
    r->hard_timeout = hard_timeout;
    r->actions = std::move(actions);
    r->stats = std::make_shared<RuleStats>();
    r->created_ms = r->modified_ms = clock_->now_ms();
    r->seq = next_seq_++;
    Table& t = table(table_id);
    auto [it, inserted] = t.index.try_emplace(RuleKey{r->match, priority}, r);
    if (!inserted) {
      unplace(t, *it->second);
      cookies_.remove(it->second.get());
      graveyard_.push_back(std::move(it->second));
      it->second = r;
    } else {
      ++t.priorities[priority];
    }
    place(t, r);
    cookies_.add(r);
    ++generation_;
    if (hook_) hook_(table_id, r->match);
    return *r;
  }
  const OfRule& add(const OfctlFlow& f) {
    return add(f.table_given && f.table != kOfTableAll ? f.table : 0, f.match, f.priority,
               f.actions, f.cookie, f.idle_timeout, f.hard_timeout);
  }

  /// OpenFlow MODIFY / MODIFY_STRICT: new actions for the selected rules.
  size_t modify(const OfFlowFilter& filter, const OfActionList& actions) {
    auto rules = select(filter, /*use_out_port=*/false);
    int64_t now = clock_->now_ms();
    for (auto& r : rules) {
      // Copy on write: a published rule never changes (but its counters),
      // so a flow dump may encode rules it pinned outside the owner's lock
      // (shared_rules_if).  The copy keeps the counters, age and order.
      auto n = std::make_shared<OfRule>(*r);
      n->actions = actions;
      n->modified_ms = now;
      Table& t = *tables_[r->table_id];
      unplace(t, *r);  // a rule may become (or stop being) a conjunction clause
      place(t, n);
      t.index.find(RuleKey{r->match, r->priority})->second = n;
      cookies_.add(n);
      cookies_.remove(r.get());
      if (hook_) hook_(n->table_id, n->match);
      graveyard_.push_back(std::move(r));
    }
    if (!rules.empty()) ++generation_;
    return rules.size();
  }

  /// OpenFlow DELETE / DELETE_STRICT.  Returns the number removed.
  /// A delete that takes at least half of a big table (`del-flows` of
  /// everything a controller added) rebuilds that table from the rules
  /// that stay, in their order, instead of unlinking rules one by one:
  /// O(kept) inserts instead of O(removed) unlinks, each of which pays
  /// the classifier's bookkeeping (ranks, buckets, prefix tries).
  /// A delete of at least kBulkChange rules of one table tells the change
  /// hook once, with the catch-all match ("anything in this table may have
  /// changed"), instead of once per rule: caches then drop what consulted
  /// that table, as they would after the journal overflowed anyway.
  /// Removed rules are freed later (reclaim(), expire()), off the path of
  /// the flow-mod and of the barrier reply that follows it.
  size_t remove(const OfFlowFilter& filter) {
    if (takes_whole_cookie(filter)) return remove_cookie(filter.cookie);
    auto rules = select(filter, /*use_out_port=*/true);
    std::array<size_t, kOfNumTables> per_table{};
    std::array<bool, kOfNumTables> rebuilt{};
    for (const auto& r : rules) ++per_table[r->table_id];
    for (uint8_t id = 0; id < kOfNumTables; ++id)
      if (per_table[id] >= kRebuildMin && per_table[id] * 2 >= tables_[id]->index.size())
        rebuild_without(id, rules), rebuilt[id] = true;
    // Every rule of the cookie goes: drop its index entry whole, freed later.
    bool whole_cookie = filter.cookie_mask == ~uint64_t(0) && !rules.empty() &&
                        cookies_.count(filter.cookie) == rules.size();
    if (whole_cookie) old_cookie_sets_.push_back(cookies_.take(filter.cookie));
    for (auto& r : rules) {
      if (!whole_cookie) cookies_.remove(r.get());
      if (!rebuilt[r->table_id]) erase(*r);  // else already out of the rebuilt table
      if (hook_ && per_table[r->table_id] < kBulkChange) hook_(r->table_id, r->match);
    }
    for (uint8_t id = 0; id < kOfNumTables; ++id)
      if (hook_ && per_table[id] >= kBulkChange) hook_(id, Match{});
    if (!rules.empty()) ++generation_;
    size_t n = rules.size();
    retire(std::move(rules));
    return n;
  }
  static constexpr size_t kRebuildMin = 1024;
  static constexpr size_t kBulkChange = 64;

  /// Best rule of `table_id` for `key` (and the translation's registers in
  /// `meta`; nullptr: all zero), or nullptr; ORs consulted bits into *wc.
  const OfRule* lookup(uint8_t table_id, const FlowKey& key, FlowMask* wc = nullptr,
                       const PipelineMeta* meta = nullptr) const {
    if (lookup_log_) return logged_lookup(table_id, key, wc, meta);
    return lookup_conj(table_id, key, wc, meta);
  }

  using ChangeHook = std::function<void(uint8_t table, const Match& match)>;
  using LookupLog = std::function<void(uint8_t table, const FlowKey& key, const FlowMask& wc)>;
  /// f(table, match) after each rule added, modified or removed.
  void set_change_hook(ChangeHook f) { hook_ = std::move(f); }
  /// Calls *f for each lookup while set (nullptr: off); f outlives that.
  void set_lookup_log(const LookupLog* f) const noexcept { lookup_log_ = f; }

  /// Removes rules whose idle or hard timeout passed; returns how many.
  /// Idle time counts from the last hit (RuleStats::used_ms) or creation,
  /// hard time from creation or the last modify (as OVS does).
  size_t expire(std::vector<OfRulePtr>* removed = nullptr) {
    int64_t now = clock_->now_ms();
    std::vector<OfRulePtr> dead;
    for_each_rule([&](const OfRulePtr& r) {
      bool hard = r->hard_timeout && now - r->modified_ms >= int64_t(r->hard_timeout) * 1000;
      bool idle = r->idle_timeout && now - r->last_used_ms() >= int64_t(r->idle_timeout) * 1000;
      if (hard || idle) dead.push_back(r);
    });
    reclaim();  // the periodic path: free what flow-mods retired
    for (auto& r : dead) {
      cookies_.remove(r.get());
      erase(*r);
      if (hook_) hook_(r->table_id, r->match);
    }
    if (!dead.empty()) ++generation_;
    if (removed) removed->insert(removed->end(), dead.begin(), dead.end());
    return dead.size();
  }

  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  size_t size() const noexcept {
    size_t n = 0;
    for (const auto& t : tables_)
      if (t) n += t->index.size();
    return n;
  }
  /// Rules of one table, O(1) (table stats: no walk of 100,000 rules).
  size_t size(uint8_t table_id) const noexcept {
    return table_id < kOfNumTables && tables_[table_id] ? tables_[table_id]->index.size() : 0;
  }
  const Clock* clock() const noexcept { return clock_; }
  /// The highest priority of any rule (INT32_MIN: no rules), O(1): lets a
  /// caller skip looking for special rules (e.g. hidden ones) in a big table.
  int32_t max_priority() const noexcept {
    int32_t m = INT32_MIN;
    for (const auto& t : tables_)
      if (t && !t->priorities.empty()) m = std::max(m, t->priorities.rbegin()->first);
    return m;
  }

  /// The rule of `table_id` with exactly this match and priority, or nullptr.
  const OfRule* find(uint8_t table_id, const Match& match, int32_t priority) const {
    if (table_id >= kOfNumTables || !tables_[table_id]) return nullptr;
    Match m = match;
    m.normalize();
    const auto& index = tables_[table_id]->index;
    auto it = index.find(RuleKey{m, priority});
    return it == index.end() ? nullptr : it->second.get();
  }

  /// Rules of one table (or all), by table, then priority descending, then age.
  /// Sorted on keys copied out of the rules (no pointer chase per
  /// comparison: a 100,000-rule dump sorts 3x faster).
  std::vector<const OfRule*> rules(uint8_t table_id = kOfTableAll) const {
    return rules_if(table_id, [](const OfRule&) { return true; });
  }
  /// rules(table_id) for which keep(rule) holds, tested while the rule is
  /// in cache anyway (a dump's selection: one pass over 100,000 rules less).
  template <class Keep>
  std::vector<const OfRule*> rules_if(uint8_t table_id, Keep&& keep) const {
    auto v = sorted_if(table_id, keep);
    std::vector<const OfRule*> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i].r->get();
    return out;
  }
  /// rules_if() with each rule pinned: rules never change once published
  /// (modify copies), so the caller may read them after dropping its lock.
  template <class Keep>
  std::vector<std::shared_ptr<const OfRule>> shared_rules_if(uint8_t table_id, Keep&& keep) const {
    auto v = sorted_if(table_id, keep);
    std::vector<std::shared_ptr<const OfRule>> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = *v[i].r;
    return out;
  }

  /// One line of `ovs-ofctl dump-flows` for `r` (without the leading space).
  std::string format_rule(const OfRule& r, const PortNamer* namer = nullptr) const {
    return format_rule_stats(r, clock_->now_ms(), namer);
  }

  /// `ovs-ofctl dump-flows` output: one line per rule, each starting with
  /// a space as ovs-ofctl prints them, ending in '\n'.
  std::string dump_flows(uint8_t table_id = kOfTableAll, const PortNamer* namer = nullptr) const {
    std::string s;
    int64_t now = clock_->now_ms();
    for (const OfRule* r : rules(table_id)) s += " " + format_rule_stats(*r, now, namer) + "\n";
    return s;
  }

 private:
  struct RuleKey {
    Match match;
    int32_t priority;
    friend bool operator==(const RuleKey&, const RuleKey&) = default;
  };
  struct RuleKeyHash {
    size_t operator()(const RuleKey& k) const noexcept {
      uint64_t h = uint64_t(k.priority) * 0x9e3779b97f4a7c15ull;
      for (size_t i = 0; i < FlowKey::kWords; ++i) {
        h = (h ^ k.match.value.word(i)) * 0xff51afd7ed558ccdull;
        h = (h ^ k.match.mask.word(i)) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
      }
      return size_t(h);
    }
  };
  struct Table {
    Classifier cls;
    std::unordered_map<RuleKey, OfRulePtr, RuleKeyHash> index;
    std::vector<OfRulePtr> side;           // needs_side_list() rules: priority desc, then seq
    std::map<int32_t, size_t> priorities;  // rules per priority (max_priority())
  };

 public:
  /// What flow-mods retired: the rules, the tables rebuilds replaced and the
  /// cookie sets deletes took whole.  Nothing else refers to them.
  struct Garbage {
    std::vector<OfRulePtr> rules;
    std::vector<std::unique_ptr<Table>> tables;
    std::vector<OfCookieIndex::Set> cookie_sets;
  };
  /// Hands the retired objects over, so that the caller can free them
  /// after releasing its lock (freeing 100,000 rules takes ~0.1-0.4 s).
  Garbage take_garbage() noexcept {
    return {std::exchange(graveyard_, {}), std::exchange(old_tables_, {}),
            std::exchange(old_cookie_sets_, {})};
  }
  /// Frees the rules (and rebuilt tables) that flow-mods retired.
  void reclaim() noexcept { take_garbage(); }

 private:
  static void place(Table& t, const OfRulePtr& r) {
    if (!r->needs_side_list()) {
      t.cls.insert(r->match, r->priority, r);
      return;
    }
    auto before = [](const OfRulePtr& a, const OfRulePtr& b) {
      return a->priority != b->priority ? a->priority > b->priority : a->seq < b->seq;
    };
    t.side.insert(std::upper_bound(t.side.begin(), t.side.end(), r, before), r);
  }
  static void unplace(Table& t, const OfRule& r) {
    if (!r.needs_side_list()) return void(t.cls.remove(r.match, r.priority));
    std::erase_if(t.side, [&](const OfRulePtr& x) { return x.get() == &r; });
  }
  static bool beats(const OfRule& a, const OfRule* b) {
    return !b || a.priority > b->priority || (a.priority == b->priority && a.seq < b->seq);
  }

  // Classifier, then the side list down to the hit's priority.
  const OfRule* lookup_plain(const Table& t, const FlowKey& key, FlowMask* wc,
                             const PipelineMeta& meta) const {
    auto* hit = t.cls.lookup(key, wc);
    const OfRule* best = hit ? hit->value.get() : nullptr;
    for (const auto& r : t.side) {
      if (!beats(*r, best)) break;
      if (wc) {
        mask_union(*wc, r->match.mask);
        // ct_label rides in the key as an id (flow/ct_label_ids.hpp): a
        // consulted label bit pins the whole id.
        if (!CtLabelIds::is_zero(r->match.meta_mask.ct_label)) wc->ct_label_id = ~0u;
      }
      if (!r->is_conjunctive() && r->match.matches(key, meta)) return r.get();
    }
    return best;
  }

  const OfRule* lookup_conj(uint8_t table_id, const FlowKey& key, FlowMask* wc,
                            const PipelineMeta* meta_in) const {
    if (table_id >= kOfNumTables || !tables_[table_id]) return nullptr;
    const Table& t = *tables_[table_id];
    static const PipelineMeta kZero{};
    const PipelineMeta& meta = meta_in ? *meta_in : kZero;
    const OfRule* hard = lookup_plain(t, key, wc, meta);
    // Soft matches above the hard one: clauses seen per conjunction id.
    struct Conj {
      uint32_t id;
      uint8_t n;
      uint64_t seen;
    };
    std::vector<Conj> conj;
    for (const auto& r : t.side) {
      if (!beats(*r, hard)) break;
      if (!r->is_conjunctive() || !r->match.matches(key, meta)) continue;
      for (const auto& a : r->actions) {
        auto it = std::find_if(conj.begin(), conj.end(),
                               [&](const Conj& c) { return c.id == a.u32 && c.n == a.n_clauses; });
        if (it == conj.end()) it = conj.insert(conj.end(), Conj{a.u32, a.n_clauses, 0});
        it->seen |= uint64_t(1) << (a.clause - 1);
      }
    }
    for (const auto& c : conj) {
      if (c.seen != (c.n == 64 ? ~uint64_t(0) : (uint64_t(1) << c.n) - 1)) continue;
      PipelineMeta with = meta;
      with.conj_id = Be32{c.id};
      const OfRule* r = lookup_plain(t, key, wc, with);
      if (r && r != hard && match_has(r->match, FieldId::kConjId) && beats(*r, hard)) return r;
    }
    return hard;
  }

  Table& table(uint8_t id) {
    if (!tables_[id]) tables_[id] = std::make_unique<Table>();
    return *tables_[id];
  }

  // rules_if's selection and order: sorted on keys copied out of the
  // rules, each with its index slot.
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
    for (uint8_t id = 0; id < kOfNumTables; ++id) {
      if (!tables_[id] || (table_id != kOfTableAll && table_id != id)) continue;
      for (const auto& [k, r] : tables_[id]->index)
        if (keep(*r))
          v.push_back(
              {uint64_t(id) << 32 | (0xffffffffu - uint32_t(int64_t(r->priority) + 0x80000000ll)),
               r->seq, &r});
    }
    std::sort(v.begin(), v.end(), [](const Sortable& a, const Sortable& b) {
      return a.hi != b.hi ? a.hi < b.hi : a.seq < b.seq;
    });
    return v;
  }

  template <class F>
  void for_each_rule(F&& f) const {
    for (const auto& t : tables_)
      if (t)
        for (const auto& [k, r] : t->index) f(r);
  }

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
      const Table& t = *tables_[id];
      if (flt.strict) {
        Match m = flt.match;
        m.normalize();
        auto it = t.index.find(RuleKey{m, flt.priority});
        if (it != t.index.end()) consider(it->second);
      } else {
        for (const auto& [k, r] : t.index)
          if (flt.covers(r->match)) consider(r);
      }
    }
    return out;
  }

  const OfRule* logged_lookup(uint8_t table_id, const FlowKey& key, FlowMask* wc,
                              const PipelineMeta* meta) const {
    FlowMask own{};  // this lookup's bits alone, whatever *wc held before
    const OfRule* rule = lookup_conj(table_id, key, &own, meta);
    if (wc) mask_union(*wc, own);
    (*lookup_log_)(table_id, key, own);
    return rule;
  }

  void erase(const OfRule& r) {
    Table& t = *tables_[r.table_id];
    RuleKey k{r.match, r.priority};  // r may die with its index entry
    int32_t priority = r.priority;
    unplace(t, r);
    t.index.erase(k);
    if (auto it = t.priorities.find(priority); it != t.priorities.end() && --it->second == 0)
      t.priorities.erase(it);
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
  /// Replaces table `id` by one holding `keep` (its survivors), inserted in
  /// their original order (seq); the old table is freed by reclaim().
  void rebuild(uint8_t id, std::vector<OfRulePtr> keep) {
    std::sort(keep.begin(), keep.end(),
              [](const auto& a, const auto& b) { return a->seq < b->seq; });
    auto t = std::make_unique<Table>();
    for (auto& r : keep) {
      place(*t, r);
      t->index.emplace(RuleKey{r->match, r->priority}, r);
      ++t->priorities[r->priority];
    }
    old_tables_.push_back(std::move(tables_[id]));
    tables_[id] = std::move(t);
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
  /// The rules, their index nodes and the old tables are freed by reclaim().
  size_t remove_cookie(uint64_t cookie) {
    OfCookieIndex::Set gone = cookies_.take(cookie);
    const size_t others = size() - gone.rules.size();
    std::array<bool, kOfNumTables> piecemeal{};
    std::array<size_t, kOfNumTables> per_table{};
    for (auto [id, n] : gone.per_table) {
      per_table[id] = n;
      if (n == 0) continue;
      const Table& t = *tables_[id];
      if (n < kRebuildMin || n * 2 < t.index.size()) {
        piecemeal[id] = true;
        continue;
      }
      std::vector<OfRulePtr> keep;
      keep.reserve(t.index.size() - n);
      if (others < t.index.size()) {
        cookies_.for_each_except(cookie, [&](const OfRulePtr& r) {
          if (r->table_id == id) keep.push_back(r);
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
        if (hook_ && per_table[r->table_id] < kBulkChange) hook_(r->table_id, r->match);
      }
    for (auto [id, n] : gone.per_table)
      if (hook_ && n >= kBulkChange) hook_(id, Match{});
    ++generation_;
    size_t n = gone.rules.size();
    old_cookie_sets_.push_back(std::move(gone));
    return n;
  }
  void retire(std::vector<OfRulePtr> rules) {
    if (graveyard_.empty()) {
      graveyard_ = std::move(rules);
    } else {
      graveyard_.insert(graveyard_.end(), std::make_move_iterator(rules.begin()),
                        std::make_move_iterator(rules.end()));
    }
  }

  const Clock* clock_;
  std::array<std::unique_ptr<Table>, kOfNumTables> tables_{};
  std::atomic<uint64_t> generation_{0};  // read unlocked by the datapaths (Ofproto::generation)
  uint64_t next_seq_ = 0;
  OfCookieIndex cookies_;
  std::vector<OfRulePtr> graveyard_;                 // retired rules, freed by reclaim()
  std::vector<std::unique_ptr<Table>> old_tables_;   // replaced by rebuilds, likewise
  std::vector<OfCookieIndex::Set> old_cookie_sets_;  // taken whole by deletes, likewise
  ChangeHook hook_;
  mutable const LookupLog* lookup_log_ = nullptr;
};

}  // namespace flowpath
