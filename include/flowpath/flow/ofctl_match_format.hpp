// flowpath/flow/ofctl_match_format.hpp — printing a Match (or a packet's
// FlowKey) as ovs-ofctl flow text, in Open vSwitch's match_format() order:
//
//   priority, recirc_id, conj_id, ct_state, ct_zone, ct_mark, ct_label,
//   shorthand (ip/tcp/arp/...), reg0..reg15, in_port, dl_vlan/dl_vlan_pcp or
//   vlan_tci, dl_src, dl_dst, dl_type (when no shorthand), nw_src/nw_dst or
//   ipv6_src/ipv6_dst/ipv6_label or arp_spa/arp_tpa, nw_proto or arp_op
//   (when no shorthand), arp_sha/arp_tha, nw_tos, nw_ecn, nw_ttl, nw_frag,
//   icmp_type/icmp_code(/nd_target/nd_sll/nd_tll) or tp_src/tp_dst,
//   tcp_flags.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <cinttypes>
#include <cstdio>
#include <string>

#include "flowpath/flow/ofctl_match.hpp"

namespace flowpath {
namespace ofctl {

class MatchPrinter {
 public:
  MatchPrinter(const Match& m, const PortNamer* namer) : m_(m), namer_(namer) {}

  std::string print(int32_t priority) {
    if (priority != kOfDefaultPriority) put("priority=" + std::to_string(priority));
    conntrack();
    uint16_t type = exact(FieldId::kDlType) ? uint16_t(val(FieldId::kDlType)) : 0;
    bool ip4 = type == kEthTypeIpv4, ip6 = type == kEthTypeIpv6;
    bool arp = type == kEthTypeArp || type == kEthTypeRarp;
    uint8_t proto = uint8_t(val(FieldId::kNwProto));
    bool skip_proto = shorthand(type, ip4 || ip6, arp);
    for (unsigned r = 0; r < kNumRegs; ++r)
      hex_field(("reg" + std::to_string(r)).c_str(), reg_field(r));
    if (msk(FieldId::kInPort)) put("in_port=" + port_name(uint32_t(val(FieldId::kInPort))));
    vlan();
    eth("dl_src", FieldId::kDlSrc);
    eth("dl_dst", FieldId::kDlDst);
    if (!skipped_type_ && msk(FieldId::kDlType)) put(hex("dl_type=0x%04" PRIx64, type));
    if (ip6) {
      ipv6("ipv6_src", FieldId::kIpv6Src);
      ipv6("ipv6_dst", FieldId::kIpv6Dst);
      if (uint64_t mk = msk(FieldId::kIpv6Label)) {
        std::string s = hex("ipv6_label=0x%05" PRIx64, val(FieldId::kIpv6Label));
        put(mk == 0xfffff ? s : s + hex("/0x%05" PRIx64, mk));
      }
    } else {
      ipv4(arp ? "arp_spa" : "nw_src", FieldId::kNwSrc);
      ipv4(arp ? "arp_tpa" : "nw_dst", FieldId::kNwDst);
    }
    if (!skip_proto && msk(FieldId::kNwProto))
      put(std::string(arp ? "arp_op=" : "nw_proto=") + std::to_string(proto));
    if (arp) {
      eth("arp_sha", FieldId::kArpSha);
      eth("arp_tha", FieldId::kArpTha);
    }
    l3_misc();
    l4(ip4 && proto == kIpProtoIcmp, ip6 && proto == kIpProtoIcmpv6);
    return out_;
  }

 private:
  uint64_t msk(FieldId id) const { return match_mask(m_, id); }
  uint64_t val(FieldId id) const { return match_value(m_, id); }
  bool exact(FieldId id) const {
    const auto& f = field_info(id);
    return msk(id) == f.bits >> f.shift;
  }
  void put(const std::string& s) {
    if (!out_.empty()) out_ += ',';
    out_ += s;
  }
  static std::string hex(const char* fmt, uint64_t v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
  }

  static std::string hex0(uint64_t v) { return v ? hex("0x%" PRIx64, v) : "0"; }
  // `name=0x..[/0x..]`, value 0 as `0`, no mask when all ones.
  void hex_field(const char* name, FieldId id) {
    uint64_t mk = msk(id);
    if (!mk) return;
    const auto& f = field_info(id);
    std::string s = std::string(name) + "=" + hex0(val(id));
    put(mk == f.bits >> f.shift ? s : s + "/" + hex0(mk));
  }

  // OVS's match_format order: recirc_id, conj_id, then the ct_* fields.
  void conntrack() {
    if (msk(FieldId::kRecircId)) put("recirc_id=" + hex0(val(FieldId::kRecircId)));
    if (msk(FieldId::kConjId)) put("conj_id=" + std::to_string(val(FieldId::kConjId)));
    if (uint64_t mk = msk(FieldId::kCtState))
      put("ct_state=" + ct_state(val(FieldId::kCtState), mk));
    if (msk(FieldId::kCtZone)) put("ct_zone=" + std::to_string(val(FieldId::kCtZone)));
    hex_field("ct_mark", FieldId::kCtMark);
    if (match_has(m_, FieldId::kCtLabel)) {
      Ipv6Addr v = get_field_ipv6(m_.meta_value, FieldId::kCtLabel);
      Ipv6Addr mk = get_field_ipv6(m_.meta_mask, FieldId::kCtLabel);
      Ipv6Addr ones;
      ones.b.fill(0xff);
      std::string s = "ct_label=" + format_u128(v);
      put(mk == ones ? s : s + "/" + format_u128(mk));
    }
  }

  static std::string ct_state(uint64_t v, uint64_t mk) {
    std::string s;
    if (mk == 0xff) {  // every flag pinned: the exact form
      for (int b = 0; b < 8; ++b)
        if (v >> b & 1) s += (s.empty() ? "" : "|") + std::string(kCtStateNames[b]);
      return s.empty() ? "0" : s;
    }
    for (int b = 0; b < 8; ++b)
      if (mk >> b & 1) s += (v >> b & 1 ? "+" : "-") + std::string(kCtStateNames[b]);
    return s;
  }

  // Returns true when nw_proto was absorbed into the shorthand.
  bool shorthand(uint16_t type, bool ip, bool arp) {
    if (!ip && !arp) return false;
    skipped_type_ = true;
    bool v6 = type == kEthTypeIpv6;
    if (arp) {
      put(type == kEthTypeArp ? "arp" : "rarp");
      return false;
    }
    if (msk(FieldId::kNwProto)) {
      for (const auto& s : kShorthands)
        if (s.nw_proto && s.dl_type == type && s.nw_proto == val(FieldId::kNwProto)) {
          put(std::string(s.name));
          return true;
        }
    }
    put(v6 ? "ipv6" : "ip");
    return false;
  }

  std::string port_name(uint32_t p) const {
    if (namer_ && *namer_)
      if (auto n = (*namer_)(p)) return *n;
    if (p == 0xfffe) return "LOCAL";
    return std::to_string(p);
  }

  void vlan() {
    uint64_t mk = msk(FieldId::kVlanTci), tci = val(FieldId::kVlanTci);
    if (!mk) return;
    uint64_t vid_mask = mk & 0x0fff, pcp_mask = mk & 0xe000;
    if ((mk & kVlanCfi) && (tci & kVlanCfi) && (!vid_mask || vid_mask == 0x0fff) &&
        (!pcp_mask || pcp_mask == 0xe000) && (vid_mask || pcp_mask)) {
      if (vid_mask) put("dl_vlan=" + std::to_string(tci & 0x0fff));
      if (pcp_mask) put("dl_vlan_pcp=" + std::to_string(tci >> 13));
    } else if (mk == 0xffff) {
      put(hex("vlan_tci=0x%04" PRIx64, tci));
    } else {
      put(hex("vlan_tci=0x%04" PRIx64, tci) + hex("/0x%04" PRIx64, mk));
    }
  }

  void eth(const char* name, FieldId id) {
    uint64_t mk = msk(id);
    if (!mk) return;
    std::string s = std::string(name) + "=" + format_eth(u64_to_eth(val(id)));
    put(mk == 0xffffffffffffull ? s : s + "/" + format_eth(u64_to_eth(mk)));
  }

  void ipv4(const char* name, FieldId id) {
    uint32_t mk = uint32_t(msk(id));
    if (!mk) return;
    std::string s = std::string(name) + "=" + format_ipv4(uint32_t(val(id)));
    int len = ipv4_prefix_len(mk);
    if (len == 32)
      put(s);
    else
      put(s + "/" + (len >= 0 ? std::to_string(len) : format_ipv4(mk)));
  }

  void ipv6(const char* name, FieldId id) {
    Ipv6Addr mk = get_field_ipv6(m_.mask, id);
    if (mk == Ipv6Addr{}) return;
    std::string s = std::string(name) + "=" + format_ipv6(get_field_ipv6(m_.value, id));
    int len = ipv6_prefix_len(mk);
    if (len == 128)
      put(s);
    else
      put(s + "/" + (len >= 0 ? std::to_string(len) : format_ipv6(mk)));
  }

  void be16(const char* name, FieldId id) {
    uint64_t mk = msk(id);
    if (!mk) return;
    if (mk == 0xffff)
      put(std::string(name) + "=" + std::to_string(val(id)));
    else
      put(std::string(name) + hex("=0x%" PRIx64, val(id)) + hex("/0x%" PRIx64, mk));
  }

  void l3_misc() {
    uint64_t tos_mask = get_field(m_.mask, FieldId::kNwTos);
    uint64_t tos = get_field(m_.value, FieldId::kNwTos);
    if (tos_mask) put("nw_tos=" + std::to_string(tos));
    if (msk(FieldId::kNwEcn)) put("nw_ecn=" + std::to_string(val(FieldId::kNwEcn)));
    if (msk(FieldId::kNwTtl)) put("nw_ttl=" + std::to_string(val(FieldId::kNwTtl)));
    uint64_t fm = msk(FieldId::kNwFrag), fv = val(FieldId::kNwFrag);
    if (fm == (kFragAny | kFragLater))
      put(std::string("nw_frag=") +
          (fv & kFragAny ? (fv & kFragLater ? "later" : "first") : (fv ? "<error>" : "no")));
    else if (fm == kFragAny)
      put(std::string("nw_frag=") + (fv ? "yes" : "no"));
    else if (fm == kFragLater)
      put(std::string("nw_frag=") + (fv ? "later" : "not_later"));
  }

  void l4(bool icmp4, bool icmp6) {
    if (icmp4 || icmp6) {
      if (msk(FieldId::kIcmpType)) put("icmp_type=" + std::to_string(val(FieldId::kIcmpType)));
      if (msk(FieldId::kIcmpCode)) put("icmp_code=" + std::to_string(val(FieldId::kIcmpCode)));
      if (icmp6) {
        ipv6("nd_target", FieldId::kNdTarget);
        eth("nd_sll", FieldId::kNdSll);
        eth("nd_tll", FieldId::kNdTll);
      }
    } else {
      be16("tp_src", FieldId::kTpSrc);
      be16("tp_dst", FieldId::kTpDst);
    }
    if (uint64_t mk = msk(FieldId::kTcpFlags))
      put("tcp_flags=" + tcp_flags(val(FieldId::kTcpFlags), mk));
  }

  static std::string tcp_flags(uint64_t v, uint64_t mk) {
    auto flag = [](int bit) {
      return bit < 9 ? std::string(kTcpFlagNames[bit]) : hex("[%" PRIx64 "]", uint64_t(1) << bit);
    };
    std::string s;
    if (mk == 0x0fff) {
      if (!v) return "0";
      for (int b = 0; b < 12; ++b)
        if (v >> b & 1) s += (s.empty() ? "" : "|") + flag(b);
      return s;
    }
    for (int b = 0; b < 12; ++b)
      if (mk >> b & 1) s += (v >> b & 1 ? "+" : "-") + flag(b);
    return s;
  }

  const Match& m_;
  const PortNamer* namer_;
  std::string out_;
  bool skipped_type_ = false;
};

}  // namespace ofctl

/// `m` as ovs-ofctl prints it (priority shown unless 32768).
inline std::string format_match(const Match& m, int32_t priority = kOfDefaultPriority,
                                const PortNamer* namer = nullptr) {
  return ofctl::MatchPrinter(m, namer).print(priority);
}

/// The mask of every field present in a packet with key `k`, following
/// prerequisites: VLAN only when tagged, L3 by dl_type, L4 by nw_proto
/// (and only in first fragments), ND fields only in solicitations and
/// advertisements.
inline FlowMask key_presence_mask(const FlowKey& k) {
  Match m;
  auto all = [&](FieldId id) { put_field(m.mask, id, ~0ull); };
  for (FieldId id : {FieldId::kInPort, FieldId::kDlSrc, FieldId::kDlDst, FieldId::kDlType}) all(id);
  if (k.vlans[0].tci.host() & kVlanCfi) all(FieldId::kVlanTci);
  uint16_t type = k.dl_type.host();
  bool ip4 = type == kEthTypeIpv4, ip6 = type == kEthTypeIpv6;
  if (type == kEthTypeArp || type == kEthTypeRarp)
    for (FieldId id :
         {FieldId::kArpSpa, FieldId::kArpTpa, FieldId::kArpOp, FieldId::kArpSha, FieldId::kArpTha})
      all(id);
  if (!ip4 && !ip6) return m.mask;
  for (FieldId id :
       {FieldId::kNwProto, FieldId::kNwTos, FieldId::kNwEcn, FieldId::kNwTtl, FieldId::kNwFrag})
    all(id);
  if (ip4) all(FieldId::kNwSrc), all(FieldId::kNwDst);
  if (ip6) {
    put_field_ipv6(m.mask, FieldId::kIpv6Src, ofctl::ipv6_prefix_mask(128));
    put_field_ipv6(m.mask, FieldId::kIpv6Dst, ofctl::ipv6_prefix_mask(128));
    all(FieldId::kIpv6Label);
  }
  if (k.nw_frag & kFragLater) return m.mask;
  uint8_t p = k.nw_proto;
  if (p == kIpProtoTcp || p == kIpProtoUdp || p == kIpProtoSctp) {
    all(FieldId::kTpSrc), all(FieldId::kTpDst);
    if (p == kIpProtoTcp) all(FieldId::kTcpFlags);
  } else if ((ip4 && p == kIpProtoIcmp) || (ip6 && p == kIpProtoIcmpv6)) {
    all(FieldId::kIcmpType), all(FieldId::kIcmpCode);
    uint8_t t = uint8_t(get_field(k, FieldId::kIcmpType));
    if (ip6 && (t == 135 || t == 136)) {
      put_field_ipv6(m.mask, FieldId::kNdTarget, ofctl::ipv6_prefix_mask(128));
      all(t == 135 ? FieldId::kNdSll : FieldId::kNdTll);
    }
  }
  return m.mask;
}

/// A packet's key as an ovs-ofctl match listing every field present in it.
inline std::string format_key(const FlowKey& k, const PortNamer* namer = nullptr) {
  return format_match(Match(k, key_presence_mask(k)), kOfDefaultPriority, namer);
}

}  // namespace flowpath
