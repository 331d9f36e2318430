// flowpath/flow/of_action.hpp — OpenFlow-level actions, as `actions=` in
// ovs-ofctl flow text parses into them (flow/ofctl_text.hpp), before the
// bridge translates them into datapath actions (action/dp_action.hpp).
//
// Unlike datapath actions these may name reserved ports (NORMAL, FLOOD,
// ALL, IN_PORT, LOCAL, CONTROLLER), other tables (resubmit, goto_table) and
// any field of the registry (set_field), the pipeline's registers (load,
// move), the connection tracker (ct, ct_clear: the bridge translates ct()
// into a datapath ct + recirculation) and conjunctive matches
// (conjunction), and the TTL (dec_ttl, mod_nw_ttl).  Ports are OpenFlow port numbers:
// the reserved ones use Open vSwitch's 16-bit OpenFlow 1.0 numbers below.
// An empty list means drop.
//
// Thread-safety: plain values; a rule's list is immutable once installed.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "flowpath/flow/fields.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/flow/subfield.hpp"

namespace flowpath {

// Reserved OpenFlow ports (OpenFlow 1.0 numbering, as OVS prints them).
inline constexpr uint32_t kOfppMax = 0xff00;  // ports 1..0xfeff are physical
inline constexpr uint32_t kOfppInPort = 0xfff8;
inline constexpr uint32_t kOfppTable = 0xfff9;
inline constexpr uint32_t kOfppNormal = 0xfffa;
inline constexpr uint32_t kOfppFlood = 0xfffb;
inline constexpr uint32_t kOfppAll = 0xfffc;
inline constexpr uint32_t kOfppController = 0xfffd;
inline constexpr uint32_t kOfppLocal = 0xfffe;
inline constexpr uint32_t kOfppNone = 0xffff;

/// Number of OpenFlow tables (ids 0..254); 255 means "the current table"
/// in a resubmit and "all tables" in a flow-mod/dump filter.
inline constexpr uint8_t kOfNumTables = 255;
inline constexpr uint8_t kOfTableCurrent = 255;
inline constexpr uint8_t kOfTableAll = 255;

enum class OfActionType : uint8_t {
  kOutput,       // port (physical or reserved: NORMAL, FLOOD, ALL, LOCAL...)
  kSetVlanVid,   // u16: VID (pushes a tag when there is none)
  kSetVlanPcp,   // u16: PCP 0..7
  kStripVlan,    // pop the outermost tag (strip_vlan / pop_vlan)
  kPushVlan,     // u16: TPID (0x8100 or 0x88a8)
  kSetDlSrc,     // mac
  kSetDlDst,     // mac
  kSetNwSrc,     // ipv4 (host order)
  kSetNwDst,     // ipv4
  kSetNwTos,     // u16: TOS byte, DSCP bits only (multiple of 4)
  kSetTpSrc,     // u16: L4 port (host order)
  kSetTpDst,     // u16
  kSetField,     // field, value/mask: key bytes at the field's offset
  kResubmit,     // port (kOfppInPort = the packet's in_port), table
  kGotoTable,    // table
  kMove,         // src -> dst (subfields of equal width)
  kCt,           // ct(...): see CtArgs; `exec` holds its nested set_field/load and nat
  kCtClear,      // forget the connection-tracking state (ct_* fields to 0)
  kConjunction,  // u32 = id, clause (1-based k), n_clauses (n)
  kDecTtl,       // dec_ttl[(ids)]: cnt_ids, the controllers told of an expired TTL
  kSetNwTtl,     // u16: mod_nw_ttl:TTL (IPv4 TTL / IPv6 hop limit)
};

/// nat(...) inside ct(): address range, port range, flags.
struct NatArgs {
  enum Kind : uint8_t { kNone, kPlain, kSrc, kDst };  // kPlain: `nat` (reverse only)
  Kind kind = kNone;
  bool v6 = false, has_addr = false, has_ports = false;
  bool persistent = false, hash = false, random = false;
  Ipv6Addr addr_min{}, addr_max{};  // IPv4: the first 4 bytes
  uint16_t port_min = 0, port_max = 0;
  friend bool operator==(const NatArgs&, const NatArgs&) = default;
};

/// The arguments of ct(...).
struct CtArgs {
  bool commit = false, force = false;
  uint8_t table = 255;  // 255: no recirculation (ct without table=)
  uint16_t zone = 0;    // when !zone_from_field
  bool zone_from_field = false;
  Subfield zone_src{};  // zone=NXM_NX_REG6[0..15]
  // The nat that runs: the last of ct's nested nat actions (OVS's
  // translation keeps the last one).  Every nat, this one included, also
  // sits in its place in OfAction::exec as a kCt entry (is_nat_entry()), so
  // the list prints and encodes in OVS's order.
  NatArgs nat;
  friend bool operator==(const CtArgs&, const CtArgs&) = default;
};

struct OfAction {
  OfActionType type{};
  uint8_t table = kOfTableCurrent;  // kResubmit, kGotoTable
  // kSetVlanVid/kSetVlanPcp: push a tag when there is none (mod_vlan_vid,
  // mod_vlan_pcp); false for set_field:->vlan_vid/vlan_pcp, which need one.
  bool push_vlan_if_needed = true;
  uint16_t u16 = 0;   // vid, pcp, tpid, tos, L4 port
  uint32_t port = 0;  // kOutput, kResubmit
  uint32_t ipv4 = 0;  // kSetNwSrc/Dst, host order
  EthAddr mac{};      // kSetDlSrc/Dst
  FieldId field{};    // kSetField
  // kSetField: the bytes to write into FlowKey at field_info(field).offset
  // (network order, already shifted into place) and which bits to write.
  std::array<uint8_t, 16> value{};
  std::array<uint8_t, 16> mask{};
  // kSetField written as `load:V->FIELD[a..b]` (OVS prints it back so).
  bool is_load = false;
  Subfield src{}, dst{};              // kMove
  uint32_t u32 = 0;                   // kConjunction: id
  uint8_t clause = 0, n_clauses = 0;  // kConjunction: k (1-based), n
  CtArgs ct;                          // kCt
  std::vector<OfAction> exec;         // kCt: exec(...) actions
  // kDecTtl: controller ids; empty for plain `dec_ttl` (OVS: controller 0),
  // printed `dec_ttl(1,2)` when given (Nicira's dec_ttl_cnt_ids).
  std::vector<uint16_t> cnt_ids;

  static OfAction output(uint32_t p) {
    OfAction a;
    a.type = OfActionType::kOutput;
    a.port = p;
    return a;
  }
  static OfAction resubmit(uint32_t p, uint8_t t = kOfTableCurrent) {
    OfAction a;
    a.type = OfActionType::kResubmit;
    a.port = p;
    a.table = t;
    return a;
  }
  static OfAction goto_table(uint8_t t) {
    OfAction a;
    a.type = OfActionType::kGotoTable;
    a.table = t;
    return a;
  }
  static OfAction with_u16(OfActionType type, uint16_t v) {
    OfAction a;
    a.type = type;
    a.u16 = v;
    return a;
  }

  friend bool operator==(const OfAction&, const OfAction&) = default;
};

/// An ordered list; empty means drop.
using OfActionList = std::vector<OfAction>;

/// A nat among ct()'s nested actions (an exec entry of type kCt whose
/// ct.nat holds it).
inline bool is_nat_entry(const OfAction& e) noexcept { return e.type == OfActionType::kCt; }

/// The exec entry for nat `n`.
inline OfAction nat_entry(const NatArgs& n) {
  OfAction e;
  e.type = OfActionType::kCt;
  e.ct.nat = n;
  return e;
}

/// Applies a kSetField action's bytes to a key (masked byte copy).  A
/// field of the pipeline metadata is left alone: use the overload below.
inline void apply_set_field(const OfAction& a, FlowKey& key) noexcept {
  const FieldInfo& f = field_info(a.field);
  uint8_t* bytes = field_bytes(key, f);
  if (!bytes) return;
  for (unsigned i = 0; i < f.n_bytes; ++i)
    bytes[i] = uint8_t((bytes[i] & ~a.mask[i]) | (a.value[i] & a.mask[i]));
}
/// The bits a kSetField action writes, marked in a mask of the key (OVS's
/// mf_mask_field_masked: the megaflow pins them).  Metadata fields: none.
inline void apply_set_field_mask(const OfAction& a, FlowMask& mask) noexcept {
  const FieldInfo& f = field_info(a.field);
  uint8_t* bytes = field_bytes(mask, f);
  if (!bytes) return;
  for (unsigned i = 0; i < f.n_bytes; ++i) bytes[i] |= a.mask[i];
}
/// The same for a field of either struct (registers included).
inline void apply_set_field(const OfAction& a, FlowKey& key, PipelineMeta& meta) noexcept {
  const FieldInfo& f = field_info(a.field);
  uint8_t* bytes = f.space == FieldSpace::kMeta ? field_bytes(meta, f) : field_bytes(key, f);
  for (unsigned i = 0; i < f.n_bytes; ++i)
    bytes[i] = uint8_t((bytes[i] & ~a.mask[i]) | (a.value[i] & a.mask[i]));
}

}  // namespace flowpath
