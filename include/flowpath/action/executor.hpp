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
// Connection tracking and recirculation need a datapath: a sink that has
// conntrack(spec, group), ct_clear(group) and recirculate(id, group, last)
// (ConntrackSink; datapath/recirc_sink.hpp) gets them called; any other
// sink sees ct actions skipped and a recirculation as a drop.  A ct() has
// side effects (a commit), so it runs even after the last output; a recirc
// consumes the packet like an output (last=true: the packet itself goes on,
// else a copy).  Packets whose last use precedes a ct are dropped after it.
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

/// A sink that also runs the connection tracker and recirculation.
template <class S>
concept ConntrackSink = requires(S& s, const DpCtSpec& spec, std::span<Packet*> g, uint32_t id) {
  s.conntrack(spec, g);
  s.ct_clear(g);
  s.recirculate(id, g, bool{});
};

/// Applies one non-output action to one packet.
inline ActionStatus apply_action(Packet& pkt, const DpAction& a) noexcept {
  // An L3/L4 rewrite (each case that sets an IP or L4 field) may change the
  // packet's connection: the tracker's cache of it (meta.ct_node) goes.
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
      pkt.meta.ct_node = nullptr;
      return set_ipv4_src(pkt, a.ipv4);
    case DpActionType::kSetIpv4Dst:
      pkt.meta.ct_node = nullptr;
      return set_ipv4_dst(pkt, a.ipv4);
    case DpActionType::kSetIpv4Tos:
      pkt.meta.ct_node = nullptr;
      return set_ipv4_tos(pkt, a.u8, a.tci ? uint8_t(a.tci) : uint8_t(0xfc));
    case DpActionType::kSetIpv4Ttl:
      pkt.meta.ct_node = nullptr;
      return set_ipv4_ttl(pkt, a.u8);
    case DpActionType::kSetIpv6Tclass:
      pkt.meta.ct_node = nullptr;
      return set_ipv6_tclass(pkt, a.u8, uint8_t(a.tci));
    case DpActionType::kSetIpv6Hlimit:
      pkt.meta.ct_node = nullptr;
      return set_ipv6_hlimit(pkt, a.u8);
    case DpActionType::kSetIpv6Src:
      pkt.meta.ct_node = nullptr;
      return set_ipv6_src(pkt, a.ipv6);
    case DpActionType::kSetIpv6Dst:
      pkt.meta.ct_node = nullptr;
      return set_ipv6_dst(pkt, a.ipv6);
    case DpActionType::kSetIpv6Label:
      pkt.meta.ct_node = nullptr;
      return set_ipv6_label(pkt, a.port);
    case DpActionType::kSetTpSrc:
      pkt.meta.ct_node = nullptr;
      return set_tp_src(pkt, a.l4_port);
    case DpActionType::kSetTpDst:
      pkt.meta.ct_node = nullptr;
      return set_tp_dst(pkt, a.l4_port);
    case DpActionType::kOutput:
    case DpActionType::kCt:
    case DpActionType::kCtClear:
    case DpActionType::kRecirc:
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
    const Plan pl = plan(actions);
    size_t n = group.size();
    if (pl.end == 0) return drop_all(group.first(n));
    for (size_t i = 0; i < pl.end && n > 0; ++i) {
      const DpAction& a = actions[i];
      switch (a.type) {
        case DpActionType::kOutput:
          output_all(a.port, group.first(n), i == pl.final_use);
          break;
        case DpActionType::kRecirc:
          recirc_all(a.port, group.first(n), i == pl.final_use);
          break;
        case DpActionType::kCt:
        case DpActionType::kCtClear:
          conntrack_all(a, group.first(n));
          break;
        default:
          n = apply_all(a, group.first(n));
      }
    }
    if (pl.final_use == kNone) drop_all(group.first(n));  // a ct ran after the last use
  }
  Sink& sink() noexcept { return *sink_; }
  const ExecutorStats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  static constexpr size_t kNone = ~size_t(0);
  struct Plan {
    size_t end;        // actions [0, end) can have an effect
    size_t final_use;  // the output/recirc that consumes the packet, or kNone
  };
  static Plan plan(std::span<const DpAction> actions) noexcept {
    // The usual list ends in the output or recirc that consumes the packet
    // (no ct() can follow it): one test instead of the scan below, which
    // gives the same plan for it (session 18: ~20 instructions per group).
    const size_t size = actions.size();
    if (size != 0) {
      const DpActionType t = actions[size - 1].type;
      if (t == DpActionType::kOutput || t == DpActionType::kRecirc) return {size, size - 1};
    }
    size_t last_use = kNone, last_ct = kNone;
    for (size_t i = actions.size(); i-- > 0 && (last_use == kNone || last_ct == kNone);) {
      const DpActionType t = actions[i].type;
      if (last_use == kNone && (t == DpActionType::kOutput || t == DpActionType::kRecirc))
        last_use = i;
      if (last_ct == kNone && t == DpActionType::kCt) last_ct = i;
    }
    if (last_ct != kNone && (last_use == kNone || last_ct > last_use)) return {last_ct + 1, kNone};
    return {last_use == kNone ? 0 : last_use + 1, last_use};
  }
  void conntrack_all(const DpAction& a, std::span<Packet*> g) noexcept {
    if constexpr (ConntrackSink<Sink>) {
      if (a.type == DpActionType::kCtClear)
        sink_->ct_clear(g);
      else
        sink_->conntrack(*a.ct, g);
    } else {
      stats_.skipped += g.size();
    }
  }
  void recirc_all(uint32_t id, std::span<Packet*> g, bool last) noexcept {
    if constexpr (ConntrackSink<Sink>) {
      sink_->recirculate(id, g, last);
    } else if (last) {
      drop_all(g);
    }
  }
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
