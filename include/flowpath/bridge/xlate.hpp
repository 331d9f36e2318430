// flowpath/bridge/xlate.hpp — translation: what a packet does, decided
// once per flow on the slow path (the "upcall").
//
// Given a packet's key and its ingress port, translation walks the
// bridge's OpenFlow tables (resubmit and goto_table, depth-limited),
// executes OpenFlow actions on a logical copy of the key, runs NORMAL
// (MAC learning switch honouring port VLAN modes), crosses patch ports into
// the peer bridge, and produces:
//   - the datapath actions (commit_flow() emits only real changes), and
//   - the megaflow mask: the union of every classifier lookup's wildcards
//     and every field NORMAL consulted (in_port, VLAN VID and presence,
//     dl_type, dl_src, dl_dst), plus whether there is an inner tag.
// Fields modified before being consulted are un-wildcarded in the original
// key too: conservative, never wrong.  OpenFlow sees one VLAN tag, as Open
// vSwitch with its default vlan-limit=1 (one_tag_view()).  All of this is
// checked against the real OVS by tests/differential.
//
// Side effects (MAC learning) happen only when `learn` is set: a
// revalidation re-translates without them.  A revalidation that finds the
// source MAC unknown or learned elsewhere reports `needs_upcall`, so the
// caller can drop the cached flow and let the next packet learn.
//
// With `trace` set, every bridge, table, rule and decision is explained in
// the shape of `ovs-appctl ofproto/trace`.
//
// Pipeline metadata (registers, conj_id: flow/pipeline_meta.hpp) starts at
// zero for each translation and for each bridge a patch port enters, as in
// OVS; load/move/set_field write it, table lookups match it, and it never
// reaches the megaflow (a register's value is a function of the key and
// the rules already consulted).  ct() is the hand-off point to the
// connection tracker: translation records an XlateCtCall (the datapath
// `ct(...)` action, with the zone read from its register now, the
// ct_mark/ct_label writes of exec(...) resolved, and the table a
// recirculation continues in) at the position in the datapath actions
// where it belongs, and carries on with the next action, as OVS's ct()
// forks the pipeline.  The tracker itself (and recirc ids) is
// conntrack/'s; format_dp_ct() prints the call as dpctl does.
//
// Cost: one classifier lookup per table visited plus O(ports) for a flood.
// Thread-safety: the caller holds the Ofproto's lock.
#pragma once

#include <string>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/bridge/bridge.hpp"
#include "flowpath/bridge/frozen.hpp"
#include "flowpath/bridge/xlate_commit.hpp"
#include "flowpath/core/stats.hpp"
#include "flowpath/flow/ct_label_ids.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath {

/// One hand-off to the connection tracker (or ct_clear) made by translation.
struct XlateCtCall {
  size_t at = 0;                     // index in XlateResult::actions before which it runs
  bool clear = false;                // ct_clear (the fields below unused)
  CtArgs args;                       // commit, force, nat, table (255: no recirculation)
  uint16_t zone = 0;                 // resolved: zone=N or the register's value now
  uint32_t mark = 0, mark_mask = 0;  // exec(...) writes to ct_mark
  U128 label = 0, label_mask = 0;    // ... and to ct_label
  friend bool operator==(const XlateCtCall&, const XlateCtCall&) = default;
};

/// As `ovs-appctl dpctl/dump-flows` prints the datapath actions:
/// `ct(commit,zone=1,mark=0x1/0xffffffff,nat(src=192.0.2.1)),recirc(0x5)`,
/// `ct_clear`.  `recirc_id`: the id the datapath gave table `args.table`.
inline std::string format_dp_ct(const XlateCtCall& c, uint32_t recirc_id = 0) {
  if (c.clear) return "ct_clear";
  std::string s;
  auto put = [&](const std::string& x) { s += (s.empty() ? "" : ",") + x; };
  if (c.args.commit) put("commit");
  if (c.args.force) put("force");
  if (c.zone) put("zone=" + std::to_string(c.zone));
  if (c.mark_mask) put("mark=" + ofctl::hex_u128(c.mark) + "/" + ofctl::hex_u128(c.mark_mask));
  // OVS prints the mark's mask always, the label's only when partial.
  if (c.label_mask)
    put("label=" + ofctl::hex_u128(c.label) +
        (c.label_mask == ~U128(0) ? "" : "/" + ofctl::hex_u128(c.label_mask)));
  if (c.args.nat.kind != NatArgs::kNone) put(ofctl::format_nat(c.args.nat));
  std::string out = "ct(" + s + ")";
  if (c.args.table != 255) {
    char b[24];
    std::snprintf(b, sizeof b, ",recirc(%#x)", recirc_id);
    out += b;
  }
  return out;
}

/// The tracker's parameters of a ct() call (the datapath's DpCtSpec).
inline ct::CtParams dp_ct_params(const XlateCtCall& c) {
  ct::CtParams p;
  p.zone = c.zone;
  p.commit = c.args.commit;
  p.force = c.args.force;
  p.set_mark = c.mark_mask != 0;
  p.mark = c.mark, p.mark_mask = c.mark_mask;
  p.set_label = c.label_mask != 0;
  p.label = {uint64_t(c.label >> 64), uint64_t(c.label)};
  p.label_mask = {uint64_t(c.label_mask >> 64), uint64_t(c.label_mask)};
  const NatArgs& n = c.args.nat;
  p.nat.present = n.kind != NatArgs::kNone;
  p.nat.kind = n.kind == NatArgs::kSrc   ? ct::NatSpec::kSrc
               : n.kind == NatArgs::kDst ? ct::NatSpec::kDst
                                         : ct::NatSpec::kNone;
  p.nat.has_addr = n.has_addr;
  p.nat.has_port = n.has_ports;
  p.nat.addr_min = n.addr_min.b, p.nat.addr_max = n.addr_max.b;
  p.nat.port_min = n.port_min, p.nat.port_max = n.port_max;
  return p;
}

struct XlateResult {
  DpActionList actions;
  std::vector<XlateCtCall> ct_calls;  // where connection tracking goes (see Xlate)
  std::vector<FrozenState> freezes;   // per ct_call: what its recirculation resumes
  // Tracing only (bridge/trace.hpp): per ct(table=T), the flow its
  // recirculation resumes with, as OVS's trace builds it: the packet at the
  // ct(), ct_zone its zone, ct_mark/ct_label as exec(...) left them.
  std::vector<FlowKey> trace_forks;
  std::pair<FlowKey, PipelineMeta> trace_final{};  // the flow at the end ("Final flow:")
  FlowMask mask{};
  std::vector<std::shared_ptr<RuleStats>> stats;
  bool needs_upcall = false;  // revalidation only: source MAC must be (re)learned
  bool learned = false;       // a MAC was learned or moved
  // Packet-ins (bridge/controller_sink.hpp): non-empty makes the result
  // uncacheable (Ofproto::upcall).
  std::vector<ControllerOutput> controller;
};

class Xlate {
 public:
  static constexpr int kMaxDepth = 64;

  Xlate(const FlowKey& key, bool learn, XlateResult& out, std::string* trace = nullptr)
      : flow_(one_tag_view(key)),
        base_(flow_),
        out_(out),
        learn_(learn),
        trace_(trace),
        conntracked_(key.ct_state & kCsTracked) {}

  /// What OpenFlow sees of a packet: one VLAN tag, as Open vSwitch with its
  /// default other_config:vlan-limit=1.  An inner tag is payload: the
  /// ethertype seen is its TPID, and popping the outer tag leaves a frame
  /// that looks untagged with ethertype 0x8100 (which NORMAL drops as a
  /// partial tag).  The datapath key keeps both tags; the megaflow pins
  /// whether there is an inner tag (see run()).
  static FlowKey one_tag_view(const FlowKey& key) noexcept {
    FlowKey f = key;
    if (f.vlans[1].tci.host() & kVlanCfi) {
      f.dl_type = f.vlans[1].tpid;
      f.vlans[1] = VlanHeader{};
    }
    return f;
  }

  /// Translates a packet that entered `bridge` through `port`.
  void run(Bridge& bridge, BridgePort& port) {
    bridge_section(bridge);
    enter_bridge(bridge, port);
    out_.mask.in_port = 0xffffffffu;  // megaflows always pin the datapath port
    // Translation saw an inner tag (or its absence) as the ethertype: pin it.
    out_.mask.vlans[1].tpid = Be16::from_raw(0xffff);
    out_.mask.vlans[1].tci = out_.mask.vlans[1].tci | Be16{kVlanCfi};
  }

  /// Resumes a recirculated packet (key.recirc_id) in the state frozen at
  /// its ct(table=T): table T of `bridge`, the registers restored; `port`
  /// is where the packet entered the bridge.  The megaflow pins as run().
  void run_frozen(Bridge& bridge, BridgePort& port, const FrozenState& s) {
    bridge_section(bridge);
    bridge_ = &bridge;
    in_port_ = &port;
    meta_ = s.meta;
    meta_.ct_label = key_label();
    flow_.in_port = s.in_port;
    line("    thaw");
    line("        Resuming from table " + std::to_string(s.table));
    run_table(s.table);
    if (trace_) out_.trace_final = {flow_, meta_};
    out_.mask.in_port = 0xffffffffu;
    out_.mask.vlans[1].tpid = Be16::from_raw(0xffff);
    out_.mask.vlans[1].tci = out_.mask.vlans[1].tci | Be16{kVlanCfi};
  }

  /// Runs `actions` on a packet that entered `bridge` through `port`, as
  /// an OpenFlow packet-out does: `output:TABLE` runs table 0.
  void run_actions(Bridge& bridge, BridgePort& port, const OfActionList& actions) {
    bridge_ = &bridge;
    in_port_ = &port;
    flow_.in_port = port.ofport();
    for (const auto& a : actions) {
      if (a.type == OfActionType::kOutput && a.port == kOfppTable)
        run_table(0);
      else if (!do_action(a, 0))
        break;
    }
  }

 private:
  // ---- tracing --------------------------------------------------------
  void line(const std::string& s) {
    if (!trace_) return;
    trace_->append(size_t(indent_), ' ');
    *trace_ += s;
    *trace_ += '\n';
  }
  void bridge_section(const Bridge& b) {
    if (!trace_) return;
    std::string title = "bridge(\"" + b.name() + "\")";
    if (!trace_->empty()) *trace_ += '\n';
    line(title);
    line(std::string(title.size(), '-'));
  }

  // ---- tables ---------------------------------------------------------
  void enter_bridge(Bridge& bridge, BridgePort& port) {
    Bridge* saved_bridge = bridge_;
    BridgePort* saved_port = in_port_;
    PipelineMeta saved_meta = meta_;
    bridge_ = &bridge;
    in_port_ = &port;
    meta_ = PipelineMeta{};        // registers start at zero in every bridge, as in OVS
    meta_.ct_label = key_label();  // ... the packet's conntrack state does not
    flow_.in_port = port.ofport();
    run_table(0);
    if (trace_ && !saved_bridge) out_.trace_final = {flow_, meta_};
    bridge_ = saved_bridge;
    in_port_ = saved_port;
    meta_ = saved_meta;
  }

  void run_table(uint8_t table_id) {
    if (++depth_ > kMaxDepth) {
      line("over max translation depth " + std::to_string(kMaxDepth) + ", dropping");
      --depth_;
      return;
    }
    FlowMask wc{};
    const auto* rule = bridge_->tables().lookup(table_id, flow_, &wc, &meta_);
    wc.in_port = 0;
    mask_union(out_.mask, wc);
    std::string head = (table_id < 10 ? " " : "") + std::to_string(table_id) + ". ";
    if (!rule) {
      if (honor_miss_) miss_to_controller(table_id);
      line(head + "No match.");
      line("    drop");
      --depth_;
      return;
    }
    if (trace_) {
      PortNamer namer = port_namer();
      std::string m = format_match(rule->match, kOfDefaultPriority, &namer);
      line(head + (m.empty() ? "" : m + ", ") + "priority " + std::to_string(rule->priority) +
           (rule->cookie ? ", cookie " + hex(rule->cookie) : ""));
    }
    out_.stats.push_back(rule->stats);
    indent_ += 4;
    auto actions = rule->actions;  // the rule may be replaced while we run
    const OfRule* saved_rule = rule_;
    rule_ = rule;
    if (actions.empty()) line("drop");  // as OVS's trace prints a rule without actions
    for (size_t i = 0; i < actions.size(); ++i) {
      last_action_ = i + 1 == actions.size();
      if (!do_action(actions[i], table_id)) break;
    }
    rule_ = saved_rule;
    indent_ -= 4;
    --depth_;
  }

  // The ct_label the key's id names (flow/ct_label_ids.hpp).  An id the
  // table never gave (kUnknown: the table was full) reads as zero; the
  // Ofproto drops such packets before translating them.
  CtLabelBytes key_label() const {
    return flow_.ct_label_id ? ct_label_ids().label(flow_.ct_label_id).value_or(CtLabelBytes{})
                             : CtLabelBytes{};
  }

  PortNamer port_namer() const { return bridge_->namer(); }
  static std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
  }

  // ---- the controller (bridge/controller_sink.hpp) --------------------
  void to_controller(PacketInReason why, uint8_t table_id, uint64_t cookie, uint16_t max_len) {
    line(" -> sending to controller");
    commit_flow(flow_, base_, out_.mask, out_.actions);  // the packet-in sees the rewrites
    out_.controller.push_back({bridge_, in_port_->ofport(), why, table_id, cookie, max_len,
                               out_.actions.size(), flow_.ct_state, flow_.ct_zone.host(),
                               flow_.ct_mark.host(), meta_, ct_orig_tuple(flow_)});
  }
  void miss_to_controller(uint8_t table_id) {
    ControllerSink* s = bridge_->controller_sink();
    if (s && s->miss_to_controller()) to_controller(PacketInReason::kNoMatch, table_id, ~0ull, 0);
  }

  /// Runs one OpenFlow action; false stops the rest of the list.
  bool do_action(const OfAction& a, uint8_t table_id);
  /// A rewrite pins what it writes (`set` marks it in a blank mask).
  template <class F>
  void pin(F set) {
    FlowMask w{};
    set(w);
    pin_rewrite(flow_, w, out_.mask);
  }
  /// Whether the packet is IP (IPv4 only with `v4`): a decision on
  /// dl_type, so the megaflow pins it (OVS pins dl_type always).
  bool is_ip(bool v4 = false) noexcept {
    out_.mask.dl_type = Be16::from_raw(0xffff);
    const uint16_t t = flow_.dl_type.host();
    return t == kEthTypeIpv4 || (!v4 && t == kEthTypeIpv6);
  }
  void output_ofport(uint32_t ofport);
  void output_port(BridgePort& port);
  /// The frame's VLAN inside NORMAL: TPID, VID, PCP (in its TCI position).
  struct NormalVlan {
    uint16_t tpid;
    uint16_t vid;
    uint16_t pcp;
  };
  void normal();
  void normal_output(BridgePort& port, const NormalVlan& nv);
  void flood(bool all);
  void move(const OfAction& a);
  bool dec_ttl(const OfAction& a);
  void conntrack(const OfAction& a);
  void ct_clear();

  FlowKey flow_;         // the packet as OpenFlow actions have made it
  FlowKey base_;         // the packet as emitted datapath actions have made it
  PipelineMeta meta_{};  // registers, conj_id: this translation's only
  XlateResult& out_;
  bool learn_;
  std::string* trace_;
  Bridge* bridge_ = nullptr;
  BridgePort* in_port_ = nullptr;
  bool last_action_ = false;      // do_action runs its rule's last action (tracing's layout)
  const OfRule* rule_ = nullptr;  // the rule whose actions run
  bool honor_miss_ = true;        // false inside a resubmit (OVS: no packet-in on its miss)
  bool conntracked_;              // tracked in this pass: ct_clear has something to clear
  int depth_ = 0;
  int indent_ = 0;
};

}  // namespace flowpath

#include "flowpath/bridge/xlate_actions.hpp"
