// flowpath/bridge/port.hpp — a bridge port's configuration and its VLAN
// policy, as Open vSwitch defines port VLAN modes.
//
//   mode             input (frame as received)            output in VLAN v
//   access (tag=N)   untagged -> VLAN N; tagged -> drop   v == N: untagged
//   trunk            tagged vid in trunks -> vid;         v in trunks: tagged
//                    untagged -> VLAN 0 (if 0 allowed)    (v == 0: untagged)
//   native-tagged    untagged -> N; tagged vid -> vid     v == N or trunks: tagged
//   native-untagged  untagged -> N; tagged vid -> vid     v == N: untagged;
//                                                         trunks: tagged
// An empty trunk list means every VLAN.  Dropping tagged frames on access
// ports is what stops double-tagging attacks.  A port with no tag and no
// vlan_mode is a trunk of all VLANs (patch ports, eth2, LOCAL).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpath {

enum class PortType { kAfxdp, kPcap, kMemory, kInternal, kPatch };
enum class VlanMode { kAccess, kTrunk, kNativeTagged, kNativeUntagged };

inline constexpr uint32_t kOfPortLocal = 0xfffe;  // OpenFlow LOCAL

inline std::string_view to_string(PortType t) noexcept {
  switch (t) {
    case PortType::kAfxdp: return "afxdp";
    case PortType::kPcap: return "pcap";
    case PortType::kMemory: return "memory";
    case PortType::kInternal: return "internal";
    case PortType::kPatch: return "patch";
  }
  return "?";
}
inline std::string_view to_string(VlanMode m) noexcept {
  switch (m) {
    case VlanMode::kAccess: return "access";
    case VlanMode::kTrunk: return "trunk";
    case VlanMode::kNativeTagged: return "native-tagged";
    case VlanMode::kNativeUntagged: return "native-untagged";
  }
  return "?";
}

struct PortConfig {
  std::string name;
  PortType type = PortType::kAfxdp;
  uint32_t ofport = 0;            // 0 = assign the next free number
  std::optional<uint16_t> tag;    // access VLAN or native VLAN
  std::vector<uint16_t> trunks;   // empty = all VLANs
  std::optional<VlanMode> vlan_mode;
  std::string peer;               // patch ports
  std::map<std::string, std::string> options;

  /// The effective mode: explicit vlan_mode, else access when tagged,
  /// else trunk.
  VlanMode mode() const noexcept {
    if (vlan_mode) return *vlan_mode;
    return tag ? VlanMode::kAccess : VlanMode::kTrunk;
  }
  bool trunks_vlan(uint16_t vid) const noexcept {
    if (trunks.empty()) return true;
    for (uint16_t t : trunks)
      if (t == vid) return true;
    return false;
  }

  /// The VLAN a frame received on this port belongs to, or nullopt when
  /// the port must drop it.  `tagged`/`vid` describe the frame's outer tag.
  std::optional<uint16_t> input_vlan(bool tagged, uint16_t vid) const noexcept {
    switch (mode()) {
      case VlanMode::kAccess:
        if (tagged) return std::nullopt;
        return tag.value_or(0);
      case VlanMode::kTrunk: {
        uint16_t v = tagged ? vid : 0;
        return trunks_vlan(v) ? std::optional<uint16_t>(v) : std::nullopt;
      }
      case VlanMode::kNativeTagged:
      case VlanMode::kNativeUntagged:
        if (!tagged || vid == tag.value_or(0)) return tag.value_or(0);
        return trunks_vlan(vid) ? std::optional<uint16_t>(vid) : std::nullopt;
    }
    return std::nullopt;
  }

  enum class OutputTag { kNone, kUntagged, kTagged };
  /// How a frame of VLAN `vlan` leaves this port (kNone: it does not).
  OutputTag output_tag(uint16_t vlan) const noexcept {
    switch (mode()) {
      case VlanMode::kAccess:
        return vlan == tag.value_or(0) ? OutputTag::kUntagged : OutputTag::kNone;
      case VlanMode::kTrunk:
        if (!trunks_vlan(vlan)) return OutputTag::kNone;
        return vlan == 0 ? OutputTag::kUntagged : OutputTag::kTagged;
      case VlanMode::kNativeTagged:
        if (vlan == tag.value_or(0) || trunks_vlan(vlan)) return OutputTag::kTagged;
        return OutputTag::kNone;
      case VlanMode::kNativeUntagged:
        if (vlan == tag.value_or(0)) return OutputTag::kUntagged;
        return trunks_vlan(vlan) ? OutputTag::kTagged : OutputTag::kNone;
    }
    return OutputTag::kNone;
  }
};

}  // namespace flowpath
