// flowpath/bridge/port.hpp — a bridge port's configuration and its VLAN
// policy, as Open vSwitch defines port VLAN modes.
//
//   mode             input (VID: 0 if untagged)           output in VLAN v
//   access (tag=N)   VID 0 -> VLAN N; other VIDs -> drop  v == N: untagged
//   trunk            VID in trunks -> VID, else drop      v in trunks: tagged
//                    (VID 0 = untagged or priority tag)   (v == 0: untagged
//                                                          unless PCP != 0)
//   native-tagged    VID 0 -> N; VID in trunks -> VID     v == N or trunks: tagged
//   native-untagged  VID 0 -> N; VID in trunks -> VID     v == N: untagged;
//                                                         trunks: tagged
// An empty trunk list means every VLAN; native modes never trunk VLAN 0
// and always their native VLAN.  A priority-tagged frame (VID 0) counts
// as untagged, its PCP is kept.  Dropping other tagged frames on access
// ports is what stops double-tagging attacks.  A port with no tag and no
// vlan_mode is a trunk of all VLANs (patch ports, eth2, LOCAL).  All of
// this is Open vSwitch's behaviour, checked by tests/differential.
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
    case PortType::kAfxdp:
      return "afxdp";
    case PortType::kPcap:
      return "pcap";
    case PortType::kMemory:
      return "memory";
    case PortType::kInternal:
      return "internal";
    case PortType::kPatch:
      return "patch";
  }
  return "?";
}
inline std::string_view to_string(VlanMode m) noexcept {
  switch (m) {
    case VlanMode::kAccess:
      return "access";
    case VlanMode::kTrunk:
      return "trunk";
    case VlanMode::kNativeTagged:
      return "native-tagged";
    case VlanMode::kNativeUntagged:
      return "native-untagged";
  }
  return "?";
}

struct PortConfig {
  std::string name;
  PortType type = PortType::kAfxdp;
  uint32_t ofport = 0;           // 0 = assign the next free number
  std::optional<uint16_t> tag;   // access VLAN or native VLAN
  std::vector<uint16_t> trunks;  // empty = all VLANs
  std::optional<VlanMode> vlan_mode;
  std::string peer;  // patch ports
  std::map<std::string, std::string> options;
  /// An AF_XDP port configured as a `""`/`system` interface: the switch
  /// opens it on a packet socket first and moves it to AF_XDP behind it
  /// (switch/switch_port.hpp, "The move"); `afxdp` binds at once.
  bool system = false;

  /// The effective mode: explicit vlan_mode, else access when tagged,
  /// else trunk.
  VlanMode mode() const noexcept {
    if (vlan_mode) return *vlan_mode;
    return tag ? VlanMode::kAccess : VlanMode::kTrunk;
  }
  /// The kernel device the port opens: options:ifname, else its name.
  const std::string& device() const noexcept {
    auto it = options.find("ifname");
    return it != options.end() ? it->second : name;
  }
  bool trunks_vlan(uint16_t vid) const noexcept {
    if (trunks.empty()) return true;
    for (uint16_t t : trunks)
      if (t == vid) return true;
    return false;
  }

  /// Whether the port carries VLAN `vlan`.  The native modes always carry
  /// their native VLAN and never VLAN 0 (a frame without a VID is in the
  /// native VLAN there), as Open vSwitch forces on their trunk set.
  bool includes_vlan(uint16_t vlan) const noexcept {
    uint16_t native = tag.value_or(0);
    switch (mode()) {
      case VlanMode::kAccess:
        return vlan == native;
      case VlanMode::kTrunk:
        return trunks_vlan(vlan);
      case VlanMode::kNativeTagged:
      case VlanMode::kNativeUntagged:
        if (native == 0) return trunks_vlan(vlan);
        if (vlan == native) return true;
        return vlan != 0 && trunks_vlan(vlan);
    }
    return false;
  }

  /// The VLAN a frame received on this port belongs to, or nullopt when
  /// the port must drop it.  `vid` is the frame's outer VID (0 when it is
  /// untagged or priority-tagged: 802.1Q's VID 0 means "no VLAN", so an
  /// access port accepts priority-tagged frames and drops any other tag,
  /// which is what stops double-tagging).
  std::optional<uint16_t> input_vlan(bool tagged, uint16_t vid) const noexcept {
    if (!tagged) vid = 0;
    switch (mode()) {
      case VlanMode::kAccess:
        if (vid != 0) return std::nullopt;
        return tag.value_or(0);
      case VlanMode::kTrunk:
        return trunks_vlan(vid) ? std::optional<uint16_t>(vid) : std::nullopt;
      case VlanMode::kNativeTagged:
      case VlanMode::kNativeUntagged:
        if (vid == 0) return tag.value_or(0);
        return includes_vlan(vid) ? std::optional<uint16_t>(vid) : std::nullopt;
    }
    return std::nullopt;
  }

  /// Whether a frame of VLAN `vlan` leaves this port without its VLAN tag
  /// (access ports; native-untagged in the native VLAN).
  bool pops_vlan(uint16_t vlan) const noexcept {
    return mode() == VlanMode::kAccess ||
           (mode() == VlanMode::kNativeUntagged && vlan == tag.value_or(0));
  }

  enum class OutputTag { kNone, kUntagged, kTagged };
  /// How a flooded frame of VLAN `vlan` leaves this port (kNone: it does
  /// not).  kTagged carries the VID (and the frame's PCP); in VLAN 0 the
  /// tag is left off unless the frame has a PCP to carry (priority tag).
  OutputTag output_tag(uint16_t vlan) const noexcept {
    if (!includes_vlan(vlan)) return OutputTag::kNone;
    return pops_vlan(vlan) ? OutputTag::kUntagged : OutputTag::kTagged;
  }
};

}  // namespace flowpath
