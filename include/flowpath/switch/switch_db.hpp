// flowpath/switch/switch_db.hpp — a running Switch following the
// Open_vSwitch database (`flowpath switch --db`), as ovs-vswitchd does.
//
//   ovsdb::Client client("unix:/tmp/x/db.sock");
//   SwitchDb db(sw);
//   for (auto& a : client.run_once(100))
//     if (a.kind == ovsdb::Action::Kind::kReplicaUpdated)
//       if (auto ops = db.on_replica(client.replica()); !ops.empty()) client.transact(ops);
//
// on_replica: the replica -> SwitchConfig (ovsdb/to_config.hpp) ->
// Switch::apply (diff, open, publish, fence) -> the write-back operations:
// Interface ofport (the configured number, 65534 for a bridge's LOCAL
// port), link_state / admin_state / mac_in_use read from the device;
// ofport -1 and `error` for an interface that failed to open or to
// configure (every other port keeps forwarding); Bridge datapath_id (the
// LOCAL device's MAC, as OVS, else derived from the bridge UUID); and
// Open_vSwitch cur_cfg = next_cfg once apply's fence passed, which is what
// `ovs-vsctl` without --no-wait waits for.  All in one transaction.
//
// Only what changed.  An update touches the rows it changed, so the
// write-back does too: an interface's state is recomputed (its device
// read: two ioctls) only when its binding (port, ofport,
// error) changed or apply() opened its device again; a bridge's
// datapath_id only when the bridge is new or its LOCAL port was opened.
// One `add-port` so costs one device read and one row, not O(ports).
// The state read from the device (link_info.hpp: four ioctls, no RTNL)
// is link_state, admin_state, mac_in_use, ifindex, mtu; `status` (the
// driver, ETHTOOL_GDRVINFO, which takes RTNL) is read once per device by
// the periodic refresh, never on the path of a change.
// refresh() (once a second) reads every device and writes the rows whose
// state changed, and every 5 s the Interface statistics (one netlink dump),
// in the same transaction: never on the path of a change.  It also reads
// link_speed / duplex (ETHTOOL_GSET, RTNL: once per device and after each
// carrier change), counts link_resets (link_resets.hpp: the kernel's link
// messages, read there and after each write-back is sent), and writes
// once the columns that do not depend on the configuration (Open_vSwitch
// datapath_types / iface_types / dpdk_version, Bridge datapath_version).
// Patch ports are written as OVS writes them (up, ifindex 0, a MAC, the
// packets that crossed the pair as statistics).  A row is written only when what we
// would write differs from what we last wrote, so our own writes (which
// the monitor echoes back) end the exchange.
// forget() drops that memory (after a reconnect or a failed transaction).
// The echo of our own write-back (an update of Interface ofport and
// Open_vSwitch cur_cfg alone, each ofport the number configured) is not
// applied again (echo_only): it would rebuild and diff the same
// configuration and write nothing.
// Cost: one to_switch_config + apply per update that changes more than
// the echo, plus one device read per changed interface; the
// configuration is handed to apply (moved, not copied).  Thread-safety:
// the control thread only.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "flowpath/ovsdb/ops.hpp"
#include "flowpath/ovsdb/to_config.hpp"
#include "flowpath/switch/link_info.hpp"
#include "flowpath/switch/link_resets.hpp"
#include "flowpath/switch/switch.hpp"

namespace flowpath {

class SwitchDb {
 public:
  explicit SwitchDb(Switch& sw) : sw_(sw) {}

  /// Applies the database and returns the write-back operations (an
  /// empty array when nothing needs writing).
  ovsdb::Json on_replica(const ovsdb::Replica& replica) {
    trace_.begin_ns = steady_now_ns();
    if (echo_only(replica)) return echo(replica);
    ++full_applies_;
    ovsdb::DbConfig d = ovsdb::to_switch_config(replica);
    trace_.config_ns = steady_now_ns();
    last_ = sw_.apply(std::move(d.config));  // write_back reads sw_.config()
    ovsdb::Json ops = write_back(d, false);
    if (!d.root.empty() && last_.in_effect && d.cur_cfg != d.next_cfg)
      ops.push_back(ovsdb::op_cur_cfg(d.root, d.next_cfg));
    // What an update that only echoes this write-back may skip (echo_only).
    applied_ = Applied{replica.config_generation(), d.errors.empty() && last_.errors.empty()};
    trace_.written_ns = steady_now_ns();
    return ops;
  }
  /// Updates applied in full (to_switch_config + Switch::apply) so far; an
  /// update that only echoes our own write-back is not one (echo_only).
  uint64_t full_applies() const noexcept { return full_applies_; }
  /// When the stages of the last on_replica ended (steady_now_ns); the
  /// apply's own stages are in last_result() (opened_ns, fenced_ns).
  struct Trace {
    int64_t begin_ns = 0, config_ns = 0, written_ns = 0;
  };
  const Trace& trace() const noexcept { return trace_; }
  /// After the write-back of an update was sent: work for the next change
  /// that is better done now than on its critical path (Switch::prepare_spare).
  /// Also reads the kernel's queued link messages (carrier changes) here
  /// rather than on the change's path.
  void after_sent() {
    resets_.read();
    sw_.prepare_spare();
  }
  /// Periodic (the control loop, once a second): the rows whose device
  /// state (link, admin, MAC) changed since they were written.  Nothing
  /// is applied: the replica is the one on_replica last applied.
  /// Every stats_interval_ms (5 s, as ovs-vswitchd's
  /// other_config:stats-update-interval default) the same transaction
  /// carries Interface statistics: one netlink dump of the namespace's
  /// devices, the rows whose counters moved.
  ovsdb::Json refresh(const ovsdb::Replica& replica) {
    ovsdb::DbConfig d = ovsdb::to_switch_config(replica);
    resets_.read();
    ovsdb::Json ops = write_back(d, true);
    constants(d, ops);
    int64_t now = steady_now_ns();
    if (now >= next_stats_ns_) {
      next_stats_ns_ = now + stats_interval_ms * 1'000'000;
      statistics(d, ops);
    }
    return ops;
  }
  int64_t stats_interval_ms = 5000;
  /// Forgets what was written: the next update writes every row again.
  void forget() {
    applied_.reset();
    written_.clear();
    bound_.clear();
    stats_written_.clear();
    constants_written_.clear();
  }
  const ApplyResult& last_result() const noexcept { return last_; }
  /// Devices read so far (two ioctls each): what a change costs here.
  uint64_t devices_read() const noexcept { return devices_read_; }

 private:
  // The echo of our own write-back: an update that changed nothing but
  // cur_cfg and Interface ofport (Replica::config_generation unmoved since
  // the last full apply), with every bound interface's ofport the number we
  // configured (so to_switch_config would number every port as before), no
  // port left to retry (a failed open is retried by the next apply) and no
  // configuration error (a dropped interface's ofport may steer numbering).
  // The configuration is then the running one and the write-back has no
  // row to write: the full path would diff nothing, open nothing and send
  // nothing but cur_cfg, so it is skipped (to_switch_config and apply:
  // 100-300 µs of CPU per change, spent just as ovsdb-server and ovs-vsctl
  // need the cores to finish the change).
  bool echo_only(const ovsdb::Replica& replica) const {
    if (!applied_ || !applied_->clean || !last_.in_effect) return false;
    if (replica.config_generation() != applied_->config_generation) return false;
    for (const auto& [uuid, b] : bound_) {
      if (b.ofport < 0) continue;  // a bridge's row
      const ovsdb::InterfaceRow* ir = ovsdb::Replica::find(replica.interfaces(), uuid);
      if (!ir || ir->ofport != b.ofport) return false;
    }
    return true;
  }
  ovsdb::Json echo(const ovsdb::Replica& replica) {
    trace_.config_ns = steady_now_ns();
    ApplyResult r;  // what an apply with nothing to change returns
    r.in_effect = true;
    r.generation = last_.generation;
    r.opened_ns = r.fenced_ns = trace_.config_ns;
    last_ = std::move(r);
    ovsdb::Json ops = ovsdb::Json::array();
    if (const ovsdb::OpenVSwitchRow* root = replica.root(); root && root->cur_cfg != root->next_cfg)
      ops.push_back(ovsdb::op_cur_cfg(root->uuid, root->next_cfg));
    trace_.written_ns = steady_now_ns();
    return ops;
  }

  // every: recompute each row (refresh); else only the rows whose binding
  // changed or whose device apply() opened.
  ovsdb::Json write_back(const ovsdb::DbConfig& d, bool every) {
    ovsdb::Json ops = ovsdb::Json::array();
    std::map<std::string, Bound> bound;
    for (const auto& b : d.bindings) {
      const std::string* err = failure(b.port);
      std::string key = b.port + '\n' + std::to_string(b.ofport) + '\n' + (err ? *err : "");
      auto old = bound_.find(b.interface_uuid);
      bool same = old != bound_.end() && old->second.key == key && !last_.was_opened(b.port);
      bound[b.interface_uuid] = {std::move(key), b.ofport};
      if (same && !every) continue;
      ovsdb::InterfaceState st;
      if (err) {
        st.ofport = -1;
        st.error = *err;
      } else {
        st = device_state(b.port, b.interface_uuid, every);
        st.ofport = b.ofport;
      }
      write_interface(b.interface_uuid, st, ops);
    }
    for (const auto& e : d.errors)
      if (!e.interface_uuid.empty()) {
        ovsdb::InterfaceState st;
        st.error = e.message;
        bound[e.interface_uuid] = {"error\n" + e.message, -1};
        write_interface(e.interface_uuid, st, ops);  // no device read: cheap
      }
    for (const auto& b : d.bridges) {
      bound[b.uuid] = {b.name, -1};
      auto w = written_.find(b.uuid);
      if (!every && w != written_.end() && !last_.was_opened(b.name)) continue;
      std::string dpid = datapath_id(b);
      if (w == written_.end() || w->second != dpid) {
        written_[b.uuid] = dpid;
        ops.push_back(ovsdb::op_bridge_datapath_id(b.uuid, dpid));
      }
    }
    // Rows gone from the database are forgotten (a row re-created gets a
    // new UUID anyway).
    std::erase_if(written_, [&](const auto& kv) { return !bound.count(kv.first); });
    bound_ = std::move(bound);
    return ops;
  }
  const std::string* failure(const std::string& port) const {
    for (const auto& e : last_.errors)
      if (e.name == port) return &e.message;
    return nullptr;
  }
  // every (the periodic refresh, off the path of a change) also reads the
  // driver and the link settings (ethtool: RTNL); a change writes what is
  // known so far of them, and link_resets from the carrier count.
  ovsdb::InterfaceState device_state(const std::string& port, const ovsdb::Uuid& iface,
                                     bool every) {
    ovsdb::InterfaceState st;
    const PortConfig* pc = sw_.config().find_port(port);
    if (!pc) return st;
    if (pc->type == PortType::kPatch) return patch_state(iface);
    const std::string dev = pc->device();
    ++devices_read_;
    LinkInfo ds = read_link_unlocked(dev);
    if (!ds.found) return st;
    st.admin_state = ds.admin_up ? "up" : "down";
    st.link_state = ds.link_up ? "up" : "down";
    st.mac_in_use = ds.mac;
    st.ifindex = ds.ifindex;
    st.mtu = ds.mtu;
    // The driver only changes with the device: read (ethtool) once per
    // ifindex, by the first refresh that finds it (<= 1 s after the add;
    // ovs-vswitchd too writes status in a later transaction).
    auto& drv = drivers_[dev];
    if (drv.first != ds.ifindex && !every) drv = {0, {}};
    if (drv.first != ds.ifindex && every) {
      DriverInfo di = read_driver(dev);
      drv = {ds.ifindex, {}};
      if (di.found)
        drv.second = {{"driver_name", di.name},
                      {"driver_version", di.version},
                      {"firmware_version", di.firmware}};
    }
    st.status = drv.second;
    // link_resets: counted from the port's open (a change that opened the
    // device starts again at 0, as OVS's netdev does); a count a change
    // starts is fresh until the next read (link_resets.hpp).
    if ((!every && last_.was_opened(port)) || !resets_.known(dev, ds.ifindex))
      resets_.start(dev, ds.ifindex, ds.link_up, !every);
    st.link_resets = resets_.observe(dev, ds.ifindex, ds.link_up);
    // Speed and duplex: read by the refresh for a new device and after each
    // carrier change (a link may come back at another speed).
    auto& ls = settings_[dev];
    if (ls.ifindex != ds.ifindex && !every) ls = {};
    if (every && (ls.ifindex != ds.ifindex || ls.resets != st.link_resets))
      ls = {ds.ifindex, st.link_resets, read_link_settings(dev)};
    st.link_speed = ls.settings.speed_bps;
    st.duplex = ls.settings.duplex;
    return st;
  }
  // A patch port has no device: OVS's netdev-vport reports it up, ifindex
  // 0, no carrier change and a random MAC (here one derived from the
  // Interface row, so it stays while the row does: locally administered,
  // unicast).
  static ovsdb::InterfaceState patch_state(const ovsdb::Uuid& iface) {
    ovsdb::InterfaceState st;
    st.admin_state = "up";
    st.link_state = "up";
    st.ifindex = 0;
    st.link_resets = 0;
    uint64_t h = 1469598103934665603ull;
    for (char ch : iface) h = (h ^ uint8_t(ch)) * 1099511628211ull;
    const uint8_t mac[6] = {uint8_t(((h >> 40) & 0xfc) | 0x02),
                            uint8_t(h >> 32),
                            uint8_t(h >> 24),
                            uint8_t(h >> 16),
                            uint8_t(h >> 8),
                            uint8_t(h)};
    st.mac_in_use = link_detail::mac_text(mac);
    return st;
  }
  // Off the path of a change (the refresh): the columns whose values do not
  // depend on the configuration, written once per row.  Open_vSwitch
  // datapath_types / iface_types (what this switch accepts: bridges of
  // either OVS datapath type run on flowpath's userspace datapath, as
  // OVS's netdev), dpdk_version "none"; each Bridge's datapath_version
  // "<built-in>" (the datapath is the switch process, as OVS's netdev).
  void constants(const ovsdb::DbConfig& d, ovsdb::Json& ops) {
    std::map<std::string, bool> seen;
    if (!d.root.empty()) {
      seen[d.root] = true;
      if (!constants_written_.count(d.root)) {
        ovsdb::SwitchCapabilities caps;
        caps.datapath_types = {"netdev", "system"};
        caps.iface_types = {"afxdp", "internal", "patch", "system"};
        ops.push_back(ovsdb::op_capabilities(d.root, caps));
      }
    }
    for (const auto& b : d.bridges) {
      seen[b.uuid] = true;
      if (!constants_written_.count(b.uuid))
        ops.push_back(ovsdb::op_bridge_datapath_version(b.uuid, "<built-in>"));
    }
    constants_written_ = std::move(seen);
  }
  // Interface statistics as ovs-vswitchd's netdev-linux reports them: the
  // kernel's counters of the device; for an internal port (a TAP device)
  // swapped, since what the kernel receives from the TAP the switch sent
  // (OVS does the same).  A patch port has no device: its rx/tx packets
  // and bytes are what crossed the pair (BridgePort::patch_tx / patch_rx,
  // counted by the datapath flows), the four keys OVS writes for one.
  void statistics(const ovsdb::DbConfig& d, ovsdb::Json& ops) {
    std::map<std::string, LinkInfo> links = read_all_links();
    std::map<std::string, std::string> seen;
    auto write = [&](const ovsdb::Uuid& u, const std::map<std::string, int64_t>& m) {
      ovsdb::Json op = ovsdb::op_interface_statistics(u, m);
      std::string text = op.dump();
      seen[u] = text;
      auto w = stats_written_.find(u);
      if (w == stats_written_.end() || w->second != text) ops.push_back(std::move(op));
    };
    for (const auto& b : d.bindings) {
      if (failure(b.port)) continue;
      const PortConfig* pc = sw_.config().find_port(b.port);
      if (!pc) continue;
      if (pc->type == PortType::kPatch) {
        const BridgePort* bp = sw_.ofproto().find_port(b.port);
        if (!bp || !bp->patch_tx || !bp->patch_rx) continue;
        const RuleStats &rx = *bp->patch_rx, &tx = *bp->patch_tx;
        write(b.interface_uuid, {{"rx_packets", int64_t(rx.packets())},
                                 {"rx_bytes", int64_t(rx.bytes())},
                                 {"tx_packets", int64_t(tx.packets())},
                                 {"tx_bytes", int64_t(tx.bytes())}});
        continue;
      }
      auto l = links.find(pc->device());
      if (l == links.end() || !l->second.has_stats) continue;
      LinkStats k = l->second.stats;
      if (pc->type == PortType::kInternal) {
        std::swap(k.rx_packets, k.tx_packets);
        std::swap(k.rx_bytes, k.tx_bytes);
        std::swap(k.rx_errors, k.tx_errors);
        std::swap(k.rx_dropped, k.tx_dropped);
      }
      std::map<std::string, int64_t> m = {{"rx_packets", int64_t(k.rx_packets)},
                                          {"tx_packets", int64_t(k.tx_packets)},
                                          {"rx_bytes", int64_t(k.rx_bytes)},
                                          {"tx_bytes", int64_t(k.tx_bytes)},
                                          {"rx_errors", int64_t(k.rx_errors)},
                                          {"tx_errors", int64_t(k.tx_errors)},
                                          {"rx_dropped", int64_t(k.rx_dropped)},
                                          {"tx_dropped", int64_t(k.tx_dropped)},
                                          {"rx_multicast_packets", int64_t(k.multicast)},
                                          {"collisions", int64_t(k.collisions)},
                                          {"rx_over_err", int64_t(k.rx_over_errors)},
                                          {"rx_crc_err", int64_t(k.rx_crc_errors)},
                                          {"rx_frame_err", int64_t(k.rx_frame_errors)},
                                          {"rx_missed_errors", int64_t(k.rx_missed_errors)}};
      write(b.interface_uuid, m);
    }
    stats_written_ = std::move(seen);
  }
  void write_interface(const ovsdb::Uuid& u, const ovsdb::InterfaceState& st, ovsdb::Json& ops) {
    ovsdb::Json op = ovsdb::op_interface_state(u, st);
    std::string text = op.dump();
    if (written_[u] == text) return;
    written_[u] = std::move(text);
    ops.push_back(std::move(op));
  }
  // OVS: the LOCAL port's MAC as 48 bits; a hash of the UUID when unknown.
  std::string datapath_id(const ovsdb::BridgeInfo& b) {
    uint64_t id = 0;
    ++devices_read_;
    LinkInfo ds = read_link_unlocked(b.name);
    if (ds.found && ds.mac.size() == 17) {
      for (size_t i = 0; i < 17; i += 3)
        id = id << 8 | std::stoul(ds.mac.substr(i, 2), nullptr, 16);
    } else {
      for (char c : b.uuid) id = (id ^ uint8_t(c)) * 0x100000001b3ull;
      id &= 0xffffffffffffull;
    }
    return ovsdb::format_datapath_id(id);
  }

  Switch& sw_;
  ApplyResult last_;
  Trace trace_;
  std::map<std::string, std::string> written_;  // row UUID -> what we wrote
  struct Bound {
    std::string key;      // the binding last written (port, ofport, error)
    int64_t ofport = -1;  // the Interface's configured ofport; -1 for a Bridge or an error row
  };
  std::map<std::string, Bound> bound_;  // row UUID -> binding last written
  struct Applied {
    uint64_t config_generation = 0;  // Replica::config_generation of the last full apply
    bool clean = false;              // it had no configuration error and no failed port
  };
  std::optional<Applied> applied_;  // none: the next update is applied in full
  uint64_t full_applies_ = 0;
  std::map<std::string, std::string> stats_written_;  // row UUID -> statistics last written
  std::map<std::string, std::pair<int64_t, std::map<std::string, std::string>>>
      drivers_;  // device -> (ifindex read at, status)
  struct Settings {
    int64_t ifindex = 0, resets = -1;  // read at
    LinkSettings settings;
  };
  std::map<std::string, Settings> settings_;       // device -> link speed, duplex
  LinkResets resets_;                              // carrier changes since opened
  std::map<std::string, bool> constants_written_;  // row UUID -> constants written
  int64_t next_stats_ns_ = 0;
  uint64_t devices_read_ = 0;
};

}  // namespace flowpath
