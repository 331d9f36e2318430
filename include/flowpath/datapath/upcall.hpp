// flowpath/datapath/upcall.hpp — the contract between the fast path
// (datapath/) and the slow path that decides what a new flow does.
//
// On a cache miss the datapath calls handler.upcall(key, &packet, result):
// the handler fills result.actions (datapath actions, empty = drop) and
// result.mask (the megaflow mask: every key bit the decision consulted; the
// datapath always adds in_port), and may append the RuleStats of the rules
// it went through so the fast path can credit them.  The handler may have
// side effects (MAC learning) only when packet != nullptr; with nullptr it
// is a pure re-translation used to revalidate cached flows.
//
// A handler that cannot translate (an internal error, a resource limit)
// sets result.failed; the datapath then drops the packet and counts it as
// "miss with failed upcall" (lost).  An exception thrown by upcall() is
// treated the same way.
//
// handler.generation() changes whenever any answer could change (flow
// table edit, MAC learned/moved/expired, port change).
//
// A JournaledUpcallHandler says more: what changed, in a ChangeJournal
// (datapath/change_journal.hpp) read with read_changes(), and per upcall
// what the translation consulted (result.deps, result.tracked = true) and
// the journal position after it (result.journal_seq).  The datapath then
// invalidates only the cached flows a change can affect
// (datapath/dependency_index.hpp); otherwise it revalidates everything
// when generation() moves.
//
// result.cacheable = false: the decision is right for this packet but must
// not be cached (e.g. MAC learning was refused by the per-port rate limit,
// so the next packet from that source must come back to try again).
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/core/stats.hpp"
#include "flowpath/datapath/change_journal.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

struct UpcallResult {
  DpActionList actions;
  FlowMask mask{};
  std::vector<std::shared_ptr<RuleStats>> stats;
  bool failed = false;    // translation failed: drop, count as lost
  bool cacheable = true;  // false: run the actions for this packet only
  bool tracked = false;   // deps and journal_seq are filled in
  XlateDeps deps;         // what the translation consulted
  uint64_t journal_seq = 0;

  void clear() {
    actions.clear();
    mask = FlowMask{};
    stats.clear();
    failed = false;
    cacheable = true;
    tracked = false;
    deps.clear();
    journal_seq = 0;
  }
};

template <class H>
concept UpcallHandler = requires(H& h, const FlowKey& key, const Packet* pkt, UpcallResult& r) {
  { h.upcall(key, pkt, r) } -> std::same_as<void>;
  { h.generation() } -> std::convertible_to<uint64_t>;
};

template <class H>
concept JournaledUpcallHandler = UpcallHandler<H> &&
    requires(H& h, uint64_t* cursor, std::vector<CacheChange>& out) {
  { h.read_changes(cursor, out) } -> std::same_as<bool>;
  { h.change_seq() } -> std::convertible_to<uint64_t>;
};

}  // namespace flowpath
