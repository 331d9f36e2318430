// flowpath/io/xdp_fast_encode.hpp — what the XDP fast path's program sees,
// built from what the userspace datapath has: a packet's kernel key from
// its FlowKey, and a megaflow's datapath actions as the program's ops.
//
//   fp_xdp_key k;  fp_xdp_flow f;
//   if (xdp_key_from(batch.keys[i], k) && xdp_flow_from(e->actions, k, f))
//     fast_path.insert(k, f);                  // datapath/xdp_offload.hpp
//
// xdp_key_from mirrors the program's parser field for field (same shapes,
// same byte order), so a kernel lookup finds exactly the packets whose
// FlowKey gave the key.  xdp_flow_from mirrors action/executor.hpp: the
// actions up to the last output, each as the op that does to the frame
// what the executor does (VLAN ops as vlan.hpp, set-fields and their
// checksum updates as set_field.hpp); false for anything the program
// cannot do, and then the flow stays in userspace.
//
// Cost: a few dozen stores per call (once per flow).  Thread-safety: pure
// functions.
#pragma once

#include <cstdint>
#include <cstring>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/action/frame_view.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/io/xdp_fast_abi.h"

namespace flowpath {

/// The kernel key of a packet whose FlowKey is k; false when the program
/// would punt a packet of that shape (then nothing may be offloaded).
inline bool xdp_key_from(const FlowKey& k, fp_xdp_key& out) noexcept {
  std::memset(&out, 0, sizeof out);
  if (k.recirc_id || k.ct_state) return false;  // the kernel sees first passes only
  const uint16_t type = k.dl_type.host();
  if (type != kEthTypeIpv4 && type != kEthTypeIpv6) return false;
  if (k.nw_frag || k.vlans[1].tpid.host() != 0) return false;
  if (k.nw_proto != kIpProtoTcp && k.nw_proto != kIpProtoUdp) return false;
  out.in_port = k.in_port;
  std::memcpy(out.dl_dst, k.dl_dst.b.data(), 6);
  std::memcpy(out.dl_src, k.dl_src.b.data(), 6);
  out.dl_type = type;
  out.vlan_tpid = k.vlans[0].tpid.host();
  out.vlan_tci = k.vlans[0].tci.host();
  out.nw_proto = k.nw_proto;
  out.nw_tos = k.nw_tos;
  out.nw_ttl = k.nw_ttl;
  if (type == kEthTypeIpv4) {
    Be32 s = k.nw_src, d = k.nw_dst;  // Be32 holds wire order
    std::memcpy(out.src, &s, 4);
    std::memcpy(out.dst, &d, 4);
  } else {
    out.ipv6_label = k.ipv6_label.host();
    std::memcpy(out.src, k.ipv6_src.b.data(), 16);
    std::memcpy(out.dst, k.ipv6_dst.b.data(), 16);
  }
  out.tp_src = k.tp_src.host();
  out.tp_dst = k.tp_dst.host();
  return true;
}

namespace detail {

/// One non-output action as an op.  `depth` is the frame's tag count when
/// the action runs (the key's, then as the earlier actions left it), so an
/// IP/L4 op knows where the IP header is.  IPv4 rewrites of an IPv6 frame
/// are skipped by the userspace executor and become no op here; port
/// rewrites apply to both (the program tells them apart by the version).
inline bool xdp_op_from(const DpAction& a, bool ipv4, uint32_t& depth, fp_xdp_op& op) noexcept {
  const uint16_t l3 = uint16_t(kEthHeaderLen + kVlanTagLen * depth);
  switch (a.type) {
    case DpActionType::kPopVlan:
      op.type = FP_XDP_OP_POP_VLAN, depth -= depth > 0;
      return true;
    case DpActionType::kPushVlan:
      op.type = FP_XDP_OP_PUSH_VLAN, op.tpid = a.tpid, op.bits = a.tci, ++depth;
      return true;
    case DpActionType::kSetVlanVid:
      op.type = FP_XDP_OP_REWRITE_TCI, op.mask = kVlanVidMask, op.bits = a.tci;
      depth += depth == 0;
      return true;
    case DpActionType::kSetVlanPcp:
      op.type = FP_XDP_OP_REWRITE_TCI, op.mask = kVlanPcpMask;
      op.bits = uint16_t(uint16_t(a.u8 & 7) << kVlanPcpShift);
      depth += depth == 0;
      return true;
    case DpActionType::kSetEthSrc:
    case DpActionType::kSetEthDst:
      op.type = FP_XDP_OP_SET_ETH, op.field = a.type == DpActionType::kSetEthSrc ? 6 : 0;
      std::memcpy(op.mac, a.mac.b.data(), 6);
      return true;
    default:
      break;
  }
  // The program has no IPv6 header op: refuse before the "IPv4 op on an
  // IPv6 frame is a no op" rule below could wave them through.
  if (a.type >= DpActionType::kSetIpv6Tclass && a.type <= DpActionType::kSetIpv6Label) return false;
  const bool port = a.type == DpActionType::kSetTpSrc || a.type == DpActionType::kSetTpDst;
  if (!ipv4 && !port) return true;  // kSkipped in userspace: nothing to do
  if (depth > kMaxVlanTags || l3 > FP_XDP_MAX_L3) return false;  // userspace stops at 4 tags
  op.l3 = l3;
  switch (a.type) {
    case DpActionType::kSetIpv4Src:
    case DpActionType::kSetIpv4Dst:
      op.type = FP_XDP_OP_SET_IPV4_ADDR, op.addr = a.ipv4;
      op.field = a.type == DpActionType::kSetIpv4Src ? 12 : 16;
      return true;
    case DpActionType::kSetIpv4Tos:  // as set_ipv4_tos: DSCP bits of word 0
      if (a.tci) return false;       // an ECN rewrite (mask in tci): userspace's
      op.type = FP_XDP_OP_SET_IPV4_WORD, op.field = 0, op.mask = 0x00fc, op.bits = a.u8;
      return true;
    case DpActionType::kSetIpv4Ttl:
      op.type = FP_XDP_OP_SET_IPV4_WORD, op.field = 8, op.mask = 0xff00;
      op.bits = uint16_t(a.u8 << 8);
      return true;
    case DpActionType::kSetTpSrc:
    case DpActionType::kSetTpDst:
      op.type = FP_XDP_OP_SET_TP_PORT, op.bits = a.l4_port;
      op.field = a.type == DpActionType::kSetTpSrc ? 0 : 2;
      return true;
    default:
      return false;  // an action the program does not know: the PMD keeps the flow
  }
}

}  // namespace detail

/// Encodes a megaflow's actions for the program, for packets of kernel key
/// k; false for anything it cannot do (several outputs, ct/ct_clear/recirc
/// anywhere in the list, an action it does not know).  As the executor, actions after the last
/// output are not run and a list without an output drops.
inline bool xdp_flow_from(const DpActionList& acts, const fp_xdp_key& k,
                          fp_xdp_flow& out) noexcept {
  std::memset(&out, 0, sizeof out);
  size_t outputs = 0, end = 0;
  for (size_t i = 0; i < acts.size(); ++i) {
    if (acts[i].type == DpActionType::kOutput) ++outputs, end = i + 1;
    // Connection tracking is the PMD's, wherever it stands: a ct() after
    // the last output still commits (executor.hpp).
    if (acts[i].type == DpActionType::kCt || acts[i].type == DpActionType::kCtClear ||
        acts[i].type == DpActionType::kRecirc)
      return false;
  }
  if (outputs > 1 || end > FP_XDP_MAX_OPS) return false;
  uint32_t depth = k.vlan_tpid != 0;
  const bool ipv4 = k.dl_type == kEthTypeIpv4;
  for (size_t i = 0; i < end; ++i) {
    const DpAction& a = acts[i];
    fp_xdp_op& op = out.ops[i];
    if (a.type == DpActionType::kOutput) {
      if (a.port >= FP_XDP_MAX_PORTS) return false;
      op.type = FP_XDP_OP_OUTPUT, op.port = a.port;
    } else if (!detail::xdp_op_from(a, ipv4, depth, op)) {
      return false;
    }
  }
  out.n_ops = uint32_t(end);
  return true;
}

}  // namespace flowpath
