// TlvPlanCache (openflow/tlv_plan.hpp) against encode_tlvs, its reference:
// every match of many shapes, each shape met again with other values,
// encodes to the very same bytes in both dialects, through one cache
// (plans made, replayed, and evicted by colliding shapes); a match that
// encode_tlvs refuses is refused the same way and leaves no plan behind.
#include "flowpath/openflow/tlv_plan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/codec.hpp"

namespace flowpath::openflow {
namespace tlv_plan_test {

std::vector<uint8_t> reference(const Match& m, TlvDialect d) {
  std::vector<uint8_t> b;
  Writer w(b);
  encode_tlvs(w, m, d);
  return b;
}
std::vector<uint8_t> planned(TlvPlanCache& plans, const Match& m, TlvDialect d) {
  std::vector<uint8_t> b{0xaa};  // something before: the plan appends
  Writer w(b);
  size_t n = plans.encode(w, m, d);
  EXPECT_EQ(n, b.size() - 1);
  return std::vector<uint8_t>(b.begin() + 1, b.end());
}

// Shapes with %u holes filled from a seeded generator: the same shape with
// other values, value-dependent headers (dl_type, nw_proto, ICMPv6 type,
// VLAN tag or none) and every kind of entry (in_port, VLAN, IPv6, masks,
// registers, ct fields).
const char* const kShapes[] = {
    "in_port=%u,dl_src=02:00:00:00:00:%02x,dl_dst=02:00:01:00:00:%02x",
    "in_port=%u,dl_vlan=%u",
    "in_port=%u,dl_vlan=%u,dl_vlan_pcp=%u",
    "in_port=%u,vlan_tci=0x0000/0x1fff,dl_type=0x%04x",
    "tcp,nw_src=198.51.100.%u,nw_dst=203.0.113.%u,tp_dst=%u",
    "udp,nw_src=198.51.100.0/24,nw_dst=203.0.113.%u,tp_src=%u,tp_dst=%u",
    "ip,in_port=%u,nw_dst=203.0.113.%u/%u",
    "icmp,icmp_type=%u,icmp_code=%u,nw_tos=%u",
    "tcp6,ipv6_src=2001:db8::%x,ipv6_dst=2001:db8::/%u,tcp_flags=+syn-ack,tp_dst=%u",
    "icmp6,icmp_type=135,nd_target=2001:db8::%x,nd_sll=02:00:00:00:00:%02x,ipv6_label=%u",
    "icmp6,icmp_type=136,nd_target=2001:db8::%x,nd_tll=02:00:00:00:00:%02x,nw_ttl=%u",
    "icmp6,icmp_type=%u,icmp_code=%u",
    "arp,arp_op=%u,arp_spa=192.0.2.%u,arp_tpa=192.0.2.%u,arp_sha=02:00:00:00:00:01",
    "sctp,tp_src=%u,tp_dst=%u,nw_ecn=%u",
    "reg5=0x%x,reg6=0x%x/0xffff,ct_state=+est-rel-rpl,ct_zone=%u,ct_mark=0x1/0xff,ip",
    "xreg3=0x%x00000002,recirc_id=%u,conj_id=%u,ct_label=0x1/0x3,tcp,tp_dst=%u",
    "ct_state=new|trk,ct_label=0x%x,ipv6,ip_frag=%s",
    "dl_type=0x%04x",
    "",
};

std::string fill(const char* shape, std::mt19937& rng) {
  std::string out;
  for (const char* p = shape; *p; ++p) {
    if (*p != '%') {
      out += *p;
      continue;
    }
    std::string spec;
    while (*p && *p != 'u' && *p != 'x' && *p != 's') spec += *p++;
    unsigned v = rng() % 200 + 1;
    if (*p == 's') {
      out += (v & 1) ? "first" : "later";
      continue;
    }
    spec += *p;
    char buf[16];
    std::snprintf(buf, sizeof buf, spec.c_str(), v);
    out += buf;
  }
  return out;
}

TEST(TlvPlan, SameBytesAsEncodeTlvsForEveryShapeAndValue) {
  std::mt19937 rng(7);
  TlvPlanCache plans;
  size_t compared = 0;
  for (int round = 0; round < 30; ++round)
    for (const char* shape : kShapes)
      for (TlvDialect d : {TlvDialect::kNxm, TlvDialect::kOxm}) {
        std::string text = fill(shape, rng);
        Match m;
        try {
          m = parse_match(text);
        } catch (const Error&) {
          continue;  // a filled value out of a field's range
        }
        std::vector<uint8_t> want;
        try {
          want = reference(m, d);
        } catch (const Error&) {
          EXPECT_THROW(planned(plans, m, d), Error) << text;
          continue;
        }
        EXPECT_EQ(planned(plans, m, d), want) << text << " dialect " << int(d);
        ++compared;
      }
  EXPECT_GT(compared, 900u);
}

TEST(TlvPlan, OxmVlanNoneAndTaggedShareNoPlan) {
  // The same mask, a CFI value that chooses OFPVID_NONE or a VID entry.
  TlvPlanCache plans;
  for (const char* t : {"vlan_tci=0x0000/0x1fff", "vlan_tci=0x1005/0x1fff",
                        "vlan_tci=0x0000/0x1fff", "vlan_tci=0x1009/0x1fff"}) {
    Match m = parse_match(t);
    EXPECT_EQ(planned(plans, m, TlvDialect::kOxm), reference(m, TlvDialect::kOxm)) << t;
  }
}

TEST(TlvPlan, RefusedMatchThrowsEveryTimeAndLeavesNoPlan) {
  TlvPlanCache plans;
  Match bad;  // tp_dst with no transport protocol: no header can carry it
  match_set(bad, FieldId::kTpDst, 80);
  for (int i = 0; i < 3; ++i) EXPECT_THROW(planned(plans, bad, TlvDialect::kNxm), Error);
  Match good = parse_match("tcp,tp_dst=80");
  EXPECT_EQ(planned(plans, good, TlvDialect::kNxm), reference(good, TlvDialect::kNxm));
}

TEST(TlvPlan, ManyShapesEvictEachOtherWithoutChangingBytes) {
  // More shapes than slots: nw_dst prefixes /1../32 times tp_dst or not.
  TlvPlanCache plans;
  for (int round = 0; round < 3; ++round)
    for (unsigned len = 1; len <= 32; ++len)
      for (const char* l4 : {"", ",tp_dst=80", ",tp_src=1"}) {
        std::string t = "tcp,nw_dst=203.0.113.0/" + std::to_string(len) + l4;
        Match m = parse_match(t);
        for (TlvDialect d : {TlvDialect::kNxm, TlvDialect::kOxm})
          EXPECT_EQ(planned(plans, m, d), reference(m, d)) << t;
      }
}

}  // namespace tlv_plan_test
}  // namespace flowpath::openflow
