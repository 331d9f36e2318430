// flowpath/flow/ofctl_flow_mod_impl.hpp — bodies of ofctl_flow_mod.hpp.
#pragma once

namespace flowpath {
namespace ofctl {

// OpenFlow 1.0's twin of a set_field where it has one, else `load:`.
inline std::string of10_set_field(const OfAction& a) {
  if (a.is_load) return format_load(a);
  uint64_t v = uint64_t(set_field_logical(a, false));
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
    std::function<std::string(const OfAction&)> one = [&](const OfAction& a) -> std::string {
      if (a.type == T::kGotoTable) return "resubmit(," + std::to_string(a.table) + ")";
      if (a.type == T::kSetField) return of10_set_field(a);
      if (a.type == T::kSetNwTtl) {  // OpenFlow 1.0 has no such action: Nicira's reg_load
        char b[48];
        std::snprintf(b, sizeof b, a.u16 ? "load:%#x->NXM_NX_IP_TTL[]" : "load:0->NXM_NX_IP_TTL[]",
                      unsigned(a.u16));
        return b;
      }
      if (a.type == T::kCt) return format_ct(a, one);
      return format_one_action(a, nullptr);
    };
    std::string s;
    for (const auto& a : f.actions) s += (s.empty() ? "" : ",") + one(a);
    return s.empty() ? "drop" : s;
  }
  // OpenFlow 1.3: set_field of a whole field stays set_field; a masked one
  // and every load: print as Nicira's reg_load, which carries them.
  auto of13_set_field = [](const OfAction& a) {
    const FieldInfo& fi = field_info(a.field);
    U128 whole = fi.n_bytes == 16 ? ~U128(0) : U128(fi.bits >> fi.shift);
    if (a.is_load || set_field_logical(a, true) != whole) return format_load(a);
    return "set_field:" + mf_value(a) + "->" + std::string(mf_name(a.field));
  };
  auto w = action_check::start(f.match);
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
        put(of13_set_field(a));
        break;
      case T::kCt:
        put(format_ct(a, [&](const OfAction& x) {
          return x.type == T::kSetField ? of13_set_field(x) : format_one_action(x, nullptr);
        }));
        break;
      default:
        put(format_one_action(a, nullptr));
    }
  }
  return s.empty() ? "drop" : s;
}

}  // namespace ofctl
}  // namespace flowpath
