// flowpath/action/dp_action.hpp — datapath actions.
//
// What the slow path (translation, bridge/xlate.hpp) produces for a
// megaflow and what the fast path executes on every packet of the flow
// (action/executor.hpp).  They are OVS's datapath actions: already
// resolved, no tables, no NORMAL; ports are datapath port numbers (one
// number space across all bridges of a Datapath).
//
// Thread-safety: plain values; an installed action list is immutable.
#pragma once

#include <cstdint>
#include <vector>

#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

enum class DpActionType : uint8_t {
  kOutput,      // port
  kPushVlan,    // tpid, tci (PCP|VID; the CFI bit is never set on the wire)
  kPopVlan,     // outermost tag
  kSetVlanVid,  // tci: new VID of the outermost tag (push one if none)
  kSetVlanPcp,  // u8: new PCP of the outermost tag (push one if none)
  kSetEthSrc,   // mac
  kSetEthDst,   // mac
  kSetIpv4Src,  // ipv4 (host order); fixes IPv4 and L4 checksums
  kSetIpv4Dst,  // ipv4
  kSetIpv4Tos,  // u8: DSCP bits (ECN preserved)
  kSetIpv4Ttl,  // u8
  kSetTpSrc,    // l4_port (host order); TCP/UDP/SCTP
  kSetTpDst,    // l4_port
};

struct DpAction {
  DpActionType type{};
  uint8_t u8 = 0;
  uint16_t tpid = 0;
  uint16_t tci = 0;
  uint16_t l4_port = 0;
  uint32_t port = 0;
  uint32_t ipv4 = 0;
  EthAddr mac{};

  static DpAction output(uint32_t port) { DpAction a; a.type = DpActionType::kOutput; a.port = port; return a; }
  static DpAction push_vlan(uint16_t tpid, uint16_t tci) {
    DpAction a; a.type = DpActionType::kPushVlan; a.tpid = tpid; a.tci = tci; return a;
  }
  static DpAction pop_vlan() { DpAction a; a.type = DpActionType::kPopVlan; return a; }

  friend bool operator==(const DpAction&, const DpAction&) = default;
};

/// An ordered list; empty means drop.
using DpActionList = std::vector<DpAction>;

}  // namespace flowpath
