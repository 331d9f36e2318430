// flowpath/openflow/messages.hpp — the typed OpenFlow messages the codec
// (openflow/codec.hpp) decodes and encodes, for OpenFlow 1.0 and 1.3 and
// the Nicira extensions ovs-ofctl uses.  One struct per message kind; a
// Message is {version, xid, body}.
//
// Ports are flowpath's (OpenFlow 1.0 numbering: LOCAL = 0xfffe, ...), also
// in 1.3 messages; the codec converts.  Matches are flowpath Matches,
// actions OfActionLists (flow/of_action.hpp).  `match_format` records how
// a flow-mod or flow-stats exchange travelled in 1.0 (ofp_match or NXM),
// so a reply can use the same.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "flowpath/flow/ct_tuple.hpp"
#include "flowpath/openflow/instructions.hpp"

namespace flowpath::openflow {

enum class MatchFormat : uint8_t { kOf10, kNxm, kOxm };

struct Hello {
  uint32_t version_bitmap = 0;  // bit v = version v offered; 0 = no element
  friend bool operator==(const Hello&, const Hello&) = default;
};
struct ErrorMsg {
  uint16_t type = 0, code = 0;
  bool nx = false;  // Nicira vendor error (OF1.0)
  std::vector<uint8_t> data;
  uint32_t exp = 0;  // experimenter error (1.3): type 0xffff, code = exp_type
  friend bool operator==(const ErrorMsg&, const ErrorMsg&) = default;
};
struct EchoRequest {
  std::vector<uint8_t> data;
  friend bool operator==(const EchoRequest&, const EchoRequest&) = default;
};
struct EchoReply {
  std::vector<uint8_t> data;
  friend bool operator==(const EchoReply&, const EchoReply&) = default;
};
struct FeaturesRequest {
  friend bool operator==(const FeaturesRequest&, const FeaturesRequest&) = default;
};
/// PortDesc::config bits (OFPPC_*, the same numbers in 1.0 and 1.3+;
/// NO_FLOOD is 1.0's, kept by OVS in every version) and PortDesc::state
/// bits as OpenFlow 1.3 numbers them (LIVE is 1.1+: a 1.0 encoding drops
/// it, as OVS's; 1.0's STP bits are kept).
inline constexpr uint32_t kPortConfigDown = 1, kPortConfigNoRecv = 4, kPortConfigNoFlood = 0x10,
                          kPortConfigNoFwd = 0x20, kPortConfigNoPacketIn = 0x40;
inline constexpr uint32_t kPortStateLinkDown = 1, kPortStateBlocked = 2, kPortStateLive = 4;
inline constexpr uint32_t kPortState10Mask = 0x301;  // LINK_DOWN and the STP field
/// The config bits each version carries (OVS's OFPPC10_ALL, OFPPC11_ALL):
/// 1.1+ has no NO_STP, NO_RECV_STP, NO_FLOOD.
inline constexpr uint32_t kPortConfig10Mask = 0x7f, kPortConfig11Mask = 0x65;
inline constexpr uint32_t port_config_mask(uint8_t version) noexcept {
  return version == kOfp10 ? kPortConfig10Mask : kPortConfig11Mask;
}
struct PortDesc {
  uint32_t port_no = 0;
  EthAddr hw_addr;
  std::string name;  // at most 15 characters on the wire
  uint32_t config = 0, state = 0, curr = 0, advertised = 0, supported = 0, peer = 0;
  uint32_t curr_speed = 0, max_speed = 0;  // kbps, OpenFlow 1.3 only
  friend bool operator==(const PortDesc&, const PortDesc&) = default;
};
/// FeaturesReply::capabilities bit OFPC14_BUNDLES (OpenFlow 1.4+).
inline constexpr uint32_t kCapBundles = 1u << 9;
struct FeaturesReply {
  uint64_t datapath_id = 0;
  uint32_t n_buffers = 0;
  uint8_t n_tables = 0;
  uint8_t auxiliary_id = 0;  // 1.3
  uint32_t capabilities = 0;
  uint32_t actions = 0;         // 1.0: supported action bitmap
  std::vector<PortDesc> ports;  // 1.0 only (1.3 uses port-desc)
  friend bool operator==(const FeaturesReply&, const FeaturesReply&) = default;
};
struct GetConfigRequest {
  friend bool operator==(const GetConfigRequest&, const GetConfigRequest&) = default;
};
struct SwitchConfig {  // GET_CONFIG_REPLY and SET_CONFIG
  bool is_set = false;
  uint16_t flags = 0, miss_send_len = 128;
  friend bool operator==(const SwitchConfig&, const SwitchConfig&) = default;
};
struct BarrierRequest {
  friend bool operator==(const BarrierRequest&, const BarrierRequest&) = default;
};
struct BarrierReply {
  friend bool operator==(const BarrierReply&, const BarrierReply&) = default;
};

enum class FlowModCommand : uint8_t { kAdd, kModify, kModifyStrict, kDelete, kDeleteStrict };
inline constexpr uint16_t kFlowModSendFlowRem = 1, kFlowModCheckOverlap = 2,
                          kFlowModResetCounts = 4;
inline constexpr uint32_t kNoBuffer = 0xffffffff, kAnyGroup = 0xffffffff;

struct FlowMod {
  FlowModCommand command = FlowModCommand::kAdd;
  Match match;
  int32_t priority = 32768;
  uint64_t cookie = 0, cookie_mask = 0;  // mask: 1.3 and NXM (NXM_NX_COOKIE)
  uint8_t table_id = 0;                  // 255 = all tables (delete)
  uint16_t idle_timeout = 0, hard_timeout = 0, flags = 0;
  uint32_t buffer_id = kNoBuffer;
  uint32_t out_port = kOfppNone;  // delete filter; kOfppNone = any
  uint32_t out_group = kAnyGroup;
  InstructionSet instructions;  // 1.0: only .actions
  MatchFormat match_format = MatchFormat::kOf10;
  uint16_t importance = 0;  // 1.4: kept on the rule and dumped (no eviction), as OVS
  friend bool operator==(const FlowMod&, const FlowMod&) = default;
};

struct PacketIn {
  uint32_t buffer_id = kNoBuffer;
  uint16_t total_len = 0;
  uint32_t in_port = 0;
  uint8_t reason = 0;  // 0 no match, 1 action, 2 invalid TTL
  uint8_t table_id = 0;
  uint64_t cookie = 0;
  std::vector<uint8_t> data;
  // OpenFlow 1.3: the pipeline fields beside in_port (registers, ct_*),
  // as OVS sends them; in_port is the member above, never set here.
  Match match;
  // ... and the connection's original tuple (ct_nw_src, ...; proto 0:
  // none), which a Match has no room for.  Encoded only: decoding such a
  // packet-in fails on the unknown fields (a switch never receives one).
  CtTuple ct_tuple{};
  // NXT_SET_PACKET_IN_FORMAT of the connection: 0 OFPT_PACKET_IN, 1
  // NXT_PACKET_IN, 2 NXT_PACKET_IN2 (both Nicira ones carry the fields
  // above in OpenFlow 1.0 too).  Encoded only, as ct_tuple.
  uint8_t format = 0;
  friend bool operator==(const PacketIn&, const PacketIn&) = default;
};
struct PacketOut {
  uint32_t buffer_id = kNoBuffer;
  uint32_t in_port = kOfppController;
  OfActionList actions;
  std::vector<uint8_t> data;
  friend bool operator==(const PacketOut&, const PacketOut&) = default;
};
struct PortStatus {
  uint8_t reason = 0;  // 0 add, 1 delete, 2 modify
  PortDesc port;
  friend bool operator==(const PortStatus&, const PortStatus&) = default;
};
struct FlowRemoved {
  Match match;
  uint64_t cookie = 0;
  int32_t priority = 32768;
  uint8_t reason = 0;  // 0 idle timeout, 1 hard timeout, 2 delete
  uint8_t table_id = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  uint16_t idle_timeout = 0, hard_timeout = 0;
  uint64_t packet_count = 0, byte_count = 0;
  friend bool operator==(const FlowRemoved&, const FlowRemoved&) = default;
};

/// OFPT_PORT_MOD (1.0: type 15, ofp10_port_mod; 1.3: 16, ofp11_port_mod;
/// 1.4: 16, ofp14_port_mod with advertise in its OFPPMPT14_ETHERNET
/// property, other properties skipped): set the `mask` bits of the port's
/// config to `config`'s.  Decoded as OVS's ofputil_decode_port_mod: both
/// masked to the version's bits, config to mask.  hw_addr must be the
/// port's (the backend says BAD_HW_ADDR otherwise).
struct PortMod {
  uint32_t port_no = 0;
  EthAddr hw_addr;
  uint32_t config = 0, mask = 0, advertise = 0;
  friend bool operator==(const PortMod&, const PortMod&) = default;
};

/// Nicira: NXT_SET_FLOW_FORMAT (0 = OpenFlow 1.0, 2 = NXM).
struct SetFlowFormat {
  uint32_t format = 0;
  friend bool operator==(const SetFlowFormat&, const SetFlowFormat&) = default;
};
/// Nicira: NXT_SET_PACKET_IN_FORMAT (0 standard, 1 NXT_PACKET_IN, 2 NXT_PACKET_IN2).
struct SetPacketInFormat {
  uint32_t format = 0;
  friend bool operator==(const SetPacketInFormat&, const SetPacketInFormat&) = default;
};
/// Nicira: NXT_FLOW_MOD_TABLE_ID (flow-mods carry table_id in 1.0).
struct FlowModTableId {
  bool enable = false;
  friend bool operator==(const FlowModTableId&, const FlowModTableId&) = default;
};

/// OFPT_BUNDLE_CONTROL (OpenFlow 1.4, type 33) and, in 1.3, OVS's ONF
/// extension ONFT_BUNDLE_CONTROL (experimenter 0x4F4E4600, type 2300), the
/// same body (openflow/bundle.hpp has the semantics).  Properties (1.4)
/// are skipped on decode, as OVS does.
enum class BundleCtrlType : uint16_t {
  kOpenRequest,
  kOpenReply,
  kCloseRequest,
  kCloseReply,
  kCommitRequest,
  kCommitReply,
  kDiscardRequest,
  kDiscardReply,
};
inline constexpr uint16_t kBundleAtomic = 1, kBundleOrdered = 2;
struct BundleControl {
  uint32_t bundle_id = 0;
  BundleCtrlType type = BundleCtrlType::kOpenRequest;
  uint16_t flags = 0;
  friend bool operator==(const BundleControl&, const BundleControl&) = default;
};
/// OFPT_BUNDLE_ADD_MESSAGE (1.4, type 34) / ONFT_BUNDLE_ADD_MESSAGE (1.3,
/// 2301): a whole inner message, kept as bytes (the connection decodes it
/// as it would decode the message alone).  decode() checks the inner
/// header, as OVS's ofputil_decode_bundle_add: at least 8 bytes and within
/// the outer message (OFPBFC_MSG_BAD_LEN), the outer version
/// (BAD_REQUEST/BAD_VERSION: OVS's OFPBFC_BAD_VERSION is a Nicira code
/// that 1.3 cannot carry) and the outer xid (OFPBFC_MSG_BAD_XID).  Bytes
/// after the inner message (1.4 properties) are skipped.
struct BundleAdd {
  uint32_t bundle_id = 0;
  uint16_t flags = 0;
  std::vector<uint8_t> message;
  friend bool operator==(const BundleAdd&, const BundleAdd&) = default;
};

}  // namespace flowpath::openflow

#include "flowpath/openflow/stats.hpp"
