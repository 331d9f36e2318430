// flowpath/action/executor.hpp — runs a datapath action list over a group
// of packets that share it.
//
// Usage:
//   ActionExecutor<MySink> exec(sink);
//   exec.run(flow.actions, group);        // group: std::span<Packet*>
//
// Ports: one sink (ActionSink) receiving output(port, pkt, last) and
// drop(pkt).  Every packet gets exactly one *final* call: the output with
// last=true at its final use, or drop().  Earlier outputs (last=false) ask
// the sink to copy the bytes at once, because a later action may rewrite
// the packet (`output:1,mod_vlan_vid:5,output:2`: port 1 sees the frame
// unmodified).  An empty list, or one with no output, drops every packet.
//
// Batch-in: actions are the outer loop and packets the inner one, so each
// action's dispatch happens once per group and the per-packet work is a
// tight loop (the packets were regrouped per flow by the datapath, as in
// OVS's dp_netdev_execute_actions).  Actions after the last output change
// nothing anyone can see and are not run.  A packet whose action fails
// (kFailed: a VLAN push without headroom) is dropped at once and leaves
// the group; kSkipped actions (not applicable / malformed) are counted and
// the packet continues.  The span's order is preserved but its tail may be
// overwritten when packets leave.
//
// Cost per packet: one output ~2-5 ns plus the sink's own cost; each
// rewrite as in vlan.hpp / set_field.hpp.  Never allocates, never throws.
// Thread-safety: an executor (its counters) belongs to one thread.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/action/set_field.hpp"
#include "flowpath/action/vlan.hpp"
#include "flowpath/core/packet.hpp"

namespace flowpath {

template <class S>
concept ActionSink = requires(S& s, uint32_t port, Packet& p) {
  s.output(port, p, bool{});
  s.drop(p);
};

/// Applies one non-output action to one packet.
inline ActionStatus apply_action(Packet& pkt, const DpAction& a) noexcept {
  switch (a.type) {
    case DpActionType::kPushVlan:
      return push_vlan(pkt, a.tpid, a.tci);
    case DpActionType::kPopVlan:
      return pop_vlan(pkt);
    case DpActionType::kSetVlanVid:
      return set_vlan_vid(pkt, a.tci & kVlanVidMask);
    case DpActionType::kSetVlanPcp:
      return set_vlan_pcp(pkt, a.u8);
    case DpActionType::kSetEthSrc:
      return set_eth_src(pkt, a.mac);
    case DpActionType::kSetEthDst:
      return set_eth_dst(pkt, a.mac);
    case DpActionType::kSetIpv4Src:
      return set_ipv4_src(pkt, a.ipv4);
    case DpActionType::kSetIpv4Dst:
      return set_ipv4_dst(pkt, a.ipv4);
    case DpActionType::kSetIpv4Tos:
      return set_ipv4_tos(pkt, a.u8);
    case DpActionType::kSetIpv4Ttl:
      return set_ipv4_ttl(pkt, a.u8);
    case DpActionType::kSetTpSrc:
      return set_tp_src(pkt, a.l4_port);
    case DpActionType::kSetTpDst:
      return set_tp_dst(pkt, a.l4_port);
    case DpActionType::kOutput:
      break;
  }
  return ActionStatus::kSkipped;
}

struct ExecutorStats {
  uint64_t outputs = 0;  // output calls (copies and final ones)
  uint64_t drops = 0;    // packets dropped (no output, or failed action)
  uint64_t failed = 0;   // packets dropped because an action failed
  uint64_t skipped = 0;  // per-packet actions skipped (not applicable)
};

template <ActionSink Sink>
class ActionExecutor {
 public:
  explicit ActionExecutor(Sink& sink) noexcept : sink_(&sink) {}

  /// Runs `actions` over every packet of `group`; each packet ends in the
  /// sink exactly once.
  void run(std::span<const DpAction> actions, std::span<Packet*> group) noexcept {
    size_t last_out = actions.size();
    for (size_t i = actions.size(); i-- > 0;) {
      if (actions[i].type == DpActionType::kOutput) {
        last_out = i;
        break;
      }
    }
    size_t n = group.size();
    if (last_out == actions.size()) return drop_all(group.first(n));
    for (size_t i = 0; i <= last_out && n > 0; ++i) {
      const DpAction& a = actions[i];
      if (a.type == DpActionType::kOutput) {
        output_all(a.port, group.first(n), i == last_out);
      } else {
        n = apply_all(a, group.first(n));
      }
    }
  }

  Sink& sink() noexcept { return *sink_; }
  const ExecutorStats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  void drop_all(std::span<Packet*> g) noexcept {
    for (Packet* p : g) sink_->drop(*p);
    stats_.drops += g.size();
  }
  void output_all(uint32_t port, std::span<Packet*> g, bool last) noexcept {
    for (Packet* p : g) sink_->output(port, *p, last);
    stats_.outputs += g.size();
  }
  /// Applies `a` to every packet, compacting out (and dropping) the ones
  /// it failed on; returns how many remain.
  size_t apply_all(const DpAction& a, std::span<Packet*> g) noexcept {
    size_t keep = 0;
    for (Packet* p : g) {
      ActionStatus s = apply_action(*p, a);
      if (s == ActionStatus::kFailed) [[unlikely]] {
        sink_->drop(*p);
        ++stats_.drops;
        ++stats_.failed;
        continue;
      }
      stats_.skipped += s == ActionStatus::kSkipped;
      g[keep++] = p;
    }
    return keep;
  }

  Sink* sink_;
  ExecutorStats stats_;
};

/// One-shot form: runs `actions` over `group` into `sink`.
template <ActionSink Sink>
inline ExecutorStats execute_actions(std::span<const DpAction> actions, std::span<Packet*> group,
                                     Sink& sink) noexcept {
  ActionExecutor<Sink> exec(sink);
  exec.run(actions, group);
  return exec.stats();
}

}  // namespace flowpath
