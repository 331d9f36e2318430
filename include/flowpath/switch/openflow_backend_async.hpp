// flowpath/switch/openflow_backend_async.hpp — OfprotoBackend's
// packet-out and flow-removed members (declared in
// switch/openflow_backend.hpp, whose header comment gives the semantics).
//
// Packet-out from a port of the bridge is translated (Xlate::run_actions)
// and its datapath actions run on the frame, each output sent on the
// SwitchPort under its PMD's mutex (resolved under the Ofproto's lock);
// packet-ins it makes go to the bridge's ControllerSink.  A ct() runs
// through the Switch's tracker, and after a ct(table=T) the packet takes
// the datapath's further passes (parsed again, its frozen translation
// resumed; packet-ins of those passes go to the sink too), as OVS
// executes a packet-out through its datapath.  take_removed()
// expires the bridge's flows and reports remembered send_flow_rem rules
// that are gone (expiry at most every 100 ms, a scan only after the
// tables changed).
//
// Cost: packet-out one translation; take_removed O(rules) when any rule is
// remembered, nothing otherwise.  Thread-safety: as OfprotoBackend (the
// Ofproto's mutex, then a PMD's mutex, never both at once).
#pragma once

#include <unordered_set>

#include "flowpath/parse/parser.hpp"
#include "flowpath/switch/openflow_backend.hpp"

namespace flowpath {

namespace openflow_backend_detail {
/// ActionSink that sends each output on the Switch's port (packet-out).
struct PortSender {
  std::vector<std::pair<uint32_t, SwitchPort*>> ports;  // dp_port -> port, resolved under the lock
  void output(uint32_t dp_port, Packet& p, bool) noexcept {
    SwitchPort* sp = nullptr;
    for (auto [n, q] : ports)
      if (n == dp_port) sp = q;
    if (!sp) return;
    std::lock_guard lock(sp->domain());
    sp->tx(p, /*owned=*/false);
    sp->flush();
  }
  void drop(Packet&) noexcept {}
};
}  // namespace openflow_backend_detail

// The ports of `acts`' outputs, for the sender (caller holds the lock).
inline void OfprotoBackend::resolve_outputs(const DpActionList& acts,
                                            openflow_backend_detail::PortSender& sender) {
  for (const DpAction& a : acts)
    if (a.type == DpActionType::kOutput)
      if (BridgePort* bp = of_.dp_port(a.port))
        if (SwitchPort* sp = sw_->port(bp->name())) sender.ports.emplace_back(a.port, sp);
}

// Runs a packet-out's datapath actions on `p`, then the passes after each
// ct(table=T) until none recirculates (at most RecircState::kMaxDepth), as
// Datapath::recirculate does, translating each under the Ofproto's lock.
inline void OfprotoBackend::run_packet_out(Packet& p, const DpActionList& first,
                                           openflow_backend_detail::PortSender& sender) {
  using Sender = openflow_backend_detail::PortSender;
  RecircState st;
  st.set_tracker(&sw_->conntrack());
  RecircSink<Sender> rs(sender, st, of_.clock()->now_ms());
  ActionExecutor<RecircSink<Sender>> exec(rs);
  FlowKey parsed;
  parse_packet(p, parsed);  // the tracker reads the header offsets
  Packet* one[1] = {&p};
  exec.run(first, std::span<Packet*>(one, 1));
  for (int depth = 1; !st.next.empty() && depth <= RecircState::kMaxDepth; ++depth) {
    st.cur.swap(st.next);
    st.next.clear();
    for (Packet* q : st.cur) {
      FlowKey key{};
      parse_packet(*q, key);
      const PacketMeta& m = q->meta;
      key.in_port = q->in_port, key.recirc_id = m.recirc_id, key.ct_state = m.ct_state;
      key.ct_zone = Be16{m.ct_zone}, key.ct_mark = Be32{m.ct_mark};
      key.ct_label_id = m.ct_label_id;
      XlateResult x;
      of_.translate(key, /*learn=*/true, x, nullptr);
      DpActionList acts;
      {
        std::lock_guard lock(of_.mutex());
        acts = of_.datapath_actions_locked(x);
        resolve_outputs(acts, sender);
        // The pass's packet-ins (output:CONTROLLER after a ct(table=T)),
        // with the frame as this pass sees it (NAT applied), as OVS's upcall
        // of the recirculated packet sends them.
        for (const ControllerOutput& c : x.controller)
          if (ControllerSink* s = c.bridge->controller_sink())
            s->packet_in(controller_packet_in(*q, x.actions, c));
      }
      Packet* g[1] = {q};
      exec.run(acts, std::span<Packet*>(g, 1));
    }
  }
  for (Packet* q : st.next) rs.drop(*q);  // too deep: dropped, as the datapath
  st.next.clear();
}

inline std::optional<openflow::OfpErrc> OfprotoBackend::packet_out(const openflow::PacketOut& po) {
  using openflow::OfpErrc;
  if (!sw_ || po.buffer_id != openflow::kNoBuffer) return OfpErrc::kActionBadArgument;
  DpActionList acts;
  std::optional<OfpErrc> err;
  openflow_backend_detail::PortSender sender;
  uint32_t in_dp = 0;
  {
    std::lock_guard lock(of_.mutex());
    BridgePort* in = bridge().port_by_ofport(po.in_port);
    if (in && in->dp_port) {
      in_dp = in->dp_port;
      packet_out_translated(po, *in, acts);
    } else {
      for (SwitchPort* sp : packet_out_ports(po, err))
        if (sp) acts.push_back(DpAction::output(sp->dp_port()));
      if (err) return err;
    }
    resolve_outputs(acts, sender);
  }
  std::vector<uint8_t> buf(po.data.size() + 128);
  std::copy(po.data.begin(), po.data.end(), buf.begin() + 64);
  Packet p(buf.data(), uint32_t(buf.size()), 64, uint32_t(po.data.size()));
  p.in_port = in_dp;
  run_packet_out(p, acts, sender);
  return std::nullopt;
}

// Translated as a flow's actions; packet-ins it makes go to the bridge's sink.
inline void OfprotoBackend::packet_out_translated(const openflow::PacketOut& po, BridgePort& in,
                                                  DpActionList& acts) {
  std::vector<uint8_t> copy(po.data.begin(), po.data.end());
  Packet pkt(copy.data(), uint32_t(copy.size()), 0, uint32_t(copy.size()));
  FlowKey key{};
  parse_packet(pkt, key);
  key.in_port = in.dp_port;
  XlateResult x;
  Xlate xl(key, /*learn=*/true, x);
  xl.run_actions(*in.bridge, in, po.actions);
  for (const ControllerOutput& c : x.controller)
    if (ControllerSink* s = c.bridge->controller_sink())
      s->packet_in(controller_packet_in(pkt, x.actions, c));
  acts = of_.datapath_actions_locked(x);  // with its ct(), ct_clear, recirc()
}

// From a reserved in_port: outputs to ports, FLOOD and ALL only.
inline std::vector<SwitchPort*> OfprotoBackend::packet_out_ports(
    const openflow::PacketOut& po, std::optional<openflow::OfpErrc>& err) {
  using openflow::OfpErrc;
  std::vector<SwitchPort*> targets;
  Bridge& b = bridge();
  auto by_ofport = [&](uint32_t n) -> SwitchPort* {
    BridgePort* p = b.port_by_ofport(n);
    return p && p->dp_port ? sw_->port(p->name()) : nullptr;
  };
  for (const OfAction& a : po.actions) {
    if (a.type != OfActionType::kOutput) return err = OfpErrc::kActionBadType, targets;
    if (a.port == kOfppFlood || a.port == kOfppAll) {
      for (BridgePort* p : b.ports())
        if (p->ofport() != po.in_port && p->dp_port) targets.push_back(by_ofport(p->ofport()));
      continue;
    }
    SwitchPort* sp = by_ofport(a.port);
    if (!sp) return err = OfpErrc::kActionBadOutPort, targets;
    targets.push_back(sp);
  }
  return targets;
}

inline std::vector<openflow::FlowRemoved> OfprotoBackend::take_removed() {
  std::vector<openflow::FlowRemoved> out;
  if (tracked_.empty()) return out;
  std::lock_guard lock(of_.mutex());
  BridgeTables& t = bridge().tables();
  const int64_t now = of_.clock()->now_ms();
  // Both passes are O(rules) under the lock: expiry at most every 100 ms
  // and only with a timed rule remembered, the scan only after a change.
  bool timed = false;
  for (const Tracked& k : tracked_) timed |= k.msg.idle_timeout || k.msg.hard_timeout;
  if (timed && now >= next_expire_ms_) t.expire(), next_expire_ms_ = now + 100;
  if (t.generation() == scanned_generation_) return out;
  scanned_generation_ = t.generation();
  std::unordered_set<const RuleStats*> live;
  for (const OfRule* r : t.rules()) live.insert(r->stats.get());
  std::erase_if(tracked_, [&](Tracked& k) {
    if (live.count(k.stats.get())) return false;
    openflow::FlowRemoved m = k.msg;
    for (const OfRule* r : t.rules(m.table_id))  // replaced by an add: no message
      if (r->priority == m.priority && r->match == m.match) return true;
    const int64_t age = std::max<int64_t>(0, now - k.created_ms);
    const int64_t used = std::max(k.created_ms, k.stats->used_ms());
    if (m.hard_timeout && age >= int64_t(m.hard_timeout) * 1000)
      m.reason = 1;
    else if (m.idle_timeout && now - used >= int64_t(m.idle_timeout) * 1000)
      m.reason = 0;
    else
      m.reason = 2;
    m.duration_sec = uint32_t(age / 1000);
    m.duration_nsec = uint32_t(age % 1000) * 1000000u;
    m.packet_count = k.stats->packets();
    m.byte_count = k.stats->bytes();
    out.push_back(std::move(m));
    return true;
  });
  return out;
}

}  // namespace flowpath
