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
// started a pass past it, or was seen between batches (its mutex free:
// every batch starts by revalidating) — so no packet processed after the
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
// Thread-safety: each call takes the Ofproto's mutex or the PMD mutexes,
// never both at once (the Switch's lock order).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "flowpath/openflow/backend.hpp"
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
  openflow::StatsReply stats(const openflow::StatsRequest& rq) override;
  /// A flow dump encoded from the rules where they are, with no FlowStats
  /// per rule.  Only the selection runs under the Ofproto's mutex: it pins
  /// the rules (a published rule never changes but for its atomic
  /// counters: OpenFlowTable::modify copies), and the encoding runs after
  /// the unlock, so upcalls and flow-mods wait ~the sort, not the ~10 MB of
  /// encoding.  The entries are the table as of the selection.
  void append_flow_stats(const openflow::StatsRequest& rq, uint8_t version, uint32_t xid,
                         std::vector<uint8_t>& out) override {
    std::vector<std::shared_ptr<const OfRule>> rules;
    int64_t now;
    {
      std::lock_guard lock(of_.mutex());
      now = of_.clock()->now_ms();
      rules = select_pinned(rq);
    }
    out.reserve(out.size() + rules.size() * 112);  // ~the mean entry: no regrowth copies
    openflow::FlowStatsStream s(out, version, xid, rq.match_format);
    openflow::FlowStats head;
    for (const auto& r : rules) {
      stats_head(head, *r, now);
      s.add(head, r->match, r->actions);
    }
    s.finish();
  }
  std::optional<openflow::OfpErrc> packet_out(const openflow::PacketOut& po) override;

  /// ovs-ofctl sends a barrier after every flow-mod of add-flows, so this
  /// is on the path of each one.  Nothing to wait for when no table moved
  /// since the last fence.  Else each PMD is past the change once either
  /// it published a generation >= g (its next pass began), or we hold its
  /// mutex for a moment: a PMD processes every batch under that mutex and
  /// Datapath::process revalidates before each batch, so with the mutex
  /// free no batch is in flight and every later one sees generation g.
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
  void barrier() override {
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
        if (p.seen_generation() >= g) break;
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
  /// How long barrier() spins before it sleeps.
  static constexpr int kBarrierSpinUs = 10;

  /// Flow-removed messages for the remembered rules that are gone (see above).
  std::vector<openflow::FlowRemoved> take_removed();

  std::vector<openflow::PortDesc> port_descs() {
    std::lock_guard lock(of_.mutex());
    std::vector<openflow::PortDesc> out;
    for (const BridgePort* p : bridge().ports()) {
      openflow::PortDesc d;
      d.port_no = p->ofport();
      d.name = p->name().substr(0, 15);
      uint64_t h = std::hash<std::string>{}(p->name());
      d.hw_addr = EthAddr{{0x02, uint8_t(h >> 32), uint8_t(h >> 24), uint8_t(h >> 16),
                           uint8_t(h >> 8), uint8_t(h)}};
      out.push_back(std::move(d));
    }
    return out;
  }

 private:
  Bridge& bridge() const { return of_.require_bridge(bridge_); }
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
};

inline std::optional<openflow::OfpErrc> OfprotoBackend::flow_mod(const openflow::FlowMod& fm,
                                                                 uint8_t version) {
  using C = openflow::FlowModCommand;
  std::lock_guard lock(of_.mutex());
  BridgeTables& t = bridge().tables();
  OfActionList actions = fm.instructions.flattened();
  const bool strict = fm.command == C::kModifyStrict || fm.command == C::kDeleteStrict;
  uint8_t add_table = fm.table_id == kOfTableAll ? 0 : fm.table_id;
  if (add_table >= kNumTables) return openflow::OfpErrc::kBadTableId;
  auto add = [&]() -> std::optional<openflow::OfpErrc> {
    if (fm.flags & openflow::kFlowModCheckOverlap)
      for (const OfRule* r : t.rules(add_table))
        if (r->priority == fm.priority && overlaps(r->match, fm.match))
          return openflow::OfpErrc::kFlowModOverlap;
    // the last use of `actions` (a modify that selected nothing ends here)
    t.add(add_table, fm.match, fm.priority, std::move(actions), fm.cookie, fm.idle_timeout,
          fm.hard_timeout);
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
        t.add(r.table_id, r.match, r.priority, r.actions, r.cookie, r.idle_timeout, r.hard_timeout);
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

/// Every field of `r`'s flow stats entry but the match and instructions.
inline void OfprotoBackend::stats_head(openflow::FlowStats& s, const OfRule& r, int64_t now) {
  s.table_id = r.table_id;
  int64_t age = now - r.created_ms < 0 ? 0 : now - r.created_ms;
  s.duration_sec = uint32_t(age / 1000);
  s.duration_nsec = uint32_t(age % 1000) * 1000000u;
  s.priority = r.priority;
  s.idle_timeout = r.idle_timeout;
  s.hard_timeout = r.hard_timeout;
  s.idle_age = uint16_t(std::min<int64_t>((now - r.last_used_ms()) / 1000, 0xffff));
  s.hard_age = uint16_t(std::min<int64_t>((now - r.modified_ms) / 1000, 0xffff));
  s.cookie = r.cookie;
  s.packet_count = r.stats ? r.stats->packets.load(std::memory_order_relaxed) : 0;
  s.byte_count = r.stats ? r.stats->bytes.load(std::memory_order_relaxed) : 0;
}

inline openflow::StatsReply OfprotoBackend::stats(const openflow::StatsRequest& rq) {
  using T = openflow::StatsType;
  openflow::StatsReply rep;
  rep.type = rq.type;
  rep.match_format = rq.match_format;
  if (rq.type == T::kPort) return port_stats(rq, rep), rep;
  if (rq.type == T::kPortDesc) return rep.port_descs = port_descs(), rep;
  std::lock_guard lock(of_.mutex());
  int64_t now = of_.clock()->now_ms();
  switch (rq.type) {
    case T::kDesc:
      rep.desc = {"flowpath", "flowpath switch", "flowpath", "None", bridge_};
      break;
    case T::kFlow: {
      auto rules = select(rq);
      rep.flows.reserve(rules.size());  // 100,000 entries: no regrowth copies
      for (const OfRule* r : rules) {
        openflow::FlowStats& f = rep.flows.emplace_back();
        stats_head(f, *r, now);
        f.match = r->match;
        f.instructions.actions = r->actions;
      }
      break;
    }
    case T::kAggregate:
      for (const OfRule* r : select(rq)) {
        ++rep.aggregate.flow_count;
        rep.aggregate.packet_count += r->stats ? r->stats->packets.load() : 0;
        rep.aggregate.byte_count += r->stats ? r->stats->bytes.load() : 0;
      }
      break;
    case T::kTable: {
      // ovs-ofctl asks for these before every add-flows, dump-flows and
      // del-flows in OpenFlow 1.0 (its table names): counted per table,
      // not by listing (and sorting) every rule.
      const BridgeTables& t = bridge().tables();
      for (uint8_t id = 0; id < kNumTables; ++id)
        rep.tables.push_back({id, id ? "table" + std::to_string(id) : "classifier", 0x3fffff,
                              1000000, uint32_t(t.size(id)), 0, 0});
      break;
    }
    case T::kTableFeatures:
      for (uint8_t id = 0; id < kNumTables; ++id)
        rep.table_features.push_back(
            {id, id ? "table" + std::to_string(id) : "classifier", 0, 0, 0, 1000000});
      break;
    default:
      break;
  }
  return rep;
}

inline void OfprotoBackend::port_stats(const openflow::StatsRequest& rq,
                                       openflow::StatsReply& rep) {
  std::vector<std::pair<uint32_t, uint32_t>> ports;  // ofport, dp_port
  {
    std::lock_guard lock(of_.mutex());
    for (const BridgePort* p : bridge().ports())
      if (rq.port_no == kOfppNone || rq.port_no == p->ofport())
        ports.emplace_back(p->ofport(), p->dp_port);
  }
  for (auto [ofport, dp] : ports) {
    openflow::PortStats s;
    s.port_no = ofport;
    // By number: ports() lists the open ports only, so an index would
    // shift once a port has gone.
    SwitchPort* sp = nullptr;
    if (sw_)
      for (SwitchPort* q : sw_->ports())
        if (q->dp_port() == dp) sp = q;
    if (sp) {
      std::lock_guard lock(sp->domain());
      SwitchPortStats st = sp->stats();
      s.counters[0] = st.rx, s.counters[1] = st.tx;
      s.counters[4] = st.rx_dropped, s.counters[5] = st.tx_dropped;
    }
    rep.ports.push_back(s);
  }
}

}  // namespace flowpath

#include "flowpath/switch/openflow_backend_async.hpp"
