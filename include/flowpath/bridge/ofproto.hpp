// flowpath/bridge/ofproto.hpp — the OpenFlow side of a switch: all bridges
// of a configuration, their ports, and the upcall that translates a
// packet for the datapath.
//
// Datapath ports.  One datapath serves every bridge (as Open vSwitch's
// netdev datapath does), so every non-patch port — LOCAL ports included —
// gets a datapath port number, 1, 2, ... in configuration order.  Patch
// ports have none: translation crosses them in-process.
//
// Invalidation.  generation() is the sum of every bridge's flow-table and
// MAC-table generations plus a port generation; each of those only grows,
// so the sum moves whenever any answer may have changed.  The datapath
// compares it before each batch and revalidates its caches.
//
// Dependencies (bridge/ofproto_changes.hpp).  Every change is also
// journaled (rule matches, MAC entries, kAll for ports), and each upcall
// reports what its translation consulted, so a datapath in
// Invalidation::kIndexed mode drops only the flows a change can affect.
//
// Connection tracking.  The upcall turns translation's ct() hand-offs into
// datapath actions: ct(...) with an interned DpCtSpec, recirc(id) with the
// id of the frozen state a ct(table=T) resumes (bridge/frozen.hpp); a key
// with recirc_id != 0 resumes that state.  Every megaflow pins recirc_id.
//
// Thread-safety: every public member takes `mutex()`; a switch's control
// thread and its datapath threads share one Ofproto.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "flowpath/bridge/config.hpp"
#include "flowpath/bridge/ofproto_changes.hpp"
#include "flowpath/bridge/xlate.hpp"
#include "flowpath/bridge/xlate_ct.hpp"
#include "flowpath/datapath/upcall.hpp"

namespace flowpath {

class Ofproto {
 public:
  struct Options {
    const Clock* clock = Clock::system();
    MacTableConfig mac{};
  };

  explicit Ofproto(const SwitchConfig& cfg) : Ofproto(cfg, Options{}) {}
  Ofproto(const SwitchConfig& cfg, Options opt) : opt_(opt) {
    for (const auto& bc : cfg.bridges)
      bridges_.push_back(std::make_unique<Bridge>(bc.name, opt_.clock, opt_.mac));
    for (size_t i = 0; i < cfg.bridges.size(); ++i)
      for (const auto& pc : cfg.bridges[i].ports) {
        auto p = std::make_unique<BridgePort>();
        p->cfg = pc;
        p->bridge = bridges_[i].get();
        if (!p->is_patch()) {
          p->dp_port = uint32_t(dp_ports_.size() + 1);
          dp_ports_.push_back(p.get());
        } else {
          p->make_patch_counters();
        }
        bridges_[i]->add_port(p.get());
        ports_.push_back(std::move(p));
      }
    for (auto& p : ports_)
      if (p->is_patch()) p->peer = find_port(p->cfg.peer);
    changes_.attach(bridges_);
    for (size_t i = 0; i < cfg.bridges.size(); ++i)
      for (const auto& fl : cfg.bridges[i].flows) {
        try {
          add_flow_locked(*bridges_[i], fl.text);
        } catch (const Error& e) {
          throw Error(fl.where + ": " + e.what());
        }
      }
  }

  std::mutex& mutex() const noexcept { return mu_; }

  // ---- the upcall (datapath/upcall.hpp) ---------------------------------
  void upcall(const FlowKey& key, const Packet* pkt, UpcallResult& r) {
    std::lock_guard lock(mu_);
    XlateResult x;
    changes_.begin(r.deps);
    try {
      translate_locked(key, pkt != nullptr, x, nullptr);
    } catch (...) {
      changes_.end(r);
      throw;
    }
    changes_.end(r);
    if (!x.controller.empty()) deliver_packet_ins(x, pkt, r);
    r.actions = x.ct_calls.empty() ? std::move(x.actions) : dp_actions_with_ct(x, frozen_);
    r.mask = x.mask;
    r.mask.recirc_id = ~0u;  // each pass has its own megaflows
    r.stats = std::move(x.stats);
    if (x.needs_upcall) r.mask = exact_mask();  // forces a fresh upcall (see xlate.hpp)
  }
  uint64_t generation() const noexcept {
    uint64_t g = port_generation_.load(std::memory_order_relaxed);
    for (const auto& b : bridges_) g += b->tables().generation() + b->macs().generation();
    return g;
  }

  /// The datapath actions of a translation with its ct(), ct_clear and
  /// recirc() in place (recirc ids allocated as the upcall would).
  DpActionList datapath_actions(const XlateResult& x) {
    std::lock_guard lock(mu_);
    return x.ct_calls.empty() ? x.actions : dp_actions_with_ct(x, frozen_);
  }

  /// datapath_actions() for a caller that holds mutex() (a packet-out).
  DpActionList datapath_actions_locked(const XlateResult& x) {
    return x.ct_calls.empty() ? x.actions : dp_actions_with_ct(x, frozen_);
  }

  /// Translation with full detail (used by upcall, trace and tests).
  void translate(const FlowKey& key, bool learn, XlateResult& out, std::string* trace) {
    std::lock_guard lock(mu_);
    translate_locked(key, learn, out, trace);
  }
  /// Translation of a packet arriving on `in`, which may be any port of any
  /// bridge, patch ports included (ovs-appctl ofproto/trace accepts a
  /// packet "received" on a patch port: it starts in that port's bridge).
  /// key.in_port is ignored.
  void translate_at(BridgePort& in, const FlowKey& key, bool learn, XlateResult& out,
                    std::string* trace) {
    std::lock_guard lock(mu_);
    FlowKey k = key;
    k.in_port = in.dp_port;
    Xlate x(k, learn, out, trace);
    x.run(*in.bridge, in);
  }

  // ---- control ---------------------------------------------------------
  void add_flow(std::string_view bridge, std::string_view text) {
    std::lock_guard lock(mu_);
    add_flow_locked(require_bridge(bridge), text);
  }
  /// `ovs-ofctl del-flows BRIDGE [MATCH]` (non-strict; `--strict` form with
  /// strict=true).  Returns how many rules went.
  size_t del_flows(std::string_view bridge, std::string_view match_text = "", bool strict = false) {
    std::lock_guard lock(mu_);
    Bridge& b = require_bridge(bridge);
    auto f = parse_flow(match_text, b.resolver(), FlowTextMode::kFilter);
    return b.tables().remove(OfFlowFilter::from(f, strict));
  }
  /// `ovs-ofctl mod-flows BRIDGE FLOW`: new actions for the selected rules.
  size_t mod_flows(std::string_view bridge, std::string_view text, bool strict = false) {
    std::lock_guard lock(mu_);
    Bridge& b = require_bridge(bridge);
    auto f = parse_flow(text, b.resolver(), FlowTextMode::kFilter);
    if (!f.has_actions) throw Error("mod-flows: '" + std::string(text) + "' has no actions=");
    return b.tables().modify(OfFlowFilter::from(f, strict), f.actions);
  }
  /// `ovs-appctl fdb/flush [BRIDGE]` (all bridges when empty).
  void fdb_flush(std::string_view bridge = "") {
    std::lock_guard lock(mu_);
    for (auto& b : bridges_)
      if (bridge.empty() || b->name() == bridge) b->macs().flush();
  }
  /// Tells caches that ports changed (added, removed, up/down).
  void port_changed() noexcept {
    port_generation_.fetch_add(1, std::memory_order_relaxed);
    changes_.mark_ports_changed();
  }

  /// JournaledUpcallHandler (datapath/upcall.hpp): the changes since *cursor.
  bool read_changes(uint64_t* cursor, std::vector<CacheChange>& out) {
    std::lock_guard lock(mu_);
    return changes_.read(cursor, out);
  }
  uint64_t change_seq() const noexcept { return changes_.change_seq(); }

  /// Ages MAC entries and expires timed-out flows; returns how many went.
  /// What flow-mods retired is freed here too, after the lock is released:
  /// upcalls and flow-mods do not wait for a big delete's frees.
  size_t run_periodic() {
    std::vector<BridgeTables::Garbage> garbage;
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (auto& b : bridges_) {
      garbage.push_back(b->tables().take_garbage());
      n += b->macs().expire() + b->tables().expire();
    }
    return n;
  }

  // ---- lookup ----------------------------------------------------------
  const std::vector<std::unique_ptr<Bridge>>& bridges() const noexcept { return bridges_; }
  Bridge* find_bridge(std::string_view name) const noexcept {
    for (const auto& b : bridges_)
      if (b->name() == name) return b.get();
    return nullptr;
  }
  Bridge& require_bridge(std::string_view name) const {
    Bridge* b = find_bridge(name);
    if (!b) throw Error("no bridge named " + std::string(name));
    return *b;
  }
  BridgePort* find_port(std::string_view name) const noexcept {
    for (const auto& p : ports_)
      if (p->name() == name) return p.get();
    return nullptr;
  }
  /// Non-patch ports in datapath-port order (index = dp_port - 1).
  const std::vector<BridgePort*>& dp_ports() const noexcept { return dp_ports_; }
  BridgePort* dp_port(uint32_t n) const noexcept {
    return n >= 1 && n <= dp_ports_.size() ? dp_ports_[n - 1] : nullptr;
  }
  std::string dp_port_name(uint32_t n) const {
    if (auto* p = dp_port(n)) return p->name();
    return std::to_string(n);
  }
  const Clock* clock() const noexcept { return opt_.clock; }

  // ---- live reconfiguration (switch/switch.hpp's apply) -----------------
  // Called by the one control thread.  add_bridge/remove_bridge change
  // the bridge list that generation() reads unlocked: the caller keeps
  // every datapath thread out of generation() meanwhile (the switch holds
  // its PMDs' mutexes).  Each change moves the port generation, so the
  // datapaths revalidate before their next batch.

  /// The datapath's port limit (the switch's port table has this many slots).
  static constexpr uint32_t kMaxDpPorts = 4096;

  /// A new bridge with no ports and no flows; throws Error when the name is taken.
  Bridge& add_bridge(std::string_view name) {
    std::lock_guard lock(mu_);
    if (find_bridge(name) || find_port(name))
      throw Error("bridge " + std::string(name) + ": name already in use");
    bridges_.push_back(std::make_unique<Bridge>(std::string(name), opt_.clock, opt_.mac));
    changes_.attach(bridges_);  // journal owners are bridge indices: wire them again
    port_changed();
    return *bridges_.back();
  }
  /// Removes a bridge whose ports were removed first (remove_port).  Its
  /// generations move into the port generation: generation() never falls.
  void remove_bridge(std::string_view name) {
    std::lock_guard lock(mu_);
    Bridge& b = require_bridge(name);
    if (!b.ports().empty()) throw Error("bridge " + std::string(name) + ": still has ports");
    port_generation_.fetch_add(b.tables().generation() + b.macs().generation() + 1);
    std::erase_if(bridges_, [&](const auto& x) { return x.get() == &b; });
    changes_.attach(bridges_);  // indices shifted: wire again, and journal "everything"
    changes_.mark_ports_changed();
  }
  /// A datapath port number for a port about to be opened: the lowest
  /// free one (numbers come back only through free_dp_port), else a new one.
  uint32_t reserve_dp_port() {
    std::lock_guard lock(mu_);
    if (!free_dp_ports_.empty()) {
      uint32_t n = *free_dp_ports_.begin();
      free_dp_ports_.erase(free_dp_ports_.begin());
      return n;
    }
    if (dp_ports_.size() >= kMaxDpPorts)
      throw Error("datapath port limit (" + std::to_string(kMaxDpPorts) + ") reached");
    dp_ports_.push_back(nullptr);
    return uint32_t(dp_ports_.size());
  }
  /// Gives a number back: one never published (its port failed to open),
  /// or one removed that no megaflow can name any more (after every
  /// datapath revalidated past its removal).
  void free_dp_port(uint32_t n) {
    std::lock_guard lock(mu_);
    if (n >= 1 && n <= dp_ports_.size() && !dp_ports_[n - 1]) free_dp_ports_.insert(n);
  }
  /// Adds a port to a bridge; dp_port from reserve_dp_port (0 for patch
  /// ports).  A patch port links with its peer if the peer exists.
  BridgePort& add_port(std::string_view bridge, const PortConfig& pc, uint32_t dp) {
    std::lock_guard lock(mu_);
    Bridge& b = require_bridge(bridge);
    if (find_port(pc.name)) throw Error("port " + pc.name + ": name already in use");
    auto p = std::make_unique<BridgePort>();
    p->cfg = pc;
    p->bridge = &b;
    if (!p->is_patch()) {
      p->dp_port = dp;
      dp_ports_.at(dp - 1) = p.get();
    } else {
      p->make_patch_counters();
      if (BridgePort* q = find_port(pc.peer); q && q->is_patch() && q->cfg.peer == pc.name) {
        p->peer = q;
        q->peer = p.get();
      }
    }
    b.add_port(p.get());
    ports_.push_back(std::move(p));
    port_changed();
    return *ports_.back();
  }
  /// Removes a port (its learned MACs go too); returns its datapath number
  /// (0: patch), which the caller frees with free_dp_port once no
  /// datapath can still name it.
  uint32_t remove_port(std::string_view name) {
    std::lock_guard lock(mu_);
    BridgePort* p = find_port(name);
    if (!p) throw Error("no port named " + std::string(name));
    uint32_t dp = p->dp_port;
    if (dp) dp_ports_[dp - 1] = nullptr;
    if (p->peer) p->peer->peer = nullptr;
    p->bridge->macs().flush_port(p->ofport(), true);
    p->bridge->remove_port(p);
    std::erase_if(ports_, [&](const auto& x) { return x.get() == p; });
    port_changed();
    return dp;
  }
  /// Changes a port's VLAN policy in place; what it learned goes (OVS
  /// flushes a bundle's MACs when its VLAN changes).
  void set_port_vlan(std::string_view name, std::optional<uint16_t> tag,
                     std::vector<uint16_t> trunks, std::optional<VlanMode> mode) {
    std::lock_guard lock(mu_);
    BridgePort* p = find_port(name);
    if (!p) throw Error("no port named " + std::string(name));
    p->cfg.tag = tag;
    p->cfg.trunks = std::move(trunks);
    p->cfg.vlan_mode = mode;
    p->bridge->macs().flush_port(p->ofport(), true);
    port_changed();
  }

 private:
  // Packet-ins (bridge/controller_sink.hpp): never cached, so every packet
  // of the flow reaches its controller; a revalidation (no packet) sends none.
  static void deliver_packet_ins(const XlateResult& x, const Packet* pkt, UpcallResult& r) {
    r.cacheable = false;
    if (!pkt) return;
    for (const ControllerOutput& c : x.controller)
      if (ControllerSink* s = c.bridge->controller_sink())
        s->packet_in(controller_packet_in(*pkt, x.actions, c));
  }

  void add_flow_locked(Bridge& b, std::string_view text) {
    b.tables().add(parse_flow(text, b.resolver()));
  }

  void translate_locked(const FlowKey& key, bool learn, XlateResult& out, std::string* trace) {
    if (key.recirc_id) return resume_locked(key, learn, out, trace);
    BridgePort* in = dp_port(key.in_port);
    if (!in) {
      out.mask.in_port = 0xffffffffu;
      if (trace) *trace += "no such datapath port " + std::to_string(key.in_port) + "\n";
      return;
    }
    FlowKey k = key;
    Xlate x(k, learn, out, trace);
    x.run(*in->bridge, *in);
  }

  // A recirculated pass: translation resumes the frozen state; a state
  // whose bridge or port is gone drops.
  void resume_locked(const FlowKey& key, bool learn, XlateResult& out, std::string* trace) {
    const FrozenState* s = frozen_.find(key.recirc_id);
    Bridge* b = s ? find_bridge(s->bridge) : nullptr;
    BridgePort* in = b ? b->port_by_ofport(s->entry_ofport) : nullptr;
    if (!in) {
      out.mask.in_port = 0xffffffffu;
      if (trace) *trace += "no frozen state for recirc_id " + std::to_string(key.recirc_id) + "\n";
      return;
    }
    if (key.ct_label_id && !ct_label_ids().label(key.ct_label_id)) {
      out.mask.in_port = 0xffffffffu;  // a label without id (table full): drop
      out.mask.ct_label_id = ~0u;
      if (trace) *trace += "no ct_label for id " + std::to_string(key.ct_label_id) + "\n";
      return;
    }
    Xlate x(key, learn, out, trace);
    x.run_frozen(*b, *in, *s);
  }

  Options opt_;
  FrozenTable frozen_;  // recirc ids and ct() specs (bridge/frozen.hpp)
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Bridge>> bridges_;
  std::vector<std::unique_ptr<BridgePort>> ports_;
  std::vector<BridgePort*> dp_ports_;
  std::atomic<uint64_t> port_generation_{0};
  std::set<uint32_t> free_dp_ports_;  // live reconfiguration: reusable numbers
  OfprotoChanges changes_;
};

static_assert(JournaledUpcallHandler<Ofproto>);

}  // namespace flowpath
