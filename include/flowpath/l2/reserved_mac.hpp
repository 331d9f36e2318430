// flowpath/l2/reserved_mac.hpp — the destination MACs a learning switch
// must not forward: link-local control protocols that end at the first
// bridge (802.1D STP, 802.3x pause, LACP, 802.1X, LLDP: 01:80:c2:00:00:00
// to :0f), and the vendor ones Open vSwitch also treats as reserved
// (Cisco CDP/VTP/DTP/PAgP/UDLD 01:00:0c:cc:cc:cc, PVST+ ...:cd, ISL
// 01:00:0c:00:00:00, UplinkFast 01:00:0c:cd:cd:cd, Cisco CFM
// 01:00:0c:cc:cc:c0-c7, Extreme EDP/EAPS 00:e0:2b:00:00:00/04/06).
// NORMAL drops frames to these (OVS: unless other_config:forward-bpdu).
//
// Cost: a few compares.  Thread-safety: pure function.
#pragma once

#include <cstdint>

#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

inline constexpr bool is_reserved_mac(const EthAddr& a) noexcept {
  uint64_t v = 0;
  for (uint8_t b : a.b) v = v << 8 | b;
  if ((v & ~uint64_t{0xf}) == 0x0180c2000000ull) return true;  // IEEE 802.1
  if ((v & ~uint64_t{0x7}) == 0x01000cccccc0ull) return true;  // Cisco CFM
  switch (v) {
    case 0x00e02b000000ull:
    case 0x00e02b000004ull:
    case 0x00e02b000006ull:  // Extreme
    case 0x01000c000000ull:
    case 0x01000cccccccull:
    case 0x01000ccccccdull:  // Cisco
    case 0x01000ccdcdcdull:
      return true;
    default:
      return false;
  }
}

}  // namespace flowpath
