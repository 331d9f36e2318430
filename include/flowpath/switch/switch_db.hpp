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
// `ovs-vsctl` without --no-wait waits for.
// refresh() (once a second) writes link/admin state and MAC again when
// the device's changed.  Rows are written only when what we would write
// changed since the last write, so our own writes (which the monitor echoes back) end the loop.
// forget() drops that memory (after a reconnect or a failed transaction).
// Cost: one to_switch_config + apply per update; one ioctl per open port.
// Thread-safety: the control thread only.
#pragma once

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "flowpath/ovsdb/ops.hpp"
#include "flowpath/ovsdb/to_config.hpp"
#include "flowpath/switch/switch.hpp"

namespace flowpath {

/// What the kernel says about a device: flags and MAC ("" when unknown).
struct DeviceState {
  bool found = false, admin_up = false, link_up = false;
  std::string mac;
};
inline DeviceState read_device(const std::string& ifname) {
  DeviceState s;
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) return s;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return s;
  ifreq r{};
  std::snprintf(r.ifr_name, IFNAMSIZ, "%s", ifname.c_str());
  if (ioctl(fd, SIOCGIFFLAGS, &r) == 0) {
    s.found = true;
    s.admin_up = r.ifr_flags & IFF_UP;
    s.link_up = (r.ifr_flags & IFF_UP) && (r.ifr_flags & IFF_RUNNING);
  }
  if (ioctl(fd, SIOCGIFHWADDR, &r) == 0) {
    auto* m = reinterpret_cast<const uint8_t*>(r.ifr_hwaddr.sa_data);
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    s.mac = buf;
  }
  close(fd);
  return s;
}

class SwitchDb {
 public:
  explicit SwitchDb(Switch& sw) : sw_(sw) {}

  /// Applies the database and returns the write-back operations (an
  /// empty array when nothing needs writing).
  ovsdb::Json on_replica(const ovsdb::Replica& replica) {
    ovsdb::DbConfig d = ovsdb::to_switch_config(replica);
    last_ = sw_.apply(d.config);
    ovsdb::Json ops = write_back(d);
    if (!d.root.empty() && last_.in_effect && d.cur_cfg != d.next_cfg)
      ops.push_back(ovsdb::op_cur_cfg(d.root, d.next_cfg));
    return ops;
  }
  /// Periodic (the control loop, once a second): the rows whose device
  /// state (link, admin, MAC) changed since they were written.  Nothing
  /// is applied: the replica is the one on_replica last applied.
  ovsdb::Json refresh(const ovsdb::Replica& replica) {
    return write_back(ovsdb::to_switch_config(replica));
  }
  /// Forgets what was written: the next update writes every row again.
  void forget() { written_.clear(); }
  const ApplyResult& last_result() const noexcept { return last_; }

 private:
  ovsdb::Json write_back(const ovsdb::DbConfig& d) {
    ovsdb::Json ops = ovsdb::Json::array();
    for (const auto& b : d.bindings) {
      ovsdb::InterfaceState st;
      if (const std::string* err = failure(b.port)) {
        st.ofport = -1;
        st.error = *err;
      } else {
        st = device_state(b.port);
        st.ofport = b.ofport;
      }
      write_interface(b.interface_uuid, st, ops);
    }
    for (const auto& e : d.errors)
      if (!e.interface_uuid.empty()) {
        ovsdb::InterfaceState st;
        st.error = e.message;
        write_interface(e.interface_uuid, st, ops);
      }
    for (const auto& b : d.bridges) {
      std::string dpid = datapath_id(b);
      if (written_[b.uuid] != dpid) {
        written_[b.uuid] = dpid;
        ops.push_back(ovsdb::op_bridge_datapath_id(b.uuid, dpid));
      }
    }
    return ops;
  }
  const std::string* failure(const std::string& port) const {
    for (const auto& e : last_.errors)
      if (e.name == port) return &e.message;
    return nullptr;
  }
  ovsdb::InterfaceState device_state(const std::string& port) {
    ovsdb::InterfaceState st;
    const PortConfig* pc = sw_.config().find_port(port);
    if (!pc || pc->type == PortType::kPatch) return st;  // OVS leaves these empty for patch
    auto it = pc->options.find("ifname");
    DeviceState ds = read_device(it != pc->options.end() ? it->second : port);
    if (!ds.found) return st;
    st.admin_state = ds.admin_up ? "up" : "down";
    st.link_state = ds.link_up ? "up" : "down";
    st.mac_in_use = ds.mac;
    return st;
  }
  void write_interface(const ovsdb::Uuid& u, const ovsdb::InterfaceState& st, ovsdb::Json& ops) {
    ovsdb::Json op = ovsdb::op_interface_state(u, st);
    std::string text = op.dump();
    if (written_[u] == text) return;
    written_[u] = std::move(text);
    ops.push_back(std::move(op));
  }
  // OVS: the LOCAL port's MAC as 48 bits; a hash of the UUID when unknown.
  std::string datapath_id(const ovsdb::BridgeInfo& b) const {
    uint64_t id = 0;
    DeviceState ds = read_device(b.name);
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
  std::map<std::string, std::string> written_;  // row UUID -> what we wrote
};

}  // namespace flowpath
