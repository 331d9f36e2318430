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
// table edit, MAC learned/moved/expired, port change).  The datapath
// compares it before each batch and revalidates its caches when it moved.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/core/stats.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

struct UpcallResult {
  DpActionList actions;
  FlowMask mask{};
  std::vector<std::shared_ptr<RuleStats>> stats;
  bool failed = false;  // translation failed: drop, count as lost

  void clear() {
    actions.clear();
    mask = FlowMask{};
    stats.clear();
    failed = false;
  }
};

template <class H>
concept UpcallHandler = requires(H& h, const FlowKey& key, const Packet* pkt, UpcallResult& r) {
  { h.upcall(key, pkt, r) } -> std::same_as<void>;
  { h.generation() } -> std::convertible_to<uint64_t>;
};

}  // namespace flowpath
