// flowpath/ovsdb/port_rules.hpp — how one Interface / Port row becomes a
// PortConfig's type, options and VLAN settings (used by to_config.hpp).
//
// interface_kind: "" / "system" / "afxdp" -> afxdp, checking the options
// the AF_XDP port understands (ifname, n_rxq 1..1024, xdp-mode
// best-effort|native-with-zerocopy|native|generic, use-need-wakeup
// true|false; other keys pass through, as OVS ignores options a netdev
// does not know); "internal" -> internal; "patch" -> patch with
// options:peer, its only option (OVS refuses others too).  port_vlans: tag
// and trunks 0..4095, vlan_mode except dot1q-tunnel (flowpath lacks it).
// Each returns "" or the problem, for a per-interface error.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <charconv>
#include <string>

#include "flowpath/bridge/port.hpp"
#include "flowpath/ovsdb/rows.hpp"

namespace flowpath::ovsdb::to_config_detail {

inline bool small_uint(const std::string& s, uint32_t lo, uint32_t hi) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && v >= lo && v <= hi;
}

/// Checks an interface's type and options; "" or the problem.
inline std::string interface_kind(const InterfaceRow& i, PortConfig& p) {
  const std::string& t = i.type;
  if (t.empty() || t == "system" || t == "afxdp") {
    p.type = PortType::kAfxdp;
    for (const auto& [k, v] : i.options) {
      bool ok = true;
      if (k == "ifname")
        ok = !v.empty() && v.size() < 16 && v.find('/') == std::string::npos;
      else if (k == "n_rxq")
        ok = small_uint(v, 1, 1024);
      else if (k == "xdp-mode")
        ok = v == "best-effort" || v == "native-with-zerocopy" || v == "native" || v == "generic";
      else if (k == "use-need-wakeup")
        ok = v == "true" || v == "false";
      if (!ok) return "bad value '" + v + "' for options:" + k;
      p.options[k] = v;
    }
    // A system interface opens on a packet socket and moves to AF_XDP
    // behind it (switch_port.hpp, "The move"); type=afxdp binds at once.
    p.system = t != "afxdp";
    return {};
  }
  if (t == "internal") {
    p.type = PortType::kInternal;
    return {};
  }
  if (t == "patch") {
    p.type = PortType::kPatch;
    for (const auto& [k, v] : i.options)
      if (k != "peer") return "patch: unknown option '" + k + "'";
    auto it = i.options.find("peer");
    if (it == i.options.end() || it->second.empty()) return "patch: missing options:peer";
    if (it->second == i.name) return "patch: peer is the interface itself";
    p.peer = it->second;
    return {};
  }
  return "unknown type '" + t + "' (expected afxdp, system, internal or patch)";
}

/// VLAN settings of a Port; "" or the problem.
inline std::string port_vlans(const PortRow& r, PortConfig& p) {
  if (r.tag) {
    if (*r.tag < 0 || *r.tag > 4095) return "tag " + std::to_string(*r.tag) + " is not 0..4095";
    p.tag = uint16_t(*r.tag);
  }
  for (int64_t t : r.trunks) {
    if (t < 0 || t > 4095) return "trunk " + std::to_string(t) + " is not 0..4095";
    p.trunks.push_back(uint16_t(t));
  }
  std::sort(p.trunks.begin(), p.trunks.end());
  if (r.vlan_mode) {
    const std::string& m = *r.vlan_mode;
    if (m == "access")
      p.vlan_mode = VlanMode::kAccess;
    else if (m == "trunk")
      p.vlan_mode = VlanMode::kTrunk;
    else if (m == "native-tagged")
      p.vlan_mode = VlanMode::kNativeTagged;
    else if (m == "native-untagged")
      p.vlan_mode = VlanMode::kNativeUntagged;
    else
      return "vlan_mode '" + m + "' is not supported";
  }
  return {};
}

}  // namespace flowpath::ovsdb::to_config_detail
