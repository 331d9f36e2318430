// The OpenFlow codec without peers: framing of split/concatenated input,
// version negotiation, round trips of generated flow-mods (fixed seed) in
// every format, the other messages, and the OFPT_ERROR built for bad input.
#include <gtest/gtest.h>

#include <random>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/framing.hpp"

namespace of = flowpath::openflow;
using flowpath::OfAction;
using flowpath::OfActionList;
using flowpath::OfActionType;

namespace codec_test {

using Code = std::pair<int, int>;
Code code_of(const of::ErrorMsg& e) { return {e.type, e.code}; }

of::Message flow_mod_msg(uint8_t v, const std::string& text, of::MatchFormat fmt) {
  auto f = flowpath::parse_flow(text);
  of::FlowMod fm;
  fm.match = f.match;
  fm.priority = f.priority;
  fm.cookie = f.cookie;
  fm.table_id = f.table;
  fm.idle_timeout = f.idle_timeout;
  fm.hard_timeout = f.hard_timeout;
  fm.instructions.actions = f.actions;
  fm.match_format = fmt;
  return of::Message{v, 7, fm};
}

of::FlowMod decode_flow_mod(const std::vector<uint8_t>& bytes) {
  auto r = of::decode_or_error(bytes);
  EXPECT_FALSE(r.error) << r.what;
  return std::get<of::FlowMod>(r.message.body);
}

// What OpenFlow 1.3 makes of a 1.0-style action list: push_vlan before
// mod_vlan_vid/pcp when the packet has no tag there (as OVS encodes it).
OfActionList of13_view(const flowpath::Match& m, OfActionList in) {
  bool tag = (flowpath::get_field(m.value, flowpath::FieldId::kVlanTci) & flowpath::kVlanCfi) != 0;
  OfActionList out;
  for (const auto& a : in) {
    if ((a.type == OfActionType::kSetVlanVid || a.type == OfActionType::kSetVlanPcp) && !tag)
      out.push_back(OfAction::with_u16(OfActionType::kPushVlan, 0x8100)), tag = true;
    if (a.type == OfActionType::kStripVlan) tag = false;
    out.push_back(a);
  }
  return out;
}

const std::vector<std::string> kMatches = {
    "",
    "in_port=1",
    "in_port=LOCAL,dl_vlan=1000",
    "dl_vlan=0xffff",
    "dl_vlan_pcp=3",
    "vlan_tci=0x1000/0x1000",
    "dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff",
    "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
    "ip,nw_src=192.0.2.0/24,nw_dst=198.51.100.7",
    "ip,nw_tos=16",
    "ip,nw_ttl=5",
    "ip,nw_src=192.0.2.0/255.255.0.255",
    "tcp,tp_dst=80",
    "tcp,tp_src=0x1000/0xf000",
    "udp,nw_dst=203.0.113.9,tp_src=53",
    "sctp,tp_dst=9",
    "icmp,icmp_type=8,icmp_code=0",
    "arp,arp_op=1,arp_spa=192.0.2.1,arp_tha=00:00:00:00:00:09",
    "ipv6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::/32",
    "icmp6,icmp_type=135,nd_target=2001:db8::2,nd_sll=00:00:00:00:00:07",
};
const std::vector<std::string> kActions = {
    "drop",
    "NORMAL",
    "output:2,FLOOD",
    "ALL,IN_PORT,LOCAL",
    "CONTROLLER:128",
    "mod_vlan_vid:1,NORMAL",
    "mod_vlan_pcp:5,output:1",
    "strip_vlan,output:3",
    "mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,output:1",
    "resubmit:6,resubmit(,2),resubmit(1,3)",
    "set_field:9->nw_ttl,set_field:2->ip_ecn,output:1",  // ip only
    "set_field:2001:db8::9->ipv6_src",                   // ipv6 only
    "set_field:5->tcp_dst,mod_tp_src:7",                 // tcp only
    "set_field:00:00:00:00:00:01/ff:ff:ff:00:00:00->eth_src,LOCAL",
};

TEST(OpenflowFraming, SplitAndConcatenatedInput) {
  std::vector<uint8_t> stream;
  std::vector<std::vector<uint8_t>> sent;
  for (uint32_t i = 0; i < 5; ++i) {
    auto b =
        of::encode(of::Message{of::kOfp13, i, of::EchoRequest{std::vector<uint8_t>(i * 7, 0xab)}});
    sent.push_back(b);
    stream.insert(stream.end(), b.begin(), b.end());
  }
  for (size_t chunk : {size_t(1), size_t(3), size_t(9), stream.size()}) {
    of::Framer f;
    std::vector<std::vector<uint8_t>> got;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      f.feed(std::span(stream).subspan(i, std::min(chunk, stream.size() - i)));
      while (auto fr = f.next()) {
        ASSERT_FALSE(fr->error);
        got.push_back(fr->bytes);
      }
    }
    EXPECT_EQ(got, sent) << "chunk " << chunk;
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(OpenflowFraming, BadLengthBreaksTheStreamWithBadLen) {
  of::Framer f(1024);
  std::vector<uint8_t> big = {4, 2, 0x10, 0x00, 0, 0, 0, 9};  // 4096 > cap
  f.feed(big);
  auto fr = f.next();
  ASSERT_TRUE(fr && fr->error);
  auto err = std::get<of::ErrorMsg>(of::decode(*fr->error).body);
  EXPECT_EQ(err.type, 1);
  EXPECT_EQ(err.code, 6);  // OFPBRC_BAD_LEN
  EXPECT_TRUE(f.broken());
  EXPECT_FALSE(f.next());
}

TEST(OpenflowNegotiation, VersionBitmapAsOvs) {
  auto bm = [](std::initializer_list<int> v) {
    uint32_t b = 0;
    for (int x : v) b |= 1u << x;
    return b;
  };
  EXPECT_EQ(of::negotiate_version(6, bm({1, 6})).version, of::kOfp10);     // {1.0, 1.5}
  EXPECT_EQ(of::negotiate_version(4, bm({1, 4})).version, of::kOfp13);     // {1.0, 1.3}
  EXPECT_EQ(of::negotiate_version(6, bm({1, 4, 5})).version, of::kOfp14);  // {1.0, 1.3, 1.4}
  EXPECT_EQ(of::negotiate_version(6, 0).version, of::kOfp14);              // no bitmap: <= 1.5
  EXPECT_EQ(of::negotiate_version(4, 0).version, of::kOfp13);              // no bitmap: <= 1.3
  EXPECT_EQ(of::negotiate_version(1, 0).version, of::kOfp10);
  auto none = of::negotiate_version(6, bm({6}));
  EXPECT_EQ(none.version, 0);
  ASSERT_TRUE(none.error);
  auto e = std::get<of::ErrorMsg>(of::decode(*none.error).body);
  EXPECT_EQ(e.type, 0);  // OFPET_HELLO_FAILED
  EXPECT_EQ(e.code, 0);  // OFPHFC_INCOMPATIBLE
  auto hello = of::decode(of::make_hello());
  EXPECT_EQ(hello.version, of::kOfp14);
  EXPECT_EQ(std::get<of::Hello>(hello.body).version_bitmap, bm({1, 4, 5}));
}

/// OXM's form of a match: "no tag" (vlan_tci=0x0000/0xffff, dl_vlan=0xffff)
/// travels as VLAN_VID=NONE and comes back as 0x0000/0x1fff, as in OVS.
flowpath::Match oxm_view(flowpath::Match m) {
  using flowpath::FieldId;
  if (flowpath::get_field(m.mask, FieldId::kVlanTci) == 0xffff &&
      flowpath::get_field(m.value, FieldId::kVlanTci) == 0)
    flowpath::put_field(m.mask, FieldId::kVlanTci, 0x1fff);
  return m;
}

TEST(OpenflowCodec, FlowModRoundTripsInEveryFormat) {
  std::mt19937 rng(20261204);
  int n = 0;
  for (int i = 0; i < 400; ++i) {
    std::string text = kMatches[rng() % kMatches.size()];
    std::string acts = kActions[rng() % kActions.size()];
    std::string head =
        "priority=" + std::to_string(rng() % 65536) + ",cookie=" + std::to_string(rng());
    std::string flow = head + (text.empty() ? "" : "," + text) + " actions=" + acts;
    flowpath::OfctlFlow f;
    try {
      f = flowpath::parse_flow(flow);
    } catch (const flowpath::Error&) {
      continue;  // an action whose prerequisite this match lacks
    }
    for (auto [v, fmt] : {std::pair{of::kOfp10, of::MatchFormat::kOf10},
                          {of::kOfp10, of::MatchFormat::kNxm},
                          {of::kOfp13, of::MatchFormat::kOxm}}) {
      if (fmt == of::MatchFormat::kOf10 && !of::of10_expressible(f.match)) continue;
      auto msg = flow_mod_msg(v, flow, fmt);
      auto fm = decode_flow_mod(of::encode(msg));
      SCOPED_TRACE(flow + " v" + std::to_string(v));
      EXPECT_EQ(fm.match, v == of::kOfp13 ? oxm_view(f.match) : f.match);
      EXPECT_EQ(fm.priority, f.priority);
      EXPECT_EQ(fm.cookie, f.cookie);
      EXPECT_EQ(fm.match_format, fmt);
      // A 1.0 set_field travels as NXAST_REG_LOAD and comes back marked as
      // a load (OVS keeps that raw form); the rest is the same.
      auto want = v == of::kOfp13 ? of13_view(f.match, f.actions) : f.actions;
      for (auto* l : {&fm.instructions.actions, &want})
        for (auto& a : *l) a.is_load = false;
      EXPECT_EQ(fm.instructions.actions, want);
      ++n;
    }
  }
  EXPECT_GT(n, 700);
}

TEST(OpenflowCodec, FlowModFieldsAndInstructions) {
  of::FlowMod fm;
  fm.command = of::FlowModCommand::kDeleteStrict;
  fm.match = flowpath::parse_match("tcp,tp_dst=22");
  fm.priority = 7;
  fm.cookie = 0x1200;  // already masked: NXM carries value & mask
  fm.cookie_mask = 0xff00;
  fm.table_id = 255;
  fm.idle_timeout = 10;
  fm.hard_timeout = 20;
  fm.flags = of::kFlowModSendFlowRem | of::kFlowModCheckOverlap;
  fm.out_port = 3;
  fm.instructions.actions = {OfAction::output(1), OfAction::goto_table(4)};
  fm.instructions.write_actions = {OfAction::output(2)};
  fm.instructions.clear_actions = true;
  fm.match_format = of::MatchFormat::kOxm;
  auto back = decode_flow_mod(of::encode(of::Message{of::kOfp13, 1, fm}));
  EXPECT_EQ(back, fm);
  fm.match_format = of::MatchFormat::kNxm;  // NXM carries the cookie mask as NXM_NX_COOKIE
  fm.instructions = {{OfAction::output(1)}, {}, false};
  fm.table_id = 0;
  EXPECT_EQ(decode_flow_mod(of::encode(of::Message{of::kOfp10, 1, fm})), fm);
}

TEST(OpenflowCodec, OtherMessagesRoundTrip) {
  of::PortDesc p{
      1, flowpath::EthAddr{{2, 0, 0, 0, 0, 1}}, "veth-a", 0, 4, 0x820, 0, 0, 0, 10000000, 10000000};
  of::PortDesc p10 = p;
  p10.curr_speed = p10.max_speed = 0;
  p10.state = of::kPortStateLinkDown | 0x200;  // 1.0 has no LIVE (4), but the STP field
  of::StatsReply flows;
  flows.type = of::StatsType::kFlow;
  of::FlowStats fs;
  fs.match = flowpath::parse_match("udp,tp_dst=53");
  fs.instructions.actions = {OfAction::output(2)};
  fs.packet_count = 5;
  flows.flows = {fs, fs};
  of::StatsReply agg;
  agg.type = of::StatsType::kAggregate;
  agg.aggregate = {1, 2, 3};
  std::vector<of::Message> msgs;
  for (uint8_t v : {of::kOfp10, of::kOfp13}) {
    of::FeaturesReply fr{0xabcdef, 256, 254, 0, 0xc7, v == of::kOfp10 ? 0xfffu : 0, {}};
    if (v == of::kOfp10) fr.ports = {p10};
    of::PacketIn pin;
    pin.total_len = 60;
    pin.in_port = 3;
    pin.table_id = v == of::kOfp13 ? uint8_t(2) : uint8_t(0);
    pin.data = {1, 2, 3};
    of::PacketOut pout{
        of::kNoBuffer, flowpath::kOfppController, {OfAction::output(flowpath::kOfppFlood)}, {9, 9}};
    of::FlowRemoved rem;
    rem.match = flowpath::parse_match("ip,nw_dst=192.0.2.1");
    rem.reason = 2;
    rem.packet_count = 9;
    of::StatsReply pd;
    pd.type = of::StatsType::kPortDesc;
    pd.port_descs = {v == of::kOfp10 ? p10 : p};
    of::StatsRequest port_req;
    port_req.type = of::StatsType::kPort;
    port_req.port_no = 2;
    for (of::MessageBody b : std::initializer_list<of::MessageBody>{
             of::Hello{0x12}, of::EchoRequest{{1}}, of::EchoReply{{}}, of::FeaturesRequest{}, fr,
             of::GetConfigRequest{}, of::SwitchConfig{true, 0, 128},
             of::SwitchConfig{false, 1, 0xffff}, of::BarrierRequest{}, of::BarrierReply{}, pin,
             pout, of::PortStatus{2, v == of::kOfp10 ? p10 : p}, rem, port_req, pd, agg, flows})
      msgs.push_back(of::Message{v, 42, b});
  }
  for (of::MessageBody b : std::initializer_list<of::MessageBody>{
           of::SetFlowFormat{2}, of::SetPacketInFormat{1}, of::FlowModTableId{true}})
    msgs.push_back(of::Message{of::kOfp10, 5, b});
  for (const auto& m : msgs) {
    auto bytes = of::encode(m);
    auto r = of::decode_or_error(bytes);
    ASSERT_FALSE(r.error) << r.what << " index " << m.body.index() << " v" << int(m.version);
    auto want = m;
    if (auto* rep = std::get_if<of::StatsReply>(&want.body); rep && m.version == of::kOfp13)
      rep->match_format = of::MatchFormat::kOxm;
    EXPECT_EQ(r.message, want) << "body index " << m.body.index() << " v" << int(m.version);
  }
}

TEST(OpenflowCodec, PortStateLiveIsDroppedInOpenFlow10) {  // as OVS's ofputil_put_phy_port
  of::PortDesc p{1, flowpath::EthAddr{{2, 0, 0, 0, 0, 1}}, "p1", of::kPortConfigDown,
                 of::kPortStateLive};
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14}) {
    auto r = of::decode_or_error(of::encode(of::Message{v, 1, of::PortStatus{2, p}}));
    ASSERT_FALSE(r.error) << r.what;
    const auto& got = std::get<of::PortStatus>(r.message.body).port;
    EXPECT_EQ(got.state, v == of::kOfp10 ? 0u : of::kPortStateLive) << int(v);
    EXPECT_EQ(got.config, of::kPortConfigDown) << int(v);
  }
}

TEST(OpenflowCodec, ErrorsAsOvsWouldSendThem) {
  auto err_of = [](std::vector<uint8_t> bytes) {
    bytes[2] = uint8_t(bytes.size() >> 8), bytes[3] = uint8_t(bytes.size());
    auto r = of::decode_or_error(bytes);
    EXPECT_TRUE(r.error);
    if (!r.error) return of::ErrorMsg{};
    auto m = of::decode(*r.error);
    EXPECT_EQ(m.xid, 0x01020304u);
    auto e = std::get<of::ErrorMsg>(m.body);
    EXPECT_EQ(
        std::vector<uint8_t>(bytes.begin(), bytes.begin() + std::min<size_t>(64, bytes.size())),
        e.data);
    return e;
  };
  auto fm13 =
      of::encode(flow_mod_msg(of::kOfp13, "tcp,tp_dst=80 actions=output:1", of::MatchFormat::kOxm));
  fm13[4] = 1, fm13[5] = 2, fm13[6] = 3, fm13[7] = 4;
  // Unknown message type → BAD_REQUEST/BAD_TYPE.
  auto bad_type = fm13;
  bad_type[1] = 77;
  auto e = err_of(bad_type);
  EXPECT_EQ(code_of(e), (Code{1, 1}));
  // Unknown OXM field (class 0x8000, field 40 = MPLS?) → BAD_MATCH/BAD_FIELD.
  auto bad_field = fm13;
  bad_field[48 + 4 + 2] = 40 << 1;  // the first OXM TLV's field byte
  e = err_of(bad_field);
  EXPECT_EQ(code_of(e), (Code{4, 6}));
  // Unknown action type inside apply-actions → BAD_ACTION/BAD_TYPE.
  auto bad_action = fm13;
  size_t act = bad_action.size() - 16;  // the output action
  bad_action[act] = 0, bad_action[act + 1] = 99;
  e = err_of(bad_action);
  EXPECT_EQ(code_of(e), (Code{2, 0}));
  // Unknown instruction → BAD_INSTRUCTION/UNKNOWN_INST.
  auto bad_inst = fm13;
  size_t inst = bad_inst.size() - 24;
  bad_inst[inst + 1] = 9;
  e = err_of(bad_inst);
  EXPECT_EQ(code_of(e), (Code{3, 0}));
  // Bad flow-mod command.
  auto bad_cmd = fm13;
  bad_cmd[25] = 9;
  e = err_of(bad_cmd);
  EXPECT_EQ(code_of(e), (Code{5, 6}));
  // Truncated message body → BAD_REQUEST/BAD_LEN.
  e = err_of(std::vector<uint8_t>(fm13.begin(), fm13.begin() + 30));
  EXPECT_EQ(code_of(e), (Code{1, 6}));
  // OpenFlow 1.0: unknown NXM field is a Nicira vendor error, OFPBMC_BAD_FIELD.
  auto nx = of::encode(flow_mod_msg(of::kOfp10, "ipv6,ipv6_src=2001:db8::1 actions=output:1",
                                    of::MatchFormat::kNxm));
  nx[4] = 1, nx[5] = 2, nx[6] = 3, nx[7] = 4;
  nx[48 + 2] = 0x7f << 1;
  e = err_of(nx);
  EXPECT_TRUE(e.nx);
  EXPECT_EQ(code_of(e), (Code{0, 263}));
  // Over the configured cap → BAD_LEN.
  auto r = of::decode_or_error(fm13, of::DecodeOptions{64});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(std::get<of::ErrorMsg>(of::decode(*r.error).body).code, 6);
}

}  // namespace codec_test
