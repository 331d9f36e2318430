// flowpath/switch/openflow_backend_flow_mod.hpp — OfprotoBackend's
// flow-mods and the barrier that puts them in effect (declared in
// switch/openflow_backend.hpp, whose header comment gives the semantics).
//
// A flow-mod changes the bridge's OpenFlowTable under the Ofproto's
// mutex; barrier() returns once no PMD can process a packet with a table
// older than the generation of that moment, so after a barrier reply every
// earlier change is in effect in the datapath.
//
// Cost: a flow-mod is one table operation (bridge/openflow_table.hpp) plus,
// for check_overlap, a walk of its table; a barrier with no change since
// the last one returns at once, and so does one while no PMD is in the
// middle of a batch (a fence and a load per PMD); else it spins at most
// kBarrierSpinUs per PMD, then sleeps until the PMD's next pass.
// Thread-safety: as OfprotoBackend (the Ofproto's mutex, or a PMD's mutex,
// never both at once).
#pragma once

#include <chrono>
#include <mutex>

#include "flowpath/switch/openflow_backend.hpp"

namespace flowpath {

inline std::optional<openflow::OfpErrc> OfprotoBackend::flow_mod(const openflow::FlowMod& fm,
                                                                 uint8_t version) {
  std::lock_guard lock(of_.mutex());
  return flow_mod_locked(fm, version);
}

/// A bundle commit.  Errors that do not depend on the tables (table id,
/// command) are found before anything changes.  check_overlap is checked
/// while applying, as OVS does it: against the rules that were there when
/// the commit began and are still there — a rule an earlier message of
/// the bundle added does not count, one it deleted does not either
/// (tests/openflow/bundle_ofctl_test.cpp checks both against
/// ovs-vswitchd).  On such an error every rule goes and the rules of
/// before come back (OpenFlowTable::reinstate: the same objects, so
/// counters, ages and order are kept).  The rules of before are pinned
/// only when a message has check_overlap: nothing else can fail once the
/// first checks passed.  All under one hold of the Ofproto's mutex: no
/// upcall sees a state in between.
/// Cost: the flow-mods; with check_overlap also O(rules) pointer copies,
/// a walk of the table per such message, and O(rules) for a rollback.
inline std::optional<openflow::BundleFailure> OfprotoBackend::flow_mod_bundle(
    std::span<const openflow::FlowMod> fms, uint8_t version) {
  using C = openflow::FlowModCommand;
  bool may_fail = false;
  for (size_t i = 0; i < fms.size(); ++i) {
    const openflow::FlowMod& fm = fms[i];
    uint8_t table = fm.table_id == kOfTableAll ? 0 : fm.table_id;
    if (table >= kNumTables) return openflow::BundleFailure{i, openflow::OfpErrc::kBadTableId};
    if (fm.command > C::kDeleteStrict)
      return openflow::BundleFailure{i, openflow::OfpErrc::kFlowModBadCommand};
    may_fail |= fm.command == C::kAdd && (fm.flags & openflow::kFlowModCheckOverlap);
  }
  std::lock_guard lock(of_.mutex());
  BridgeTables& t = bridge().tables();
  std::vector<std::shared_ptr<const OfRule>> before;
  if (may_fail) before = t.shared_rules_if(kOfTableAll, [](const OfRule&) { return true; });
  const size_t tracked_before = tracked_.size();
  std::optional<uint64_t> first_new;  // seq of the bundle's first added rule
  for (size_t i = 0; i < fms.size(); ++i) {
    const openflow::FlowMod& fm = fms[i];
    const uint8_t table = fm.table_id == kOfTableAll ? 0 : fm.table_id;
    bool overlap = false;
    // an identical rule (match and priority) is replaced, never an overlap
    // (OVS's add_flow_start checks overlap only without one)
    if (fm.command == C::kAdd && (fm.flags & openflow::kFlowModCheckOverlap) &&
        !t.find(table, fm.match, fm.priority))
      for (const OfRule* r : t.rules(table))
        if (r->priority == fm.priority && (!first_new || r->seq < *first_new) &&
            overlaps(r->match, fm.match)) {
          overlap = true;
          break;
        }
    if (overlap) {
      t.remove(OfFlowFilter{});  // everything, hidden rules too: they are in `before`
      for (auto& r : before) t.reinstate(std::const_pointer_cast<OfRule>(r));
      tracked_.resize(tracked_before);
      return openflow::BundleFailure{i, openflow::OfpErrc::kFlowModOverlap};
    }
    flow_mod_locked(fm, version, /*check_overlap=*/false);
    if (may_fail && !first_new && fm.command == C::kAdd)
      if (const OfRule* r = t.find(table, fm.match, fm.priority)) first_new = r->seq;
  }
  return std::nullopt;
}

inline std::optional<openflow::OfpErrc> OfprotoBackend::flow_mod_locked(const openflow::FlowMod& fm,
                                                                        uint8_t version,
                                                                        bool check_overlap) {
  using C = openflow::FlowModCommand;
  BridgeTables& t = bridge().tables();
  OfActionList actions = fm.instructions.flattened();
  const bool strict = fm.command == C::kModifyStrict || fm.command == C::kDeleteStrict;
  uint8_t add_table = fm.table_id == kOfTableAll ? 0 : fm.table_id;
  if (add_table >= kNumTables) return openflow::OfpErrc::kBadTableId;
  auto add = [&]() -> std::optional<openflow::OfpErrc> {
    // an identical rule (match and priority) is replaced, never an overlap
    // (OVS's add_flow_start checks overlap only without one)
    if (check_overlap && (fm.flags & openflow::kFlowModCheckOverlap) &&
        !t.find(add_table, fm.match, fm.priority))
      for (const OfRule* r : t.rules(add_table))
        if (r->priority == fm.priority && overlaps(r->match, fm.match))
          return openflow::OfpErrc::kFlowModOverlap;
    // the last use of `actions` (a modify that selected nothing ends here)
    t.add(add_table, fm.match, fm.priority, std::move(actions), fm.cookie, fm.idle_timeout,
          fm.hard_timeout, fm.importance);
    if (fm.flags & openflow::kFlowModSendFlowRem) track(fm, add_table);
    return std::nullopt;
  };
  // Hidden rules (priority above 16 bits: the fail-open flow) are the
  // switch's own: a controller's modify or delete must not touch them.
  std::vector<OfRule> hidden;
  if (fm.command != C::kAdd && t.max_priority() > 0xffff)
    for (const OfRule* r : t.rules())
      if (r->priority > 0xffff) hidden.push_back(*r);
  struct Restore {
    BridgeTables& t;
    std::vector<OfRule>& rules;
    ~Restore() {
      for (const OfRule& r : rules)
        t.add(r.table_id, r.match, r.priority, r.actions, r.cookie, r.idle_timeout, r.hard_timeout,
              r.importance);
    }
  } restore{t, hidden};
  switch (fm.command) {
    case C::kAdd:
      return add();
    case C::kModify:
    case C::kModifyStrict: {
      auto f =
          filter(fm.match, fm.priority, strict, fm.table_id, fm.cookie, fm.cookie_mask, kOfppNone);
      if (t.modify(f, actions) == 0 && version == openflow::kOfp10 && fm.cookie_mask == 0)
        return add();
      return std::nullopt;
    }
    case C::kDelete:
    case C::kDeleteStrict:
      t.remove(filter(fm.match, fm.priority, strict, fm.table_id, fm.cookie, fm.cookie_mask,
                      fm.out_port));
      return std::nullopt;
  }
  return openflow::OfpErrc::kFlowModBadCommand;
}

/// ovs-ofctl sends a barrier after every flow-mod of add-flows, so this
/// is on the path of each one.  Nothing to wait for when no table moved
/// since the last fence.  Else each PMD is past the change once either
/// no batch is being processed (Pmd::between_batches: the usual case, an
/// idle PMD polls empty rings; every later batch revalidates first, in
/// Datapath::process), or it published a generation >= g (its next pass
/// began), or we hold its mutex for a moment: a PMD processes every batch
/// under that mutex, so with the mutex free no batch is in flight either.
/// The first needs nothing from the PMD: a PMD that was preempted inside
/// an empty poll (holding its mutex: most of a pass is under it) or sleeps
/// costs no wait, no wake-up and no futex round (it was ~half the switch's
/// CPU per add-flows round trip on a loaded 2-core machine: spin, then
/// futex sleep until the PMD got its core back).
/// The second way matters when cores are oversubscribed: a PMD that was
/// descheduled (or shares our core) may not run a pass for milliseconds,
/// but then its mutex is free.  try_lock, never lock: a PMD that runs
/// retakes its mutex at once, and its next pass is microseconds away.
/// The wait is our CPU: a spin of at most kBarrierSpinUs (a running
/// PMD's next pass is microseconds away) that tries the mutex every 4th
/// round only (try_lock pulls the cache line the PMD takes on every
/// port of every pass), then sleeps until the PMD's next pass wakes it
/// (Pmd::wait_for_publish) — a PMD that takes longer is off its core,
/// and spinning on, or napping in timer steps, would cost a context
/// switch per nap (it was 50 µs of spin, then 20 µs naps).
inline void OfprotoBackend::barrier() {
  if (!sw_) return;
  uint64_t g = of_.generation();
  if (g <= fenced_) return;
  if (!sw_->running()) {  // no PMD threads: the switch syncs them itself
    if (sw_->wait_pmds_past(g)) fenced_ = g;
    return;
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (size_t i = 0; i < sw_->num_pmds(); ++i) {
    Pmd& p = sw_->pmd(i);
    bool spinning = true;
    for (unsigned k = 0;; ++k) {
      if (p.seen_generation() >= g || p.between_batches()) break;
      if ((k & 3) == 3 || !spinning)
        if (std::unique_lock l(p.mutex(), std::try_to_lock); l.owns_lock()) break;
      if (spinning && (k & 63) != 63) {
        cpu_relax();
        continue;
      }
      auto waited = Clock::now() - start;
      if (waited > std::chrono::seconds(5)) return;  // a stuck PMD: no fence claimed
      // Off its core: sleep until its next pass publishes (it wakes us);
      // look at its mutex again every 200 µs (descheduled between batches).
      if (waited > std::chrono::microseconds(kBarrierSpinUs)) spinning = false;
      if (!spinning) p.wait_for_publish(g, 200);
    }
  }
  fenced_ = g;
}

}  // namespace flowpath
