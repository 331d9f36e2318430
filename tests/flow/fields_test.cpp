// Field registry and MatchBuilder.
#include "flowpath/flow/fields.hpp"

#include <gtest/gtest.h>

#include "flowpath/flow/of_action.hpp"

namespace flowpath {
namespace fields_test {

TEST(Fields, EveryFieldHasAUniqueNameAndFitsTheKey) {
  for (const auto& f : all_fields()) {
    EXPECT_EQ(&field_info(f.id), &f);
    EXPECT_EQ(find_field(f.name), &f) << f.name;
    EXPECT_LE(f.offset + f.n_bytes, sizeof(FlowKey)) << f.name;
    for (auto a : f.aliases)
      if (!a.empty()) {
        EXPECT_EQ(find_field(a), &f) << a;
      }
  }
  EXPECT_EQ(find_field("nope"), nullptr);
}

TEST(Fields, PutAndGetUseTheKeyLayout) {
  FlowKey k;
  put_field(k, FieldId::kTpSrc, 80);
  EXPECT_EQ(k.tp_src.host(), 80);
  put_field(k, FieldId::kIpDscp, 46);
  put_field(k, FieldId::kNwEcn, 1);
  EXPECT_EQ(k.nw_tos, (46 << 2) | 1);
  put_field(k, FieldId::kDlVlanPcp, 5);
  put_field(k, FieldId::kDlVlan, 100);
  EXPECT_EQ(k.vlans[0].tci.host(), (5 << 13) | 100);
  put_field(k, FieldId::kDlSrc, 0x0000'0102'0304'0506ull);
  EXPECT_EQ(k.dl_src, (EthAddr{{1, 2, 3, 4, 5, 6}}));
  put_field(k, FieldId::kInPort, 7);
  EXPECT_EQ(k.in_port, 7u);
  put_field(k, FieldId::kIcmpType, 8);
  EXPECT_EQ(k.tp_src.host(), 8);
}

TEST(Fields, BuilderChecksPrerequisites) {
  Match m = MatchBuilder().proto(kEthTypeIpv4, kIpProtoTcp).set(FieldId::kTpDst, 80).build();
  FlowKey k;
  k.dl_type = Be16(kEthTypeIpv4);
  k.nw_proto = kIpProtoTcp;
  k.tp_dst = Be16(80);
  EXPECT_TRUE(m.matches(k));
  k.tp_dst = Be16(81);
  EXPECT_FALSE(m.matches(k));
  EXPECT_THROW(MatchBuilder().set(FieldId::kTpDst, 80).build(), Error);
  EXPECT_THROW(MatchBuilder().proto(kEthTypeIpv4, kIpProtoUdp).set(FieldId::kTcpFlags, 2).build(),
               Error);
  EXPECT_THROW(MatchBuilder().proto(kEthTypeIpv6, kIpProtoIcmpv6).set(FieldId::kNdSll, 1).build(),
               Error);
  EXPECT_NO_THROW(MatchBuilder()
                      .proto(kEthTypeIpv6, kIpProtoIcmpv6)
                      .set(FieldId::kIcmpv6Type, 135)
                      .set(FieldId::kNdSll, EthAddr{{1, 2, 3, 4, 5, 6}})
                      .build());
}

TEST(Fields, MaskedSetAndVlanPresence) {
  Match m = MatchBuilder().set(FieldId::kDlVlan, 10).build();
  EXPECT_EQ(get_field(m.mask, FieldId::kVlanTci), 0x1fffu);
  EXPECT_EQ(get_field(m.value, FieldId::kVlanTci), 0x100au);
  Match n = MatchBuilder().proto(kEthTypeIpv4).set(FieldId::kNwSrc, 0x0a010203, 0xff000000).build();
  EXPECT_EQ(n.value.nw_src.host(), 0x0a000000u);
  EXPECT_EQ(n.mask.nw_src.host(), 0xff000000u);
}

TEST(Fields, SetFieldActionWritesTheKey) {
  OfAction a;
  a.type = OfActionType::kSetField;
  a.field = FieldId::kNwTtl;
  a.value[0] = 9;
  a.mask[0] = 0xff;
  FlowKey k;
  k.nw_ttl = 64;
  apply_set_field(a, k);
  EXPECT_EQ(k.nw_ttl, 9);
}

}  // namespace fields_test
}  // namespace flowpath
