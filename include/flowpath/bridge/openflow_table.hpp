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
//   classifier's contract, classify/linear_classifier.hpp); rules on
//   pipeline metadata and conjunctive match as bridge/of_table_shard.hpp
//   says (one table's storage and lookup).
// - generation() increments on every change, so caches built from lookups
//   (megaflows) know when to revalidate.
// - set_change_hook(f): f(table, match) for every rule added, modified or
//   removed (expiry included) -- once with the catch-all Match{} for a
//   delete of kBulkChange or more rules of a table; set_lookup_log(&f): f(table, key, wc) for
//   every lookup, wc being the bits that lookup consulted.  Together they
//   let a datapath invalidate only the flows a change can affect
//   (datapath/dependency_index.hpp).
//
// The tables, cookie index, selections and bulk deletes are
// bridge/of_table_set.hpp; this type is the flow-mod semantics over them.
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

#include <array>
#include <atomic>
#include <cinttypes>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/bridge/of_rule.hpp"
#include "flowpath/bridge/of_table_set.hpp"
#include "flowpath/bridge/of_table_shard.hpp"
#include "flowpath/classify/linear_classifier.hpp"
#include "flowpath/core/clock.hpp"

namespace flowpath {

template <class Classifier = LinearClassifier<OfRulePtr>>
class OpenFlowTable {
  using Set = OfTableSet<Classifier>;

 public:
  explicit OpenFlowTable(const Clock* clock = Clock::system()) : clock_(clock) {}

  /// OpenFlow ADD.  Returns the installed rule.
  const OfRule& add(uint8_t table_id, const Match& match, int32_t priority, OfActionList actions,
                    uint64_t cookie = 0, uint16_t idle_timeout = 0, uint16_t hard_timeout = 0,
                    uint16_t importance = 0) {
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
    r->importance = importance;
    r->actions = std::move(actions);
    r->stats = std::make_shared<RuleStats>();
    r->created_ms = r->modified_ms = clock_->now_ms();
    r->seq = next_seq_++;
    install(r);
    return *r;
  }
  /// Puts back a rule object that a flow-mod took out (an atomic bundle's
  /// rollback, switch/openflow_backend_flow_mod.hpp): the same object, so
  /// its counters, age and sequence (its place among equal priorities) are
  /// kept.  Replaces a rule of the same match and priority, as add().
  void reinstate(OfRulePtr r) { install(std::move(r)); }
  const OfRule& add(const OfctlFlow& f) {
    return add(f.table_given && f.table != kOfTableAll ? f.table : 0, f.match, f.priority,
               f.actions, f.cookie, f.idle_timeout, f.hard_timeout);
  }

  /// OpenFlow MODIFY / MODIFY_STRICT: new actions for the selected rules.
  size_t modify(const OfFlowFilter& filter, const OfActionList& actions) {
    auto rules = set_.select(filter, /*use_out_port=*/false);
    int64_t now = clock_->now_ms();
    for (auto& r : rules) {
      // Copy on write: a published rule never changes (but its counters),
      // so a flow dump may encode rules it pinned outside the owner's lock
      // (shared_rules_if).  The copy keeps the counters, age and order.
      auto n = std::make_shared<OfRule>(*r);
      n->actions = actions;
      n->modified_ms = now;
      auto& t = set_.table(r->table_id);
      t.unplace(*r);  // a rule may become (or stop being) a conjunction clause
      t.place(n);
      t.index.find(OfRuleKey{r->match, r->priority})->second = n;
      set_.cookies().add(n);
      set_.cookies().remove(r.get());
      set_.notify(n->table_id, n->match);
      set_.retire(std::move(r));
    }
    if (!rules.empty()) ++generation_;
    return rules.size();
  }

  /// OpenFlow DELETE / DELETE_STRICT.  Returns the number removed.
  /// A delete that takes at least half of a big table (`del-flows` of
  /// everything a controller added) rebuilds that table from the rules
  /// that stay; one of at least kBulkChange rules of a table tells the
  /// change hook once, with the catch-all match ("anything in this table
  /// may have changed"), instead of once per rule: caches then drop what
  /// consulted that table, as they would after the journal overflowed
  /// anyway (bridge/of_table_set.hpp).  Removed rules are freed later
  /// (reclaim(), expire()), off the path of the flow-mod and of the
  /// barrier reply that follows it.
  size_t remove(const OfFlowFilter& filter) {
    if (set_.takes_whole_cookie(filter)) {
      size_t n = set_.remove_cookie(filter.cookie);
      ++generation_;
      return n;
    }
    auto rules = set_.select(filter, /*use_out_port=*/true);
    std::array<size_t, kOfNumTables> per_table{};
    std::array<bool, kOfNumTables> rebuilt{};
    for (const auto& r : rules) ++per_table[r->table_id];
    for (uint8_t id = 0; id < kOfNumTables; ++id)
      if (per_table[id] >= kRebuildMin && per_table[id] * 2 >= set_.size(id))
        set_.rebuild_without(id, rules), rebuilt[id] = true;
    // Every rule of the cookie goes: drop its index entry whole, freed later.
    OfCookieIndex& cookies = set_.cookies();
    bool whole_cookie = filter.cookie_mask == ~uint64_t(0) && !rules.empty() &&
                        cookies.count(filter.cookie) == rules.size();
    if (whole_cookie) set_.retire(cookies.take(filter.cookie));
    for (auto& r : rules) {
      if (!whole_cookie) cookies.remove(r.get());
      if (!rebuilt[r->table_id]) set_.erase(*r);  // else already out of the rebuilt table
      if (per_table[r->table_id] < kBulkChange) set_.notify(r->table_id, r->match);
    }
    for (uint8_t id = 0; id < kOfNumTables; ++id)
      if (per_table[id] >= kBulkChange) set_.notify(id, Match{});
    if (!rules.empty()) ++generation_;
    size_t n = rules.size();
    set_.retire(std::move(rules));
    return n;
  }
  static constexpr size_t kRebuildMin = Set::kRebuildMin;
  static constexpr size_t kBulkChange = Set::kBulkChange;

  /// Best rule of `table_id` for `key` (and the translation's registers in
  /// `meta`; nullptr: all zero), or nullptr; ORs consulted bits into *wc.
  const OfRule* lookup(uint8_t table_id, const FlowKey& key, FlowMask* wc = nullptr,
                       const PipelineMeta* meta = nullptr) const {
    if (lookup_log_) return logged_lookup(table_id, key, wc, meta);
    return lookup_unlogged(table_id, key, wc, meta);
  }

  using ChangeHook = typename Set::ChangeHook;
  using LookupLog = std::function<void(uint8_t table, const FlowKey& key, const FlowMask& wc)>;
  /// f(table, match) after each rule added, modified or removed.
  void set_change_hook(ChangeHook f) { set_.set_hook(std::move(f)); }
  /// Calls *f for each lookup while set (nullptr: off); f outlives that.
  void set_lookup_log(const LookupLog* f) const noexcept { lookup_log_ = f; }

  /// Removes rules whose idle or hard timeout passed; returns how many.
  /// Idle time counts from the last hit (RuleStats::used_ms) or creation,
  /// hard time from creation or the last modify (as OVS does).
  size_t expire(std::vector<OfRulePtr>* removed = nullptr) {
    int64_t now = clock_->now_ms();
    std::vector<OfRulePtr> dead;
    set_.for_each_rule([&](const OfRulePtr& r) {
      bool hard = r->hard_timeout && now - r->modified_ms >= int64_t(r->hard_timeout) * 1000;
      bool idle = r->idle_timeout && now - r->last_used_ms() >= int64_t(r->idle_timeout) * 1000;
      if (hard || idle) dead.push_back(r);
    });
    reclaim();  // the periodic path: free what flow-mods retired
    for (auto& r : dead) {
      set_.cookies().remove(r.get());
      set_.erase(*r);
      set_.notify(r->table_id, r->match);
    }
    if (!dead.empty()) ++generation_;
    if (removed) removed->insert(removed->end(), dead.begin(), dead.end());
    return dead.size();
  }

  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  size_t size() const noexcept { return set_.size(); }
  /// Rules of one table, O(1) (table stats: no walk of 100,000 rules).
  size_t size(uint8_t table_id) const noexcept { return set_.size(table_id); }
  const Clock* clock() const noexcept { return clock_; }
  /// The highest priority of any rule (INT32_MIN: no rules), O(1): lets a
  /// caller skip looking for special rules (e.g. hidden ones) in a big table.
  int32_t max_priority() const noexcept { return set_.max_priority(); }

  /// The rule of `table_id` with exactly this match and priority, or nullptr.
  const OfRule* find(uint8_t table_id, const Match& match, int32_t priority) const {
    const auto* t = set_.find(table_id);
    if (!t) return nullptr;
    Match m = match;
    m.normalize();
    auto it = t->index.find(OfRuleKey{m, priority});
    return it == t->index.end() ? nullptr : it->second.get();
  }

  /// Rules of one table (or all), by table, then priority descending, then age.
  std::vector<const OfRule*> rules(uint8_t table_id = kOfTableAll) const {
    return rules_if(table_id, [](const OfRule&) { return true; });
  }
  /// rules(table_id) for which keep(rule) holds, tested while the rule is
  /// in cache anyway (a dump's selection: one pass over 100,000 rules less).
  template <class Keep>
  std::vector<const OfRule*> rules_if(uint8_t table_id, Keep&& keep) const {
    auto v = set_.sorted_if(table_id, keep);
    std::vector<const OfRule*> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i].r->get();
    return out;
  }
  /// rules_if() with each rule pinned: rules never change once published
  /// (modify copies), so the caller may read them after dropping its lock.
  template <class Keep>
  std::vector<std::shared_ptr<const OfRule>> shared_rules_if(uint8_t table_id, Keep&& keep) const {
    auto v = set_.sorted_if(table_id, keep);
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

  /// What flow-mods retired (rules, rebuilt tables, cookie sets).
  using Garbage = typename Set::Garbage;
  /// Hands the retired objects over, so that the caller can free them
  /// after releasing its lock (freeing 100,000 rules takes ~0.1-0.4 s).
  Garbage take_garbage() noexcept { return set_.take_garbage(); }
  /// Frees the rules (and rebuilt tables) that flow-mods retired.
  void reclaim() noexcept { take_garbage(); }

 private:
  /// Places `r` in its table, replacing a rule of the same match and
  /// priority (retired, so a reader still holding it stays safe).
  void install(OfRulePtr r) {
    auto& t = set_.table(r->table_id);
    auto [it, inserted] = t.index.try_emplace(OfRuleKey{r->match, r->priority}, r);
    if (!inserted) {
      t.unplace(*it->second);
      set_.cookies().remove(it->second.get());
      set_.retire(std::move(it->second));
      it->second = r;
    } else {
      ++t.priorities[r->priority];
    }
    t.place(r);
    set_.cookies().add(r);
    ++generation_;
    set_.notify(r->table_id, r->match);
  }
  const OfRule* lookup_unlogged(uint8_t table_id, const FlowKey& key, FlowMask* wc,
                                const PipelineMeta* meta) const {
    const auto* t = set_.find(table_id);
    if (!t) return nullptr;
    static const PipelineMeta kZero{};
    return t->lookup(key, wc, meta ? *meta : kZero);
  }
  const OfRule* logged_lookup(uint8_t table_id, const FlowKey& key, FlowMask* wc,
                              const PipelineMeta* meta) const {
    FlowMask own{};  // this lookup's bits alone, whatever *wc held before
    const OfRule* rule = lookup_unlogged(table_id, key, &own, meta);
    if (wc) mask_union(*wc, own);
    (*lookup_log_)(table_id, key, own);
    return rule;
  }

  const Clock* clock_;
  Set set_;
  std::atomic<uint64_t> generation_{0};  // read unlocked by the datapaths (Ofproto::generation)
  uint64_t next_seq_ = 0;
  mutable const LookupLog* lookup_log_ = nullptr;
};

}  // namespace flowpath
