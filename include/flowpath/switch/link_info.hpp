// flowpath/switch/link_info.hpp — what the kernel says about a network
// device, read as ovs-vswitchd's netdev-linux reads it, for the Interface
// columns a switch writes back (switch/switch_db.hpp): flags (admin and
// link state), MAC, ifindex, MTU and the device counters, from rtnetlink
// (RTM_GETLINK: one request and one reply per device, or one dump for
// every device of the namespace); the driver (name, version, firmware)
// from ETHTOOL_GDRVINFO; speed and duplex from ETHTOOL_GSET.
//
//   LinkInfo l = read_link("vm1");            // l.found, l.mtu, l.stats.rx_bytes, ...
//   std::map<std::string, LinkInfo> all = read_all_links();   // one dump
//   DriverInfo d = read_driver("vm1");        // {"veth", "1.0", ""}
//   LinkSettings ls = read_link_settings("vm1");  // {true, 10000000000, "full"}
//
// The sockets are opened once per process and used by the control thread
// only (the one that writes the database).  Errors are "not found" (found
// = false), never an exception: a device that vanished between the
// database's update and the read is written back without its state.
#pragma once

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "flowpath/switch/netlink_msg.hpp"

namespace flowpath {

/// The counters ovs-vswitchd writes in Interface statistics (the kernel's
/// struct rtnl_link_stats64, names as OVS's).
struct LinkStats {
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0, rx_errors = 0, tx_errors = 0,
           rx_dropped = 0, tx_dropped = 0, multicast = 0, collisions = 0, rx_over_errors = 0,
           rx_crc_errors = 0, rx_frame_errors = 0, rx_missed_errors = 0;
  bool operator==(const LinkStats&) const = default;
};

struct LinkInfo {
  bool found = false, admin_up = false, link_up = false;
  std::string mac;  // "xx:xx:xx:xx:xx:xx", "" when the device has none
  int64_t ifindex = 0, mtu = 0;
  bool has_stats = false;
  LinkStats stats;
};

struct DriverInfo {
  bool found = false;
  std::string name, version, firmware;
};

namespace link_detail {

/// "aa:bb:cc:dd:ee:ff" of six bytes, as the kernel and OVS print a MAC.
inline std::string mac_text(const uint8_t* m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

inline int rtnl_socket() {
  static const int fd = [] {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s >= 0) {
      sockaddr_nl a{};
      a.nl_family = AF_NETLINK;
      if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(s);
        s = -1;
      }
    }
    return s;
  }();
  return fd;
}

inline void parse_stats(const rtnl_link_stats64& k, LinkStats& s) {
  s.rx_packets = k.rx_packets;
  s.tx_packets = k.tx_packets;
  s.rx_bytes = k.rx_bytes;
  s.tx_bytes = k.tx_bytes;
  s.rx_errors = k.rx_errors;
  s.tx_errors = k.tx_errors;
  s.rx_dropped = k.rx_dropped;
  s.tx_dropped = k.tx_dropped;
  s.multicast = k.multicast;
  s.collisions = k.collisions;
  s.rx_over_errors = k.rx_over_errors;
  s.rx_crc_errors = k.rx_crc_errors;
  s.rx_frame_errors = k.rx_frame_errors;
  s.rx_missed_errors = k.rx_missed_errors;
}

// One RTM_NEWLINK message -> name and info; false if it is not one.
inline bool parse_link(const nlmsghdr* h, std::string& name, LinkInfo& l) {
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return false;
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  l.found = true;
  l.ifindex = ifi->ifi_index;
  l.admin_up = ifi->ifi_flags & IFF_UP;
  l.link_up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
  int len = int(h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
  for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const void* d = RTA_DATA(a);
    size_t n = RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case IFLA_IFNAME:
        name.assign(static_cast<const char*>(d), strnlen(static_cast<const char*>(d), n));
        break;
      case IFLA_MTU:
        if (n >= 4) {
          uint32_t v;
          std::memcpy(&v, d, 4);
          l.mtu = v;
        }
        break;
      case IFLA_ADDRESS:
        if (n == 6) l.mac = mac_text(static_cast<const uint8_t*>(d));
        break;
      case IFLA_STATS64:
        if (n >= sizeof(rtnl_link_stats64) - 2 * sizeof(uint64_t)) {
          rtnl_link_stats64 k{};
          std::memcpy(&k, d, std::min(n, sizeof k));
          parse_stats(k, l.stats);
          l.has_stats = true;
        }
        break;
      default:
        break;
    }
  }
  return true;
}

// Sends one RTM_GETLINK (by name, or a dump when name is empty) and calls
// f(name, info) for each link in the answer.  False on a socket error.
template <class F>
bool rtnl_getlink(const std::string& name, F&& f) {
  int fd = rtnl_socket();
  if (fd < 0 || name.size() >= IFNAMSIZ) return false;
  static uint32_t seq = 0;
  struct {
    nlmsghdr h;
    ifinfomsg i;
    char attrs[64];
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | (name.empty() ? NLM_F_DUMP : 0);
  req.h.nlmsg_seq = ++seq;
  req.i.ifi_family = AF_UNSPEC;
  auto add_attr = [&](uint16_t type, const void* data, size_t n) {
    auto* a =
        reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.h.nlmsg_len));
    a->rta_type = type;
    a->rta_len = uint16_t(RTA_LENGTH(n));
    std::memcpy(RTA_DATA(a), data, n);
    req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
  };
  if (!name.empty()) add_attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  if (sendto(fd, &req, req.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    return false;
  alignas(nlmsghdr) static char buf[64 * 1024];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    int left = int(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); nlmsg_fits(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != req.h.nlmsg_seq) continue;  // a stale answer
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) return false;  // e.g. ENODEV: no such device
      std::string nm;
      LinkInfo l;
      if (parse_link(h, nm, l)) f(nm, l);
      if (!(h->nlmsg_flags & NLM_F_MULTI)) return true;
    }
  }
}

/// The socket the device ioctls go through, with `r` cleared and named
/// IFNAME; -1 when the name cannot be a device's or there is no socket.
inline int ifreq_socket(const std::string& ifname, ifreq& r) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) return -1;
  static const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  r = ifreq{};
  std::snprintf(r.ifr_name, IFNAMSIZ, "%s", ifname.c_str());
  return fd;
}

/// SIOCETHTOOL on IFNAME with the command structure at `data`; false when
/// the name is invalid or the device does not answer.  Takes RTNL.
inline bool ethtool(const std::string& ifname, void* data) {
  ifreq r;
  int fd = ifreq_socket(ifname, r);
  if (fd < 0) return false;
  r.ifr_data = static_cast<char*>(data);
  return ioctl(fd, SIOCETHTOOL, &r) == 0;
}

}  // namespace link_detail

/// One device (one request, one reply): found = false when it is missing.
inline LinkInfo read_link(const std::string& ifname) {
  LinkInfo out;
  if (ifname.empty()) return out;
  link_detail::rtnl_getlink(ifname, [&](const std::string&, const LinkInfo& l) { out = l; });
  return out;
}

/// Admin and link state only (found, admin_up, link_up): one ioctl
/// (SIOCGIFFLAGS, under RCU, no RTNL).  For what is read often: the
/// OpenFlow port state (switch/openflow_backend.hpp, every 20 ms).
inline LinkInfo read_link_state(const std::string& ifname) {
  LinkInfo s;
  ifreq r;
  int fd = link_detail::ifreq_socket(ifname, r);
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &r) != 0) return s;
  s.found = true;
  s.admin_up = r.ifr_flags & IFF_UP;
  s.link_up = (r.ifr_flags & IFF_UP) && (r.ifr_flags & IFF_RUNNING);
  return s;
}

/// A device read without the counters, by four ioctls (flags, MAC, ifindex,
/// MTU) that the kernel answers under RCU: no RTNL.  For the path of a
/// change: a mover thread attaching XDP holds RTNL for milliseconds, and
/// an RTNL request (ethtool, possibly RTM_GETLINK) would wait for it.
inline LinkInfo read_link_unlocked(const std::string& ifname) {
  LinkInfo s = read_link_state(ifname);
  ifreq r;
  int fd = link_detail::ifreq_socket(ifname, r);
  if (!s.found || fd < 0) return s;
  if (ioctl(fd, SIOCGIFHWADDR, &r) == 0 && r.ifr_hwaddr.sa_family == 1 /* ARPHRD_ETHER */)
    s.mac = link_detail::mac_text(reinterpret_cast<const uint8_t*>(r.ifr_hwaddr.sa_data));
  if (ioctl(fd, SIOCGIFINDEX, &r) == 0) s.ifindex = r.ifr_ifindex;
  if (ioctl(fd, SIOCGIFMTU, &r) == 0) s.mtu = r.ifr_mtu;
  return s;
}

/// Sets the device administratively up or down (SIOCSIFFLAGS, as `ip
/// link set DEV up|down` and OVS's netdev_turn_flags_on/off); false when
/// the device is missing or the kernel refused.
inline bool set_link_admin(const std::string& ifname, bool up) {
  ifreq r;
  int fd = link_detail::ifreq_socket(ifname, r);
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &r) != 0) return false;
  if (bool(r.ifr_flags & IFF_UP) == up) return true;
  r.ifr_flags = short(up ? r.ifr_flags | IFF_UP : r.ifr_flags & ~IFF_UP);
  return ioctl(fd, SIOCSIFFLAGS, &r) == 0;
}

/// Every device of the namespace, by name (one dump).
inline std::map<std::string, LinkInfo> read_all_links() {
  std::map<std::string, LinkInfo> out;
  link_detail::rtnl_getlink("", [&](const std::string& n, const LinkInfo& l) { out[n] = l; });
  return out;
}

/// The driver, as `ethtool -i` (ovs-vswitchd's Interface status
/// driver_name / driver_version / firmware_version).  Takes RTNL in the
/// kernel: not for the path of a change.
inline DriverInfo read_driver(const std::string& ifname) {
  DriverInfo d;
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  if (!link_detail::ethtool(ifname, &info)) return d;
  d.found = true;
  d.name.assign(info.driver, strnlen(info.driver, sizeof info.driver));
  d.version.assign(info.version, strnlen(info.version, sizeof info.version));
  d.firmware.assign(info.fw_version, strnlen(info.fw_version, sizeof info.fw_version));
  return d;
}

/// Link speed and duplex as ovs-vswitchd writes them (Interface
/// link_speed, duplex): ETHTOOL_GSET, as OVS 3.1's netdev-linux reads it,
/// and only the speeds OVS names (10M, 100M, 1G half or full; 10G, 40G,
/// 100G, 1T full): another or an unknown speed gives speed_bps = 0, which
/// OVS writes as both columns empty.  A veth reports 10 Gb/s full, a TAP
/// 10 Mb/s full.  Takes RTNL in the kernel: not for the path of a change.
struct LinkSettings {
  bool found = false;     // the ioctl answered
  int64_t speed_bps = 0;  // 0: unknown (columns cleared)
  std::string duplex;     // "full" | "half" | "" with speed_bps 0
};

inline LinkSettings read_link_settings(const std::string& ifname) {
  LinkSettings out;
  ethtool_cmd cmd{};
  cmd.cmd = ETHTOOL_GSET;
  if (!link_detail::ethtool(ifname, &cmd)) return out;
  out.found = true;
  uint32_t mbps = uint32_t(cmd.speed_hi) << 16 | cmd.speed;
  bool full = cmd.duplex == DUPLEX_FULL;
  switch (mbps) {
    case 10:
    case 100:
    case 1000:
      out.speed_bps = int64_t(mbps) * 1'000'000;
      out.duplex = full ? "full" : "half";
      break;
    case 10000:
    case 40000:
    case 100000:
    case 1000000:
      out.speed_bps = int64_t(mbps) * 1'000'000;
      out.duplex = "full";  // OVS has only the full-duplex feature bit here
      break;
    default:
      break;  // SPEED_UNKNOWN, 2.5G, 25G, ...: OVS clears both columns
  }
  return out;
}

}  // namespace flowpath
