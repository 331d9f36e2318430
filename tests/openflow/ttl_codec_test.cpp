// dec_ttl, dec_ttl(IDS) and mod_nw_ttl on the wire: OpenFlow 1.0 carries
// them as Nicira actions (NXAST_DEC_TTL, NXAST_DEC_TTL_CNT_IDS, and a
// reg_load of NXM_NX_IP_TTL), 1.3 as OFPAT_DEC_NW_TTL / OFPAT_SET_NW_TTL
// (ids still Nicira's).  Encoded, decoded, the same list; the bytes of
// each action as OVS lays them out; malformed ones refused; and the real
// `ovs-ofctl ofp-print` decodes our flow-mods into the text that
// `ovs-ofctl parse-flows` prints for the flow (flow/ofctl_ttl_diff_test).
#include <gtest/gtest.h>

#include "flowpath/flow/ofctl_parse_flows.hpp"
#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/codec.hpp"
#include "support/ofp_print.hpp"
#include "support/shell.hpp"

namespace flowpath::openflow {
namespace ttl_codec_test {

using flowpath::test::ofp_hex;

std::vector<uint8_t> encoded(const OfActionList& l, uint8_t v) {
  std::vector<uint8_t> buf;
  Writer w(buf);
  encode_actions(w, l, v);
  return buf;
}

OfActionList actions(const char* text) { return parse_flow(text).actions; }

TEST(TtlCodec, BytesAsOpenVswitchLaysThemOut) {
  EXPECT_EQ(ofp_hex(encoded(actions("ip actions=dec_ttl"), kOfp10)),
            "ffff001000002320001200000000"
            "0000");
  EXPECT_EQ(ofp_hex(encoded(actions("ip actions=dec_ttl"), kOfp13)), "0018000800000000");
  EXPECT_EQ(ofp_hex(encoded(actions("ip actions=dec_ttl(1,2,3)"), kOfp13)),
            "ffff001800002320001500030000000000010002000300"
            "00");
  EXPECT_EQ(ofp_hex(encoded(actions("ip actions=mod_nw_ttl:9"), kOfp13)), "0017000809000000");
}

TEST(TtlCodec, RoundTripInBothVersions) {
  for (const char* t :
       {"ip actions=dec_ttl,output:1", "ip actions=dec_ttl(0)",
        "ipv6 actions=dec_ttl(1,2,3,4,5),mod_nw_ttl:200,output:2", "ip actions=mod_nw_ttl:0"})
    for (uint8_t v : {kOfp10, kOfp13}) {
      SCOPED_TRACE(std::string(t) + (v == kOfp10 ? " (1.0)" : " (1.3)"));
      const OfActionList want = actions(t);
      const std::vector<uint8_t> b = encoded(want, v);
      OfActionList got = decode_actions(Reader(b), v);
      // 1.0 brings mod_nw_ttl back as the reg_load it travelled as.
      for (size_t i = 0; i < got.size() && v == kOfp10; ++i)
        if (got[i].type == OfActionType::kSetField && got[i].field == FieldId::kNwTtl)
          got[i] = OfAction::with_u16(OfActionType::kSetNwTtl, got[i].value[0]);
      EXPECT_EQ(format_actions(got), format_actions(want));
    }
}

TEST(TtlCodec, MalformedRefused) {
  auto err = [](const std::string& h, uint8_t v) {
    std::vector<uint8_t> b;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
      b.push_back(uint8_t(std::stoi(h.substr(i, 2), nullptr, 16)));
    try {
      decode_actions(Reader(b), v);
    } catch (const DecodeError& e) {
      return e.errc;
    }
    return OfpErrc::kBadType;  // "no error"
  };
  // Three ids announced, room for one; a zero count; wrong lengths.
  EXPECT_EQ(err("ffff001000002320001500030000000000010000", kOfp13), OfpErrc::kActionBadLen);
  EXPECT_EQ(err("ffff0010000023200015000000000000", kOfp13), OfpErrc::kActionBadLen);
  EXPECT_EQ(err("0018001000000000"
                "0000000000000000",
                kOfp13),
            OfpErrc::kActionBadLen);
  EXPECT_EQ(err("0017001009000000"
                "0000000000000000",
                kOfp13),
            OfpErrc::kActionBadLen);
  EXPECT_EQ(err("ffff001800002320001200000000000000000000"
                "00000000",
                kOfp10),
            OfpErrc::kActionBadLen);
}

TEST(TtlCodec, OvsOfctlDecodesOurFlowMods) {
  if (std::system("ovs-ofctl --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "ovs-ofctl not found";
  for (const char* t : {"ip actions=dec_ttl,output:1", "ip actions=dec_ttl(1,2),mod_nw_ttl:9",
                        "ipv6 actions=mod_nw_ttl:7,dec_ttl(0)"})
    for (uint8_t v : {kOfp10, kOfp13}) {
      SCOPED_TRACE(std::string(t) + (v == kOfp10 ? " (1.0)" : " (1.3)"));
      const OfctlFlow f = parse_flow(t);
      FlowMod fm;
      fm.match = f.match;
      fm.instructions.actions = f.actions;
      fm.match_format = v == kOfp13 ? MatchFormat::kOxm : choose_of10_format(f.match);
      const std::string out =
          test::shell_output("ovs-ofctl ofp-print " + ofp_hex(encode(Message{v, 1, fm})));
      const FlowModText want = parse_flow_mod_text(
          t, v == kOfp10 ? OfProtocolSet::kOpenFlow10 : OfProtocolSet::kOpenFlow13);
      ASSERT_TRUE(want.ok) << want.error;
      const std::string acts = want.message.substr(want.message.rfind(" actions=") + 1);
      EXPECT_NE(out.find(acts), std::string::npos) << "want " << acts << " in\n" << out;
    }
}

}  // namespace ttl_codec_test
}  // namespace flowpath::openflow
