// flowpath/switch/openflow_backend.hpp — one bridge of an Ofproto (and,
// optionally, of the running Switch around it) as the switch side of
// OpenFlow connections (openflow/backend.hpp).
//
//   OfprotoBackend be(sw.ofproto(), "br0", &sw);
//   openflow::Connection conn(be, {}, now);
//
// Flow-mods change the bridge's OpenFlowTable under the Ofproto's mutex,
// exactly as `flowpath ctl add-flow` does (Ofproto::add_flow): the
// generation moves, so every PMD revalidates before its next batch.
// Semantics as Open vSwitch 3.1 (ofproto/ofproto.c):
// - add: table 255 means table 0; `check_overlap` refuses (OFPFMFC_OVERLAP)
//   when a rule of the same table and priority could match a packet the
//   new one matches; otherwise a rule with the same match and priority is
//   replaced.
// - modify / modify-strict: new actions for the selected rules; in
//   OpenFlow 1.0 (and NXM), a modify that selects nothing and has no
//   cookie mask adds the flow, as OVS does; in 1.3 it does not.
// - delete / delete-strict: table 255 = every table; out_port narrows.
// Stats are built from the same tables (flow, aggregate: the non-strict
// selection with cookie/mask, out_port and table), the Switch's port
// counters, and fixed desc/table data (254 tables, as OVS).  A flow dump
// is encoded from the rules in place (append_flow_stats: no FlowStats copy
// per rule), after the mutex is released: under it the rules are selected
// and pinned only.
//
// Barrier: the Switch's generation fence (docs/live-reconfiguration.md,
// "In effect"): barrier() returns once no PMD can process a packet with a
// table older than this moment's Ofproto generation — each PMD either
// started a pass past it, or was seen between batches (no batch marked in
// process, Pmd::between_batches, or its mutex free: every batch starts by
// revalidating) — so no packet processed after the
// barrier reply meets a stale megaflow.  (Batches already delivered are
// not affected.)  A barrier with no table change since the last one
// returns at once; ovs-ofctl add-flows sends one after every flow-mod.
//
// Hidden rules (priority > 65535, e.g. OpenFlowService's fail-open flow)
// are left out of stats and survive a controller's modify/delete, as OVS.
//
// Packet-out (as OVS): from a port of the bridge, the actions are
// translated as a flow's (bridge/xlate.hpp: NORMAL learns and forwards,
// FLOOD, ALL, IN_PORT, TABLE runs table 0, CONTROLLER makes a packet-in,
// set-field and VLAN actions rewrite) and the datapath actions run on the
// frame, each output sent on its SwitchPort under its PMD's mutex; ct()
// runs in the Switch's tracker and a ct(table=T) continues in the passes
// after it (openflow_backend_async.hpp).  From
// a reserved in_port (CONTROLLER, NONE) only outputs to ports, FLOOD and
// ALL are accepted.  Buffered packets and a packet-out without a Switch get
// an error.
//
// Flow-removed: rules added with OFPFF_SEND_FLOW_REM are remembered;
// take_removed() expires the bridge's timed-out flows and reports every
// remembered rule that is gone — idle or hard timeout, else delete (a
// flow-mod, the control socket) — as OVS sends them.  A rule replaced by
// an add of the same match and priority is not reported (OVS neither).
//
// The members live by responsibility: flow-mods and the barrier in
// switch/openflow_backend_flow_mod.hpp, stats and the flow dump in
// switch/openflow_backend_stats.hpp, packet-out and flow-removed in
// switch/openflow_backend_async.hpp; this header includes them all.
//
// Thread-safety: each call takes the Ofproto's mutex or the PMD mutexes,
// never both at once (the Switch's lock order).
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "flowpath/openflow/backend.hpp"
#include "flowpath/switch/link_info.hpp"
#include "flowpath/switch/switch.hpp"

namespace flowpath {

namespace openflow_backend_detail {
struct PortSender;  // openflow_backend_async.hpp
}

class OfprotoBackend : public openflow::SwitchBackend {
 public:
  static constexpr uint8_t kNumTables = 254;  // 0..253, as OVS (254 is hidden)

  OfprotoBackend(Ofproto& of, std::string bridge, Switch* sw = nullptr)
      : of_(of), bridge_(std::move(bridge)), sw_(sw) {
    of_.require_bridge(bridge_);
  }

  /// A stable datapath id: a hash of the bridge name (OVS uses its MAC).
  uint64_t datapath_id() const noexcept {
    uint64_t h = 0xcbf29ce484222325ull;
    for (char c : bridge_) h = (h ^ uint8_t(c)) * 0x100000001b3ull;
    return h & 0x0000ffffffffffffull;
  }

  openflow::FeaturesReply features() override {
    openflow::FeaturesReply f;
    f.datapath_id = datapath_id();
    f.n_tables = kNumTables;
    f.capabilities = 0x7;  // flow, table and port stats
    f.actions = 0xfff;     // every OpenFlow 1.0 action
    f.ports = port_descs();
    return f;
  }

  std::optional<openflow::OfpErrc> flow_mod(const openflow::FlowMod& fm, uint8_t version) override;
  /// All of a bundle's flow-mods under one hold of the Ofproto's mutex (no
  /// upcall sees a state in between), after checking every one of them
  /// against the tables as they are: on an error nothing changed
  /// (openflow_backend_flow_mod.hpp).
  std::optional<openflow::BundleFailure> flow_mod_bundle(std::span<const openflow::FlowMod> fms,
                                                         uint8_t version) override;
  openflow::StatsReply stats(const openflow::StatsRequest& rq) override;
  /// A flow dump encoded from the rules where they are, with no FlowStats
  /// per rule.  Only the selection runs under the Ofproto's mutex: it pins
  /// the rules (a published rule never changes but for its atomic
  /// counters: OpenFlowTable::modify copies), and the encoding runs after
  /// the unlock, so upcalls and flow-mods wait ~the sort, not the ~10 MB of
  /// encoding.  The entries are the table as of the selection.
  void append_flow_stats(const openflow::StatsRequest& rq, uint8_t version, uint32_t xid,
                         std::vector<uint8_t>& out) override;
  std::optional<openflow::OfpErrc> packet_out(const openflow::PacketOut& po) override;

  /// Returns once every earlier change is in effect in the datapath
  /// (openflow_backend_flow_mod.hpp says how).
  void barrier() override;
  /// How long barrier() spins before it sleeps.
  static constexpr int kBarrierSpinUs = 10;

  /// Flow-removed messages for the remembered rules that are gone (see above).
  std::vector<openflow::FlowRemoved> take_removed();

  /// The bridge's ports as OpenFlow describes them, with their state as
  /// OVS's netdev-linux gives it: a port on a kernel device (AF_XDP,
  /// packet socket, TAP) reads the device's flags (link_info.hpp: one
  /// ioctl per port, after the Ofproto's mutex is released) — down by
  /// `ip link set DEV down` -> config PORT_DOWN; no carrier (the veth
  /// peer down) or down -> state LINK_DOWN; else LIVE (a 1.0 encoding
  /// drops LIVE, as OVS's).  A port without a device (memory and patch
  /// ports, a backend without a Switch) is LIVE, as OVS's dummy and patch
  /// ports; one the Switch failed to open is LINK_DOWN.  The other config
  /// bits are port-mod's (BridgePort::of_config).
  std::vector<openflow::PortDesc> port_descs() {
    std::vector<openflow::PortDesc> out;
    std::vector<uint32_t> dp;  // datapath port numbers, 0 for patch ports
    {
      std::lock_guard lock(of_.mutex());
      for (const BridgePort* p : bridge().ports()) {
        openflow::PortDesc d;
        d.port_no = p->ofport();
        d.name = p->name().substr(0, 15);
        d.hw_addr = port_mac(p->name());
        d.config = p->of_config;
        out.push_back(std::move(d));
        dp.push_back(p->is_patch() ? 0 : p->dp_port);
      }
    }
    std::vector<SwitchPort*> open;
    if (sw_) open = sw_->ports();
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].state = openflow::kPortStateLive;
      if (!sw_ || dp[i] == 0) continue;
      const SwitchPort* sp = find_open(open, dp[i]);
      if (sp && sp->kind() == SwitchPortKind::kMemory) continue;
      LinkInfo l = sp ? read_link_state(sp->device()) : LinkInfo{};
      out[i].config &= ~openflow::kPortConfigDown;  // the device's flags say
      if (l.found && !l.admin_up) out[i].config |= openflow::kPortConfigDown;
      if (!l.link_up) out[i].state = openflow::kPortStateLinkDown;
    }
    return out;
  }

  /// Port-mods applied since the last call (the service sends their
  /// MODIFYs at once).  The connections' thread only.
  uint64_t take_port_mods() noexcept { return std::exchange(port_mods_, 0); }

  /// OFPT_PORT_MOD, as OVS's ofproto.c (port_mod_start, update_port_config):
  /// no such port -> PORT_MOD_FAILED/BAD_PORT, a hw_addr that is not the
  /// port's -> BAD_HW_ADDR; the `mask` bits of the port's config become
  /// `config`'s.  PORT_DOWN on a port with a kernel device sets the device
  /// administratively down or up (SIOCSIFFLAGS, as OVS's
  /// netdev_turn_flags_off/on: `ip link` shows it; if the kernel refuses,
  /// the bit stays, as OVS); on a port without one it is kept in
  /// BridgePort::of_config.  The service sends the port-status MODIFY
  /// right after (take_port_mods), to every connection that wants it.
  std::optional<openflow::OfpErrc> port_mod(const openflow::PortMod& pm) override {
    uint32_t dp = 0;
    {
      std::lock_guard lock(of_.mutex());
      BridgePort* p = bridge().port_by_ofport(pm.port_no);
      if (!p) return openflow::OfpErrc::kPortModBadPort;
      if (port_mac(p->name()) != pm.hw_addr) return openflow::OfpErrc::kPortModBadHwAddr;
      const SwitchPort* sp = nullptr;
      std::vector<SwitchPort*> open;
      if (sw_ && !p->is_patch()) open = sw_->ports(), sp = find_open(open, p->dp_port);
      const bool device = sp && sp->kind() != SwitchPortKind::kMemory;
      uint32_t mask = pm.mask;
      if (device) {
        if (mask & openflow::kPortConfigDown) dp = p->dp_port;
        mask &= ~openflow::kPortConfigDown;
      }
      uint32_t config = (p->of_config & ~mask) | (pm.config & mask);
      if (config != p->of_config) {
        p->of_config = config;
        of_.port_changed();  // cached flows may depend on the bits
      }
      ++port_mods_;
    }
    if (dp) {  // outside the Ofproto's mutex: an ioctl that may take RTNL
      std::vector<SwitchPort*> open = sw_->ports();
      if (const SwitchPort* sp = find_open(open, dp))
        set_link_admin(sp->device(), !(pm.config & openflow::kPortConfigDown));
    }
    return std::nullopt;
  }

 private:
  Bridge& bridge() const { return of_.require_bridge(bridge_); }
  // A stable locally administered MAC per port name (we have no device MAC
  // for memory and patch ports; port-mod checks it).
  static EthAddr port_mac(const std::string& name) {
    uint64_t h = std::hash<std::string>{}(name);
    return EthAddr{
        {0x02, uint8_t(h >> 32), uint8_t(h >> 24), uint8_t(h >> 16), uint8_t(h >> 8), uint8_t(h)}};
  }
  static const SwitchPort* find_open(const std::vector<SwitchPort*>& open, uint32_t dp) {
    for (const SwitchPort* q : open)
      if (q->dp_port() == dp) return q;
    return nullptr;
  }
  // flow_mod() with the Ofproto's mutex held.
  std::optional<openflow::OfpErrc> flow_mod_locked(const openflow::FlowMod& fm, uint8_t version,
                                                   bool check_overlap = true);
  // A spin-wait hint: the sibling hyperthread (maybe the PMD) gets the core.
  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  static bool overlaps(const Match& a, const Match& b) noexcept {
    for (size_t i = 0; i < FlowKey::kWords; ++i)
      if ((a.value.word(i) ^ b.value.word(i)) & a.mask.word(i) & b.mask.word(i)) return false;
    return true;
  }
  static OfFlowFilter filter(const Match& m, int32_t prio, bool strict, uint8_t table,
                             uint64_t cookie, uint64_t mask, uint32_t out_port) {
    OfFlowFilter f;
    f.match = m;
    f.priority = prio;
    f.strict = strict;
    f.table = table;
    f.cookie = cookie;
    f.cookie_mask = mask;
    f.out_port = out_port;
    return f;
  }
  // The rules a flow or aggregate stats request selects.
  auto selector(const openflow::StatsRequest& rq) const {
    OfFlowFilter f = filter(rq.match, 0, false, rq.table_id, rq.cookie, rq.cookie_mask, 0);
    // A plain dump matches everything: then the rule's 300-byte match is
    // not read here (a cache miss per rule), only later by the encoder.
    const bool any = is_zero(f.match.mask) && !f.match.has_meta();
    return [f = std::move(f), any, out_port = rq.out_port](const OfRule& r) {
      if (r.priority > 0xffff) return false;  // hidden (fail-open), as OVS
      if ((r.cookie & f.cookie_mask) != (f.cookie & f.cookie_mask)) return false;
      if (!any && !f.covers(r.match)) return false;
      return out_port == kOfppNone || r.outputs_to(out_port);
    };
  }
  std::vector<const OfRule*> select(const openflow::StatsRequest& rq) const {
    return bridge().tables().rules_if(rq.table_id, selector(rq));
  }
  std::vector<std::shared_ptr<const OfRule>> select_pinned(const openflow::StatsRequest& rq) const {
    return bridge().tables().shared_rules_if(rq.table_id, selector(rq));
  }
  static void stats_head(openflow::FlowStats& s, const OfRule& r, int64_t now);
  static void prefetch_object(const void* p, size_t n) noexcept;
  void port_stats(const openflow::StatsRequest& rq, openflow::StatsReply& rep);

  // Flow-removed bookkeeping: a rule is known by its counters' identity.
  struct Tracked {
    openflow::FlowRemoved msg;
    std::shared_ptr<RuleStats> stats;
    int64_t created_ms = 0;
  };
  void track(const openflow::FlowMod& fm, uint8_t table) {
    const OfRule* r = bridge().tables().find(table, fm.match, fm.priority);
    if (!r || !r->stats) return;
    openflow::FlowRemoved m;
    m.match = fm.match, m.cookie = fm.cookie, m.priority = fm.priority, m.table_id = table;
    m.idle_timeout = fm.idle_timeout, m.hard_timeout = fm.hard_timeout;
    tracked_.push_back({std::move(m), r->stats, r->created_ms});
  }
  std::vector<SwitchPort*> packet_out_ports(const openflow::PacketOut& po,
                                            std::optional<openflow::OfpErrc>& err);
  void packet_out_translated(const openflow::PacketOut& po, BridgePort& in, DpActionList& acts);
  void resolve_outputs(const DpActionList& acts, openflow_backend_detail::PortSender& sender);
  void run_packet_out(Packet& p, const DpActionList& first,
                      openflow_backend_detail::PortSender& sender);

  Ofproto& of_;
  std::string bridge_;
  Switch* sw_;
  std::vector<Tracked> tracked_;
  int64_t next_expire_ms_ = 0;
  uint64_t scanned_generation_ = ~0ull;
  uint64_t fenced_ = 0;  // every PMD is known to be past this generation
  uint64_t port_mods_ = 0;
};

}  // namespace flowpath

#include "flowpath/switch/openflow_backend_async.hpp"
#include "flowpath/switch/openflow_backend_flow_mod.hpp"
#include "flowpath/switch/openflow_backend_stats.hpp"
