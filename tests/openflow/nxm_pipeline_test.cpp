// NXM/OXM match TLVs of the pipeline and connection-tracking fields
// (registers, xregs as their two registers, recirc_id, conj_id, ct_state,
// ct_zone, ct_mark, ct_label): encode, decode, same match, in both
// dialects; the header numbers are Nicira's (NXM_NX_REG5 = 0x00010a04).
// (The actions on these fields: tests/openflow/nx_ct_codec_test.cpp.)
#include <gtest/gtest.h>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/codec.hpp"

namespace flowpath::openflow {
namespace nxm_pipeline_test {

Match roundtrip(const Match& m, TlvDialect d, std::vector<uint8_t>* bytes = nullptr) {
  std::vector<uint8_t> buf;
  Writer w(buf);
  encode_tlvs(w, m, d);
  if (bytes) *bytes = buf;
  return decode_tlvs(Reader(buf));
}

TEST(NxmPipeline, FieldsRoundTripInBothDialects) {
  const char* texts[] = {
      "reg5=0x5,reg6=0x1/0xffff,ct_state=+est-rel-rpl,ct_zone=1,ct_mark=0x1/0xff,ip",
      "xreg3=0x100000002,recirc_id=3,conj_id=7,ct_label=0x1/0x3,tcp,tp_dst=22",
      "ct_state=new|trk,ct_label=0xffffffffffffffffffffffffffffffff,ipv6",
  };
  for (const char* t : texts)
    for (TlvDialect d : {TlvDialect::kNxm, TlvDialect::kOxm}) {
      Match m = parse_match(t);
      EXPECT_TRUE(roundtrip(m, d) == m) << t;
    }
}

TEST(NxmPipeline, RegisterHeaderIsNicirasAndDecodesIntoMetadata) {
  std::vector<uint8_t> b;
  Match m = parse_match("reg5=0x5");
  Match back = roundtrip(m, TlvDialect::kOxm, &b);
  ASSERT_EQ(b.size(), 8u);
  EXPECT_EQ((std::vector<uint8_t>(b.begin(), b.begin() + 4)),
            (std::vector<uint8_t>{0x00, 0x01, 0x0a, 0x04}));
  EXPECT_EQ(back.meta_value.regs[5].host(), 5u);
  EXPECT_FALSE(back.meta_value.regs[4].host());  // control: the others stay zero
}

}  // namespace nxm_pipeline_test
}  // namespace flowpath::openflow
