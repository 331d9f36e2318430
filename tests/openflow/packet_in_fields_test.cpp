// What an OpenFlow 1.3 packet-in carries besides the frame, against the
// real Open vSwitch: the same flows (registers loaded, ct() with
// recirculation, ct_mark/ct_label written by exec(), a table-miss flow,
// CONTROLLER:max_len) and the same frames run once on a private
// ovs-vswitchd (netdev datapath, dummy ports, tests/differential/
// normal_ovs.hpp) and once on flowpath (memory ports, OpenFlowService on a
// thread), each watched by `ovs-ofctl -O OpenFlow13 -P standard monitor`;
// the printouts (table_id, cookie, total_len, the match with the pipeline
// fields, the reason, data_len and the decoded frame) must be the same;
// then again with the Nicira formats (NXT_PACKET_IN2, ovs-ofctl's default,
// over OpenFlow 1.0 and 1.3, and NXT_PACKET_IN).
// Skips when Open vSwitch is not installed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <sstream>
#include <thread>

#include "differential/normal_ovs.hpp"
#include "flowpath/switch/openflow_service.hpp"
#include "support/ofctl_monitor.hpp"
#include "support/ofctl_sides.hpp"
#include "support/openflow_switch.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

using namespace flowpath::test;
namespace dt = flowpath::difftest;

namespace packet_in_fields_test {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::vector<uint8_t> udp_frame(bool reply = false) {
  if (reply)
    return (Eth{mac("02:00:00:00:00:aa"), mac("02:00:00:00:00:bb")} /
            IPv4{.src = "192.0.2.2", .dst = "192.0.2.1"} / UDP{.sport = 2, .dport = 1} /
            Payload{.n = 58})
        .bytes();
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1, .dport = 2} /
          Payload{.n = 58})
      .bytes();
}
std::vector<uint8_t> tcp_frame() {
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv4{.src = "198.51.100.1", .dst = "198.51.100.2"} /
          TCP{.sport = 4000, .dport = 22, .flags = 0x02} / Payload{.n = 6})
      .bytes();
}
std::vector<uint8_t> icmp_frame(bool reply) {
  if (reply)
    return (Eth{mac("02:00:00:00:00:aa"), mac("02:00:00:00:00:bb")} /
            IPv4{.src = "203.0.113.2", .dst = "203.0.113.1"} / ICMP{.type = 0, .id = 7, .seq = 1} /
            Payload{.n = 8})
        .bytes();
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv4{.src = "203.0.113.1", .dst = "203.0.113.2"} / ICMP{.type = 8, .id = 7, .seq = 1} /
          Payload{.n = 8})
      .bytes();
}
std::vector<uint8_t> udp6_frame() {
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} / UDP{.sport = 5353, .dport = 53} /
          Payload{.n = 10})
      .bytes();
}
std::vector<uint8_t> arp_frame() {
  return (Eth{mac("ff:ff:ff:ff:ff:ff"), mac("02:00:00:00:00:bb"), 0x0806} /
          ARP{.sha = mac("02:00:00:00:00:bb"), .spa = "203.0.113.1", .tpa = "203.0.113.2"})
      .bytes();
}

const char* kConfig =
    "add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\nset-fail-mode br0 secure\n";

// Registers and metadata on every path; ct() with recirculation; a
// commit whose exec() writes ct_mark and ct_label; the reply direction;
// max_len; a table-miss flow (reason no_match in 1.3).
const char* kFlows[] = {
    "table=0,priority=10,udp,actions=load:0x2a->NXM_NX_REG6[],ct(table=1,zone=5)",
    "table=1,priority=10,ct_state=+trk+new,udp,cookie=0x11,"
    "actions=ct(commit,zone=5,exec(set_field:0x7->ct_mark)),load:0x1->NXM_NX_REG0[],controller",
    "table=1,priority=10,ct_state=+trk+est,udp,cookie=0x12,"
    "actions=load:0xffffffff->NXM_NX_REG15[],controller:40",
    "table=0,priority=10,tcp,actions=load:0x3->NXM_NX_REG3[0..7],ct(table=2,zone=9)",
    "table=2,priority=10,ct_state=+trk,tcp,cookie=0x21,"
    "actions=ct(commit,zone=9,table=3,exec(set_field:0x5->ct_mark,set_field:0xabc->ct_label))",
    "table=3,priority=10,tcp,ct_state=+trk,cookie=0x31,actions=controller",
    // ICMP: the tuple's ports are the request's type and code, also for the reply.
    "table=0,priority=10,icmp,actions=ct(commit,table=4,zone=3)",
    "table=4,priority=10,ct_state=+trk,icmp,cookie=0x41,actions=controller",
    // IPv6, not committed: +new, the ct_ipv6_* tuple all the same.
    "table=0,priority=10,udp6,actions=load:0x1234->NXM_NX_REG9[0..15],ct(table=5,zone=6)",
    "table=5,priority=10,ct_state=+trk,udp6,cookie=0x51,actions=controller",
    "table=0,priority=0,cookie=0x5,actions=load:0x9->NXM_NX_REG1[],controller",
};

using Side = OfctlSide;
/// Four batches per frame: the pipelines recirculate.
struct FlowpathSide : FlowpathOfctlSide {
  FlowpathSide() : FlowpathOfctlSide(kConfig, "fp-ofpktin", 4) {}
};
struct OvsSide : OvsOfctlSide {
  OvsSide() : OvsOfctlSide(kConfig) {}
};

/// `ovs-ofctl OPTS monitor TARGET 65535` while `script` runs; its printout.
template <class F>
std::string monitored(Side& s, const std::string& opts, int seconds, F script) {
  return flowpath::test::ofctl_monitored(s.target(), opts, 65535, seconds, script);
}

/// The printout without what legitimately differs: xids and ovs-ofctl's
/// own exit line.  Order is kept: the frames go in one at a time.
std::string normalized(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string l; std::getline(in, l);) {
    if (l == "END" || l.find("|fatal_signal|") != std::string::npos) continue;
    out += std::regex_replace(l, std::regex("xid=0x[0-9a-f]+"), "xid=*") + "\n";
  }
  return out;
}

std::string script(Side& s, const std::string& monitor_opts) {
  const std::string t = s.target();
  for (const char* f : kFlows)
    flowpath::test::shell_output("ovs-ofctl -O OpenFlow13 add-flow " + t + " '" + f + "'");
  s.settle();
  return monitored(s, monitor_opts, 5, [&] {
    auto send = [&](const std::string& port, const std::vector<uint8_t>& frame) {
      s.inject(port, frame);
      sleep_ms(150);  // one packet-in at a time: the printout keeps its order
    };
    send("p1", udp_frame());        // +new: regs, ct_zone; ct_mark not yet (commit forks)
    send("p2", udp_frame(true));    // +est+rpl, ct_mark=7, max_len 40
    send("p1", udp_frame());        // +est, original direction
    send("p1", tcp_frame());        // ct_label and ct_mark after a committing ct()
    send("p1", icmp_frame(false));  // +new, ct_tp_src=8
    send("p2", icmp_frame(true));   // +est+rpl: still the request's type
    send("p1", udp6_frame());       // ct_ipv6_src/dst, uncommitted
    send("p1", arp_frame());        // table-miss flow: no_match, reg1
  });
}

bool have_ovs(std::string& why) {
  why = dt::OvsInstance::unavailable();
  return why.empty();
}

/// The script on both switches under `ovs-ofctl OPTS monitor`: the same printout.
void expect_as_ovs(const std::string& opts, const std::string& header) {
  std::string ovs, fp;
  {
    OvsSide o;
    ovs = script(o, opts);
  }
  {
    FlowpathSide f;
    fp = script(f, opts);
  }
  // The oracle's printout has what this test is about.
  EXPECT_NE(ovs.find(header), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("reg6=0x2a"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("ct_zone=5"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("ct_nw_src=192.0.2.1"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("ct_ipv6_src=2001:db8::1"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("ct_state=est|rpl|trk,ct_zone=3"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("ct_label=0xabc"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("reg1=0x9"), std::string::npos) << ovs;  // the table-miss flow
  EXPECT_EQ(normalized(fp), normalized(ovs)) << "flowpath:\n" << fp << "\nOVS:\n" << ovs;
}

TEST(OpenflowPacketIn, OpenFlow13StandardCarriesThePipelineFieldsAsOvs) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  expect_as_ovs("-O OpenFlow13 -P standard", "OFPT_PACKET_IN (OF1.3)");
}

// ovs-ofctl's default: NXT_PACKET_IN2 over OpenFlow 1.0 (NXM metadata).
TEST(OpenflowPacketIn, NxtPacketIn2CarriesThePipelineFieldsAsOvs) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  expect_as_ovs("", "NXT_PACKET_IN2");
}

// NXT_PACKET_IN2 over OpenFlow 1.3 (OXM metadata: in_port 32 bits).
TEST(OpenflowPacketIn, NxtPacketIn2OverOpenFlow13AsOvs) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  expect_as_ovs("-O OpenFlow13", "NXT_PACKET_IN2");
}

TEST(OpenflowPacketIn, NxtPacketInCarriesThePipelineFieldsAsOvs) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  expect_as_ovs("-P nxt_packet_in", "NXT_PACKET_IN ");
}

// Offline: the pipeline fields survive our own encode/decode of a 1.3
// packet-in, and a 1.0 packet-in has no room for them.
TEST(OpenflowPacketIn, PipelineMatchRoundTripsInOpenFlow13) {
  namespace of = flowpath::openflow;
  flowpath::ControllerOutput out;
  out.ct_state = flowpath::kCsTracked | flowpath::kCsNew;
  out.ct_zone = 5;
  out.meta.regs[6] = flowpath::Be32{0x2a};
  out.meta.conj_id = flowpath::Be32{3};  // a lookup's: never sent
  of::PacketIn pin;
  pin.in_port = 1;
  pin.table_id = 1;
  pin.total_len = 3;
  pin.data = {1, 2, 3};
  pin.match = flowpath::packet_in_match(out);
  EXPECT_EQ(flowpath::get_field(pin.match.meta_value, flowpath::FieldId::kConjId), 0u);
  auto r = of::decode_or_error(of::encode(of::Message{of::kOfp13, 9, pin}));
  ASSERT_FALSE(r.error) << r.what;
  EXPECT_EQ(r.message, (of::Message{of::kOfp13, 9, pin}));
  auto r10 = of::decode_or_error(of::encode(of::Message{of::kOfp10, 9, pin}));
  ASSERT_FALSE(r10.error) << r10.what;
  EXPECT_EQ(std::get<of::PacketIn>(r10.message.body).match, flowpath::Match{});
}

// The original tuple as the key tells it: swapped in the reply direction,
// the request's ICMP type, nothing for invalid, related or NATed packets.
TEST(OpenflowPacketIn, CtOrigTupleFromTheKey) {
  using namespace flowpath;
  FlowKey k{};
  k.dl_type = Be16{0x0800};
  k.nw_proto = 1;
  k.nw_src = Be32{0xcb007102}, k.nw_dst = Be32{0xcb007101};
  k.tp_src = Be16{0};  // echo reply
  k.ct_state = kCsTracked | kCsEstablished | kCsReplyDir;
  CtTuple t = ct_orig_tuple(k);
  EXPECT_EQ(t.proto, 1);
  EXPECT_EQ(t.tp_src, 8);
  EXPECT_EQ(t.src[3], 1);
  EXPECT_EQ(t.dst[3], 2);
  for (uint8_t bad : {kCsInvalid, kCsRelated, kCsDstNat}) {
    k.ct_state = kCsTracked | kCsEstablished | bad;
    EXPECT_EQ(ct_orig_tuple(k).proto, 0) << int(bad);
  }
  k.ct_state = 0;
  EXPECT_EQ(ct_orig_tuple(k).proto, 0);
}

// NXT_PACKET_IN2 of a frame too big for one property: its first 0xff00
// bytes and NXPINT_FULL_LEN with the whole length, as OVS cuts one.
TEST(OpenflowPacketIn, NxtPacketIn2CutsAFrameThatFitsNoProperty) {
  namespace of = flowpath::openflow;
  of::PacketIn pin;
  pin.format = 2;
  pin.in_port = 1;
  pin.data.assign(70000, 0xab);
  const std::vector<uint8_t> b = of::encode(of::Message{of::kOfp10, 1, pin});
  ASSERT_LE(b.size(), 65535u);
  auto u16 = [&](size_t at) { return size_t(b[at]) << 8 | b[at + 1]; };
  EXPECT_EQ(b[1], 4);      // OFPT_VENDOR
  EXPECT_EQ(b[15], 30);    // NXT_PACKET_IN2
  EXPECT_EQ(u16(16), 0u);  // NXPINT_PACKET
  EXPECT_EQ(u16(18), 0xff04u);
  const size_t full = 16 + 0xff08;
  EXPECT_EQ(u16(full), 1u);  // NXPINT_FULL_LEN
  EXPECT_EQ(u16(full + 2), 8u);
  EXPECT_EQ(u16(full + 4) << 16 | u16(full + 6), 70000u);
}

}  // namespace packet_in_fields_test
