// flowpath/datapath/table_upcall.hpp — an UpcallHandler over one flow
// table whose rules carry datapath actions directly.
//
// The full slow path (bridges, NORMAL, patch ports) lives in bridge/.  This
// handler is the smallest honest one: a priority classifier of rules, each
// with a DpActionList and its own RuleStats; a miss in the table drops
// (OpenFlow 1.3 table-miss).  The megaflow mask is whatever the classifier
// reports as consulted (wildcards), so a better classifier gives narrower
// masks.  Tests and benchmarks of the datapath use it.
//
// Classifier: any type with insert(match, priority, value),
// remove(match, priority) and lookup(key, FlowMask* wc) returning a
// pointer with ->value, as LinearClassifier (the default).
//
// Every add/remove bumps generation() and journals the rule's match
// (datapath/change_journal.hpp); each upcall reports its lookup as a
// dependency, so the datapath invalidates only the flows a change touches.
// Cost: one classifier lookup per upcall.  Thread-safety: none — edit the
// table between batches, from the datapath's thread.
#pragma once

#include <cstdint>
#include <memory>

#include "flowpath/classify/linear_classifier.hpp"
#include "flowpath/datapath/upcall.hpp"

namespace flowpath {

struct TableFlow {
  DpActionList actions;
  std::shared_ptr<RuleStats> stats;
};

template <class Classifier = LinearClassifier<TableFlow>>
class TableUpcall {
 public:
  /// Adds a rule, or replaces the actions of the rule with the same match
  /// and priority (its counters restart).  Returns the rule's counters.
  std::shared_ptr<RuleStats> add_flow(const Match& match, int32_t priority, DpActionList actions) {
    auto stats = std::make_shared<RuleStats>();
    cls_.insert(match, priority, TableFlow{std::move(actions), stats});
    ++generation_;
    journal_.push(CacheChange::rule_changed(0, 0, match));
    return stats;
  }

  bool remove_flow(const Match& match, int32_t priority) {
    // Copy first: `match` may live in the rule being removed.
    CacheChange change = CacheChange::rule_changed(0, 0, match);
    bool removed = cls_.remove(match, priority);
    generation_ += removed;
    if (removed) journal_.push(std::move(change));
    return removed;
  }

  /// The UpcallHandler entry point (pure: no side effects either way).
  void upcall(const FlowKey& key, const Packet* /*pkt*/, UpcallResult& r) {
    ++upcalls_;
    const auto* rule = cls_.lookup(key, &r.mask);
    r.tracked = true;
    r.deps.tables.push_back(TableDep{0, 0, masked(key, r.mask), r.mask});
    r.journal_seq = journal_.next_seq();
    if (!rule) return;  // table miss: drop
    r.actions = rule->value.actions;
    r.stats.push_back(rule->value.stats);
  }

  uint64_t generation() const noexcept { return generation_; }
  /// Marks a change made outside add/remove (e.g. a port went down).
  void bump_generation() {
    ++generation_;
    journal_.push(CacheChange::all());
  }
  /// JournaledUpcallHandler: the changes from *cursor on.
  bool read_changes(uint64_t* cursor, std::vector<CacheChange>& out) const {
    return journal_.read(cursor, out);
  }
  uint64_t change_seq() const noexcept { return journal_.next_seq(); }
  uint64_t upcalls() const noexcept { return upcalls_; }
  Classifier& classifier() noexcept { return cls_; }

 private:
  Classifier cls_;
  uint64_t generation_ = 1;
  ChangeJournal journal_;
  uint64_t upcalls_ = 0;
};

static_assert(JournaledUpcallHandler<TableUpcall<>>);

}  // namespace flowpath
