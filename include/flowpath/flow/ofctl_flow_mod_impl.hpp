// flowpath/flow/ofctl_flow_mod_impl.hpp — bodies of ofctl_flow_mod.hpp.
#pragma once

namespace flowpath {
namespace ofctl {

namespace flow_mod_detail {
struct Walk {  // what the actions know of the packet so far
  // Tag-present bits of the outer two tags, as OVS's check tracks them.
  bool tag0 = false, tag1 = false;
  void push() { tag1 = tag0, tag0 = true; }
  void pop() { tag0 = tag1, tag1 = false; }
  bool ip4 = false, ip = false, l4 = false;
  uint8_t proto = 0;
};
inline Walk start(const Match& m) {
  Walk w;
  uint64_t tci_mask = get_field(m.mask, FieldId::kVlanTci);
  w.tag0 = (tci_mask & kVlanCfi) && (get_field(m.value, FieldId::kVlanTci) & kVlanCfi);
  w.ip4 = match_is_exact(m, FieldId::kDlType, kEthTypeIpv4);
  w.ip = w.ip4 || match_is_exact(m, FieldId::kDlType, kEthTypeIpv6);
  if (w.ip && get_field(m.mask, FieldId::kNwProto) == 0xff)
    w.proto = uint8_t(get_field(m.value, FieldId::kNwProto));
  // Later fragments carry no L4 header: rewriting ports does not fit them.
  bool later = get_field(m.value, FieldId::kNwFrag) & kFragLater;
  w.l4 = !later && (w.proto == kIpProtoTcp || w.proto == kIpProtoUdp || w.proto == kIpProtoSctp);
  return w;
}
// Protocols that can carry a set_field of `id` (its exact-match usability).
inline uint32_t set_field_usable(FieldId id) {
  if (id == FieldId::kVlanTci || id == FieldId::kDlVlan || id == FieldId::kDlVlanPcp ||
      id == FieldId::kIpDscp || id == FieldId::kNwTos)
    return ofproto::kAny;
  Match m;
  const FieldInfo& fi = field_info(id);
  if (fi.n_bytes == 16)
    put_field_ipv6(m.mask, id, ipv6_prefix_mask(128));
  else
    put_field(m.mask, id, ~0ull);
  if (id == FieldId::kSctpSrc || id == FieldId::kSctpDst) return ofproto::kNxmOf11Up;
  if (id == FieldId::kIcmpType || id == FieldId::kIcmpCode) return ofproto::kAny;
  return ofproto::match_usable(m);
}
}  // namespace flow_mod_detail

inline uint32_t check_actions(const OfctlFlow& f, std::string& err) {
  using T = OfActionType;
  auto w = flow_mod_detail::start(f.match);
  uint32_t u = ofproto::kAny;
  auto inconsistent = [&] { u &= ofproto::kOf10Any; };
  for (size_t i = 0; i < f.actions.size() && err.empty(); ++i) {
    const OfAction& a = f.actions[i];
    switch (a.type) {
      case T::kOutput:
        if (a.port == kOfppNone || a.port == kOfppTable) err = "OFPBAC_BAD_OUT_PORT";
        break;
      case T::kSetVlanVid:
      case T::kSetVlanPcp:
        if (!w.tag0 && !a.push_vlan_if_needed) err = "OFPBAC_MATCH_INCONSISTENT";
        w.tag0 = true;
        break;
      case T::kStripVlan:
        if (!w.tag0) inconsistent();
        w.pop();
        break;
      case T::kPushVlan:
        u &= ofproto::kOf11Up;
        if (w.tag1) err = "OFPBAC_BAD_TAG";
        w.push();
        break;
      case T::kSetNwSrc:
      case T::kSetNwDst:
        if (!w.ip4) inconsistent();
        break;
      case T::kSetNwTos:
        if (!w.ip) inconsistent();
        break;
      case T::kSetTpSrc:
      case T::kSetTpDst:
        if (!w.l4) inconsistent();
        break;
      case T::kSetField:
        if (!missing_prereq(f.match, field_info(a.field).prereq).empty())
          err = "OFPBAC_MATCH_INCONSISTENT";
        u &= flow_mod_detail::set_field_usable(a.field);
        if (a.field == FieldId::kVlanTci) w.tag0 = a.value[0] & (kVlanCfi >> 8);
        break;
      case T::kGotoTable:
        // Only forward: a flow without table= is in table 0 (OVS checks
        // this only with table=, then fails to decode its own 1.3 message).
        if (a.table <= f.table) err = "OFPBIC_BAD_TABLE_ID";
        break;
      default:
        break;
    }
    if (!err.empty()) return 0;
  }
  return u;
}

// OpenFlow 1.0's twin of a set_field where it has one, else `load:`.
inline std::string of10_set_field(const OfAction& a) {
  Match m;
  const FieldInfo& fi = field_info(a.field);
  std::memcpy(reinterpret_cast<uint8_t*>(&m.value) + fi.offset, a.value.data(), fi.n_bytes);
  uint64_t v = get_field(m.value, a.field);
  switch (a.field) {
    case FieldId::kNwTos:
      return "mod_nw_tos:" + std::to_string(v);
    case FieldId::kIpDscp:
      return "mod_nw_tos:" + std::to_string(v << 2);
    case FieldId::kSctpSrc:
    case FieldId::kSctpDst:
      return nxm_load(a);
    case FieldId::kVlanTci:
      if (!(v & kVlanCfi)) return "strip_vlan";
      return "mod_vlan_vid:" + std::to_string(v & 0x0fff) +
             ",mod_vlan_pcp:" + std::to_string(v >> 13);
    default:
      return nxm_load(a);
  }
}

inline std::string format_actions_as(const OfctlFlow& f, uint32_t proto) {
  using T = OfActionType;
  if (!(proto & ofproto::kOxm)) {
    std::string s;
    for (const auto& a : f.actions) {
      std::string one;
      if (a.type == T::kGotoTable)
        one = "resubmit(," + std::to_string(a.table) + ")";
      else if (a.type == T::kSetField)
        one = of10_set_field(a);
      else
        one = format_one_action(a, nullptr);
      s += (s.empty() ? "" : ",") + one;
    }
    return s.empty() ? "drop" : s;
  }
  auto w = flow_mod_detail::start(f.match);
  const char* l4 = w.proto == kIpProtoUdp ? "udp" : w.proto == kIpProtoSctp ? "sctp" : "tcp";
  std::string s;
  auto put = [&](const std::string& x) { s += (s.empty() ? "" : ",") + x; };
  for (const auto& a : f.actions) {
    switch (a.type) {
      case T::kSetVlanVid:
      case T::kSetVlanPcp:
        if (!w.tag0) put("push_vlan:0x8100");
        w.tag0 = true;
        put(a.type == T::kSetVlanVid ? "set_field:" + std::to_string(0x1000 | a.u16) + "->vlan_vid"
                                     : "set_field:" + std::to_string(a.u16) + "->vlan_pcp");
        break;
      case T::kStripVlan:
        w.pop();
        put("pop_vlan");
        break;
      case T::kPushVlan:
        w.push();
        put(format_one_action(a, nullptr));
        break;
      case T::kSetDlSrc:
        put("set_field:" + format_eth(a.mac) + "->eth_src");
        break;
      case T::kSetDlDst:
        put("set_field:" + format_eth(a.mac) + "->eth_dst");
        break;
      case T::kSetNwSrc:
        put("set_field:" + format_ipv4(a.ipv4) + "->ip_src");
        break;
      case T::kSetNwDst:
        put("set_field:" + format_ipv4(a.ipv4) + "->ip_dst");
        break;
      case T::kSetNwTos:
        put("set_field:" + std::to_string(a.u16 >> 2) + "->ip_dscp");
        break;
      case T::kSetTpSrc:
        put("set_field:" + std::to_string(a.u16) + "->" + l4 + "_src");
        break;
      case T::kSetTpDst:
        put("set_field:" + std::to_string(a.u16) + "->" + l4 + "_dst");
        break;
      case T::kSetField:
        if (a.field == FieldId::kVlanTci) w.tag0 = a.value[0] & (kVlanCfi >> 8);
        put("set_field:" + mf_value(a) + "->" + std::string(mf_name(a.field)));
        break;
      default:
        put(format_one_action(a, nullptr));
    }
  }
  return s.empty() ? "drop" : s;
}

}  // namespace ofctl
}  // namespace flowpath
