// The Nicira actions of Neutron's firewall on the wire (openflow/nx_ct.hpp,
// nx_actions.hpp): ct() with zone, table, flags, nested set_field and nat,
// ct_clear, move, conjunction, register loads — encode, decode, the same
// list, in OpenFlow 1.0 and 1.3; the bytes of one ct() as OVS 3.1 sends
// them; and malformed actions refused with OVS's error (no over-read).
// The real ovs-ofctl checks the same actions in ovs_ofctl_test.cpp and
// neutron_dump_test.cpp.
#include <gtest/gtest.h>

#include <map>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/codec.hpp"
#include "support/shell.hpp"

namespace flowpath::openflow {
namespace nx_ct_codec_test {

std::vector<uint8_t> encoded(const OfctlFlow& f, uint8_t v) {
  std::vector<uint8_t> buf;
  Writer w(buf);
  encode_actions(w, f.actions, v, f.match);
  return buf;
}

std::vector<uint8_t> from_hex(std::string_view h) {
  std::vector<uint8_t> b;
  for (size_t i = 0; i + 1 < h.size();) {
    if (h[i] == ' ') {
      ++i;
      continue;
    }
    b.push_back(uint8_t(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return b;
}

OfpErrc decode_error(const std::vector<uint8_t>& b, uint8_t v = kOfp10) {
  try {
    decode_actions(Reader(b), v);
  } catch (const DecodeError& e) {
    return e.errc;
  }
  ADD_FAILURE() << "decoded without an error";
  return OfpErrc::kBadType;
}

/// The list without `is_load` (a decoded NXAST_REG_LOAD is marked as a
/// load, as OVS keeps its raw form; the flow-text parser marks only `load:`).
OfActionList without_load_mark(OfActionList l) {
  for (auto& a : l) {
    a.is_load = false;
    a.exec = without_load_mark(a.exec);
  }
  return l;
}

TEST(NxCtCodec, ActionsRoundTripInBothVersions) {
  const char* texts[] = {
      "ip actions=ct(table=72,zone=NXM_NX_REG6[0..15])",
      "ip actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))",
      "ip actions=ct(commit,force,zone=7,exec(set_field:0x1/0x3->ct_mark,"
      "set_field:0x10002000300040005->ct_label))",
      "ip actions=ct(commit,nat(src=192.0.2.1-192.0.2.9:1000-2000,persistent,random))",
      "ipv6 actions=ct(commit,exec(set_field:2->ct_mark),nat(dst=[2001:db8::1]:80,hash))",
      "ip actions=ct(nat),ct_clear,resubmit(,93)",
      // nat between exec actions keeps its place on the wire (as OVS).
      "ip actions=ct(commit,exec(set_field:1->ct_mark,nat(src=192.0.2.1),"
      "set_field:2->ct_label))",
      "ip actions=ct(commit,table=3,exec(set_field:1->ct_mark),nat,exec(set_field:2->ct_mark))",
      // several nats, each in its place (OVS accepts them; the last runs).
      "ip actions=ct(commit,nat(src=192.0.2.1),exec(set_field:1->ct_mark),"
      "nat(dst=198.51.100.2:80))",
      "ip actions=ct(nat,nat,table=4)",
      "ip actions=move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],"
      "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],move:OXM_OF_PKT_REG1[0..3]->NXM_NX_REG2[4..7]",
      "tcp actions=conjunction(17,2/2),conjunction(18,1/64)",
      "actions=set_field:17->reg7,set_field:0x1/0x3->reg6,set_field:0x5->xreg1,output:5",
      // in_port is writable, whole or in part (OVS's way back out the same port)
      "ip actions=load:0->NXM_OF_IN_PORT[],output:2",
      "ip actions=load:0x1->NXM_OF_IN_PORT[0..3],output:2",
      "ip actions=set_field:3->in_port,output:2",
  };
  for (const char* t : texts)
    for (uint8_t v : {kOfp10, kOfp13}) {
      SCOPED_TRACE(std::string(t) + (v == kOfp10 ? " (1.0)" : " (1.3)"));
      OfctlFlow f = parse_flow(t);
      auto bytes = encoded(f, v);
      EXPECT_EQ(bytes.size() % 8, 0u);
      auto back = decode_actions(Reader(bytes), v);
      EXPECT_EQ(without_load_mark(back), without_load_mark(f.actions));
      std::vector<uint8_t> again;  // and the decoded list re-encodes to the same bytes
      Writer w(again);
      encode_actions(w, back, v, f.match);
      EXPECT_EQ(again, bytes);
    }
}

// A set_field of in_port (NXM_OF_IN_PORT, in a 1.0 NXAST_REG_LOAD2 as a
// fuzzer sent it) goes out in 1.0 as a load, which must decode again: the
// load decoder once refused in_port (CI, session 20).
TEST(NxCtCodec, InPortSetFieldReencodesAsALoadThatDecodes) {
  auto set = decode_actions(
      Reader(from_hex("ffff0018 00002320 0021 00000002 0001 0000000000000000")), kOfp10);
  ASSERT_EQ(set.size(), 1u);
  std::vector<uint8_t> bytes;
  Writer w(bytes);
  encode_actions(w, set, kOfp10, parse_flow("ip actions=drop").match);
  EXPECT_EQ(bytes, from_hex("ffff0018 00002320 0007 000f 00000002 0000000000000001"));
  auto back = decode_actions(Reader(bytes), kOfp10);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].field, FieldId::kInPort);
  EXPECT_TRUE(back[0].is_load);
  // OVS takes a load or reg_load2 of the 32-bit OXM_OF_IN_PORT as its own
  // field in_port_oxm; flowpath has no such field and refuses both, as it
  // refuses the 1.3 SET_FIELD of it (which OVS refuses too, in kBad).
  EXPECT_EQ(decode_error(from_hex("ffff0018 00002320 0021 80000004 00000001 000000000000")),
            OfpErrc::kActionBadSetArgument);
  EXPECT_EQ(decode_error(from_hex("ffff0018 00002320 0007 001f 80000004 0000000000000001")),
            OfpErrc::kActionBadSetArgument);
}

TEST(NxCtCodec, CtBytesAreOvsOwn) {
  // `ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))` as
  // ovs-ofctl 3.1 sends it in OpenFlow 1.0: NXAST_CT (flags 1, zone_src
  // NXM_NX_REG6, ofs_nbits 0/16, no table) around NXAST_REG_LOAD.
  OfctlFlow f =
      parse_flow("ip actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))");
  EXPECT_EQ(encoded(f, kOfp10), from_hex("ffff0030 00002320 0023 0001 00010c04 000f ff000000 0000"
                                         "ffff0018 00002320 0007 001f 0001d604 0000000000000001"));
}

struct Bad {
  const char* what;
  const char* hex;
  OfpErrc want;
  uint8_t version = kOfp10;
  const char* ovs = nullptr;  // OVS's error where flowpath's table lacks it
};
// The ct/nat header for the nested cases: NXAST_CT, commit, zone 0, no table.
#define CT_HDR(len) "ffff00" len " 00002320 0023 0001 00000000 0000 ff000000 0000"
const Bad kBad[] = {
    {"ct force without commit", "ffff0018 00002320 0023 0002 00000000 0000 ff000000 0000",
     OfpErrc::kActionBadArgument},
    {"ct shorter than its fixed part", "ffff0010 00002320 0023 0001 00000000",
     OfpErrc::kActionBadLen},
    {"ct nesting a truncated action", CT_HDR("20") "ffff0018 00002320", OfpErrc::kActionBadLen},
    {"ct nesting an output", CT_HDR("20") "0000 0008 0001 0000", OfpErrc::kActionBadArgument},
    {"ct nesting a load of reg0",
     CT_HDR("30") "ffff0018 00002320 0007 001f 00010004 0000000000000001",
     OfpErrc::kActionBadArgument},
    // OpenFlow forbids setting OXM_OF_IN_PORT (OVS: BAD_SET_ARGUMENT)
    {"set_field of OXM_OF_IN_PORT", "0019 0010 80000004 00000003 00000000",
     OfpErrc::kActionBadSetArgument, kOfp13},
    {"ct zone from 8 bits", "ffff0018 00002320 0023 0000 00010c04 0007 ff000000 0000",
     OfpErrc::kActionBadSetLen},
    {"nat outside ct", "ffff0010 00002320 0024 0000 0000 0000", OfpErrc::kActionBadSetArgument},
    {"nat port max without min", CT_HDR("28") "ffff0010 00002320 0024 0000 0001 0020",
     OfpErrc::kActionBadArgument},
    {"nat src and dst", CT_HDR("28") "ffff0010 00002320 0024 0000 0003 0000",
     OfpErrc::kActionBadArgument},
    {"nat range past its end", CT_HDR("28") "ffff0010 00002320 0024 0000 0001 0003",
     OfpErrc::kActionBadArgument},
    {"conjunction 3 of 2", "ffff0010 00002320 0022 0302 00000011", OfpErrc::kActionBadArgument,
     kOfp10, "NXBAC_BAD_CONJUNCTION"},
    {"conjunction with an output", "ffff0010 00002320 0022 0102 00000011 0000 0008 0001 0000",
     OfpErrc::kActionBadArgument, kOfp10, "NXBAC_BAD_CONJUNCTION"},
    {"move from an unknown field", "ffff0018 00002320 0006 0010 0000 0000 00057e04 00010204",
     OfpErrc::kMatchBadField},
    {"move into eth_type", "ffff0018 00002320 0006 0010 0000 0000 00010004 00000602",
     OfpErrc::kActionBadSetArgument},
    {"move past the source", "ffff0018 00002320 0006 0010 0020 0000 00010004 00010204",
     OfpErrc::kActionBadSetLen},
    {"set_field ct_mark outside ct", "0019 0010 0001d604 00000001 00000000",
     OfpErrc::kActionBadSetArgument, kOfp13},
};
#undef CT_HDR

TEST(NxCtCodec, MalformedActionsAreRefused) {
  for (const auto& b : kBad) {
    SCOPED_TRACE(b.what);
    EXPECT_EQ(decode_error(from_hex(b.hex), b.version), b.want);
  }
  // Controls: the same ct with commit, and a nested load of ct_mark, decode.
  EXPECT_NO_THROW(decode_actions(
      Reader(from_hex("ffff0018 00002320 0023 0003 00000000 0000 ff000000 0000")), kOfp10));
  EXPECT_NO_THROW(
      decode_actions(Reader(from_hex("ffff0030 00002320 0023 0001 00000000 0000 ff000000 0000"
                                     "ffff0018 00002320 0007 001f 0001d604 0000000000000001")),
                     kOfp10));
}

/// A flow-mod (match ip) whose action list is `actions`, as hex.
std::string flow_mod_with(const std::vector<uint8_t>& actions, uint8_t v) {
  OfctlFlow f = parse_flow("ip actions=output:1");
  FlowMod fm;
  fm.match = f.match;
  fm.instructions.actions = f.actions;
  fm.match_format = v == kOfp10 ? MatchFormat::kOf10 : MatchFormat::kOxm;
  auto b = encode(Message{v, 1, fm});
  size_t out_len = v == kOfp10 ? 8 : 16;  // the output action, last
  b.resize(b.size() - out_len);
  b.insert(b.end(), actions.begin(), actions.end());
  if (v != kOfp10) {  // the apply-actions instruction's length
    size_t at = b.size() - actions.size() - 8 + 2;
    b[at] = uint8_t((8 + actions.size()) >> 8), b[at + 1] = uint8_t(8 + actions.size());
  }
  b[2] = uint8_t(b.size() >> 8), b[3] = uint8_t(b.size());
  std::string h;
  for (uint8_t x : b) h += "0123456789abcdef"[x >> 4], h += "0123456789abcdef"[x & 15];
  return h;
}

// OVS's own decoder (`ovs-ofctl ofp-print`) gives the same error for each.
TEST(NxCtCodec, OvsRefusesTheSameWayWithTheSameError) {
  if (system("ovs-ofctl --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no ovs-ofctl";
  const std::map<OfpErrc, std::string> names = {
      {OfpErrc::kActionBadArgument, "OFPBAC_BAD_ARGUMENT"},
      {OfpErrc::kActionBadLen, "OFPBAC_BAD_LEN"},
      {OfpErrc::kActionBadSetLen, "OFPBAC_BAD_SET_LEN"},
      {OfpErrc::kActionBadSetArgument, "OFPBAC_BAD_SET_ARGUMENT"},
      {OfpErrc::kMatchBadField, "OFPBMC_BAD_FIELD"},
  };
  for (const auto& b : kBad) {
    SCOPED_TRACE(b.what);
    std::string out = flowpath::test::shell_output("ovs-ofctl ofp-print " +
                                                   flow_mod_with(from_hex(b.hex), b.version));
    std::string want = b.ovs ? b.ovs : names.at(b.want);
    EXPECT_NE(out.find("decode error: " + want), std::string::npos) << out;
  }
  // Control: a well-formed ct prints as ct().
  std::string ok = flowpath::test::shell_output(
      "ovs-ofctl ofp-print " +
      flow_mod_with(from_hex("ffff0018 00002320 0023 0001 00000000 0005 ff000000 0000"), kOfp10));
  EXPECT_NE(ok.find("actions=ct(commit,zone=5)"), std::string::npos) << ok;
}

}  // namespace nx_ct_codec_test
}  // namespace flowpath::openflow
