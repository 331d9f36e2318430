// The pipeline and connection-tracking fields of the registry: where they
// live (FlowKey word 15 and word 0's upper half, PipelineMeta), xregN as
// reg2N (upper half) and reg2N+1 (as ovs-ofctl prints xreg0=0x100000000:
// reg0=0x1,reg1=0), subfield reads and writes, set_field on registers.
#include <gtest/gtest.h>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/flow/subfield.hpp"

namespace flowpath {
namespace pipeline_fields_test {

TEST(PipelineFields, CtFieldsLiveInTheKeyRegistersOutside) {
  Match m = parse_match("recirc_id=7,ct_state=+est+trk,ct_zone=3,ct_mark=0x5,reg5=0x9");
  EXPECT_EQ(m.value.recirc_id, 7u);
  EXPECT_EQ(m.value.ct_state, kCsEstablished | kCsTracked);
  EXPECT_EQ(m.value.ct_zone.host(), 3);
  EXPECT_EQ(m.value.ct_mark.host(), 5u);
  EXPECT_EQ(m.meta_value.regs[5].host(), 9u);
  EXPECT_TRUE(m.has_meta());
  EXPECT_FALSE(parse_match("ct_state=+trk,ct_mark=1").has_meta());  // control
}

TEST(PipelineFields, XregIsTwoRegistersUpperHalfFirst) {
  Match m = parse_match("xreg0=0x100000002");
  EXPECT_EQ(m.meta_value.regs[0].host(), 1u);
  EXPECT_EQ(m.meta_value.regs[1].host(), 2u);
  EXPECT_EQ(format_match(m), "reg0=0x1,reg1=0x2");
  EXPECT_EQ(format_match(parse_match("xreg3=0x1/0xffffffff")), "reg7=0x1");
}

TEST(PipelineFields, SubfieldsReadAndWriteTheirBitsOnly) {
  FlowKey k;
  PipelineMeta meta;
  Subfield sf = parse_subfield("NXM_NX_REG6[8..15]");
  EXPECT_EQ(sf.field, reg_field(6));
  EXPECT_EQ(sf.ofs, 8u);
  EXPECT_EQ(sf.n_bits, 8u);
  meta.regs[6] = Be32(0x11223344);
  write_subfield(k, meta, sf, 0xab);
  EXPECT_EQ(meta.regs[6].host(), 0x1122ab44u);
  EXPECT_EQ(uint64_t(read_subfield(k, meta, sf)), 0xabu);
  // A key field by its short name; in_port is 16 bits wide as in OVS.
  k.in_port = 0x1234;
  Subfield port = parse_subfield("in_port");
  EXPECT_EQ(port.n_bits, 16u);
  EXPECT_EQ(uint64_t(read_subfield(k, meta, port)), 0x1234u);
  EXPECT_EQ(format_subfield(sf), "NXM_NX_REG6[8..15]");
  EXPECT_EQ(format_subfield(parse_subfield("reg6[]")), "NXM_NX_REG6[]");
  EXPECT_EQ(format_subfield(parse_subfield("xreg1[3]")), "OXM_OF_PKT_REG1[3]");
  EXPECT_THROW(parse_subfield("reg1[0..32]"), Error);
  EXPECT_THROW(parse_subfield("NXM_NX_REG16[]"), Error);
}

TEST(PipelineFields, LoadAndSetFieldWriteRegisters) {
  OfctlFlow f = parse_flow("ip actions=load:0x3->NXM_NX_REG6[16..31],set_field:0x5/0xff->reg7");
  FlowKey k;
  PipelineMeta meta;
  for (const auto& a : f.actions) apply_set_field(a, k, meta);
  EXPECT_EQ(meta.regs[6].host(), 0x30000u);
  EXPECT_EQ(meta.regs[7].host(), 0x5u);
  FlowKey zero;
  EXPECT_TRUE(k == zero);  // the key is untouched
  EXPECT_EQ(format_actions(f.actions), "load:0x3->NXM_NX_REG6[16..31],set_field:0x5/0xff->reg7");
}

// move:'s errors name the whole argument, then the subfield's reason.  A
// NUL byte in the text cuts Error::what() short (the fuzzer found it): the
// error must still be an Error naming the input, never an out_of_range.
TEST(PipelineFields, MoveErrorsNameTheArgumentEvenWithANulByte) {
  try {
    parse_flow("ip actions=move:NXM_NX_REG0[0..3]->nosuch[]");
    FAIL() << "accepted an unknown field";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "NXM_NX_REG0[0..3]->nosuch[]: unknown field `nosuch'");
  }
  std::string text = "actions=move:X";
  text += '\0';
  text += "Y->reg0";
  EXPECT_THROW(parse_flow(text), Error);
  try {
    parse_flow(text);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("X", 0), 0u) << e.what();
  }
}

TEST(PipelineFields, CtStateFormsAsOvsPrintsThem) {
  EXPECT_EQ(format_match(parse_match("ct_state=+trk+new-inv")), "ct_state=+new-inv+trk");
  EXPECT_EQ(format_match(parse_match("ct_state=0x21")), "ct_state=new|trk");
  EXPECT_EQ(format_match(parse_match("ct_state=0")), "ct_state=0");
  EXPECT_EQ(format_match(parse_match("ct_state=0/0")), "");
  EXPECT_THROW(parse_match("ct_state=+foo"), Error);
  EXPECT_THROW(parse_match("ct_state=0x100"), Error);
}

// tcp_flags and ct_state share one flag-list grammar (flow/ofctl_flags.hpp);
// as ovs-ofctl, a signed list names each flag once and a `|` list may repeat.
TEST(PipelineFields, FlagListsRejectAFlagNamedTwiceWithASign) {
  auto error_of = [](const char* text) -> std::string {
    try {
      parse_match(text);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(
      error_of("tcp,tcp_flags=+syn-syn").find("syn: Each TCP flag can be specified only once"),
      std::string::npos);
  EXPECT_NE(
      error_of("ip,ct_state=+trk+trk").find("trk: Each ct_state flag can be specified only once"),
      std::string::npos);
  EXPECT_EQ(format_match(parse_match("tcp,tcp_flags=syn|syn")), "tcp,tcp_flags=syn");
  EXPECT_EQ(format_match(parse_match("ip,ct_state=trk|trk")), "ct_state=trk,ip");
  EXPECT_EQ(format_match(parse_match("tcp,tcp_flags=+syn-ack")), "tcp,tcp_flags=+syn-ack");
}

}  // namespace pipeline_fields_test
}  // namespace flowpath
