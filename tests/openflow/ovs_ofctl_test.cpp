// The real ovs-ofctl (Open vSwitch 3.1) as the oracle of the codec:
// - `ovs-ofctl ofp-print HEX` decodes flow-mods we encode (1.0 ofp_match,
//   NXM, 1.3 OXM) into the same text that `ovs-ofctl parse-flow` prints
//   for the flow text we started from; also packet-out, features reply,
//   port-desc and multipart replies.
// - a listener on a private unix socket, speaking hello/features/barrier
//   with our codec, records what `ovs-ofctl add-flow / del-flows /
//   dump-flows` really send, in its default mode and with -O OpenFlow13,
//   and the flow-mods must decode into what flowpath's parser gives.
// Skips when ovs-ofctl is not installed.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/framing.hpp"
#include "support/ofp_print.hpp"
#include "support/shell.hpp"

namespace of = flowpath::openflow;
using flowpath::test::have_ofctl;
using flowpath::test::ofp_hex;

namespace ovs_ofctl_test {

std::string first_line_after_colon(const std::string& text, const std::string& head) {
  size_t p = text.find(head);
  if (p == std::string::npos) return "<no " + head + " in: " + text + ">";
  size_t colon = text.find("): ", p);
  size_t eol = text.find('\n', p);
  return text.substr(colon + 3, eol - colon - 3);
}
std::string ofp_print(const of::Message& m) {
  return flowpath::test::shell_output("ovs-ofctl ofp-print " + ofp_hex(of::encode(m)));
}

of::FlowMod to_flow_mod(const flowpath::OfctlFlow& f) {
  of::FlowMod fm;
  fm.match = f.match;
  fm.priority = f.priority;
  fm.cookie = f.cookie;
  fm.table_id = f.table;
  fm.idle_timeout = f.idle_timeout;
  fm.hard_timeout = f.hard_timeout;
  fm.instructions.actions = f.actions;
  return fm;
}

// The flow-text parser drops CONTROLLER:N's N (OfAction keeps it in u16).
flowpath::OfctlFlow parse_with_max_len(const std::string& text) {
  auto f = flowpath::parse_flow(text);
  for (auto& a : f.actions)
    if (a.port == flowpath::kOfppController && text.find("CONTROLLER:128") != std::string::npos)
      a.u16 = 128;
  return f;
}

/// The list without `is_load` (a decoded NXAST_REG_LOAD is marked as a
/// load, as OVS keeps its raw form; the flow-text parser marks only `load:`).
flowpath::OfActionList without_load_mark(flowpath::OfActionList l) {
  for (auto& a : l) {
    a.is_load = false;
    a.exec = without_load_mark(a.exec);
  }
  return l;
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

// OVS's OpenFlow 1.3 form of a 1.0-style list: push_vlan before
// mod_vlan_vid/pcp when the packet has no tag at that point.
flowpath::OfActionList of13_view(const flowpath::Match& m, const flowpath::OfActionList& in) {
  using T = flowpath::OfActionType;
  bool tag = (flowpath::get_field(m.value, flowpath::FieldId::kVlanTci) & flowpath::kVlanCfi) != 0;
  flowpath::OfActionList out;
  for (const auto& a : in) {
    if ((a.type == T::kSetVlanVid || a.type == T::kSetVlanPcp) && !tag)
      out.push_back(flowpath::OfAction::with_u16(T::kPushVlan, 0x8100)), tag = true;
    if (a.type == T::kStripVlan) tag = false;
    out.push_back(a);
  }
  return out;
}

const std::vector<std::string> kFlows = {
    "priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL",
    "priority=2,in_port=1 actions=drop",
    "priority=1 actions=NORMAL",
    "tcp,nw_src=192.0.2.0/24,tp_dst=80 actions=output:2",
    "udp,nw_dst=198.51.100.7,tp_src=53 actions=mod_tp_src:5353,output:3",
    "icmp,icmp_type=8,icmp_code=0 actions=CONTROLLER:128",
    "arp,arp_op=1,arp_spa=192.0.2.1 actions=FLOOD",
    "dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff actions=ALL",
    "ip,nw_tos=16 actions=mod_nw_tos:32,LOCAL",
    "dl_vlan_pcp=3 actions=strip_vlan,IN_PORT",
    "ip "
    "actions=mod_nw_src:203.0.113.1,mod_nw_dst:203.0.113.2,mod_dl_src:00:00:00:00:00:01,output:1",
    "in_port=5 actions=resubmit:6,resubmit(,2)",
    "dl_vlan=0xffff actions=mod_vlan_vid:7,output:1",
    "cookie=0x10,idle_timeout=30,hard_timeout=60,priority=5,sctp,tp_dst=9 actions=drop",
    "ipv6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::/32 actions=output:2",
    "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    "ip,nw_ttl=5,nw_src=192.0.2.0/255.255.0.255 actions=drop",
    "icmp6,icmp_type=135,nd_target=2001:db8::2 actions=drop",
    "vlan_tci=0x1000/0x1000 actions=mod_vlan_pcp:5,output:1",
    "arp,arp_tha=00:00:00:00:00:09 actions=output:4",
    "ipv6 actions=set_field:2001:db8::9->ipv6_dst,output:1",
    "icmp actions=set_field:3->icmp_type",
    "ip actions=set_field:2->ip_ecn,set_field:9->nw_ttl",
    "icmp6,icmp_type=136 actions=set_field:00:00:00:00:00:0a->nd_tll",
    // Neutron's firewall: registers, conntrack, conjunctions (nx_ct.hpp).
    "table=71,priority=65,reg5=0x5,ip,in_port=5,nw_src=192.0.2.10 "
    "actions=ct(table=72,zone=NXM_NX_REG6[0..15])",
    "table=82,priority=50,reg5=0x5,ct_state=+est-rel+rpl,ct_mark=0x0,ct_zone=1 actions=output:5",
    "table=82,ct_state=+trk+inv actions=ct_clear,resubmit(,93)",
    "table=72,ip,reg5=0x5,ct_state=+est "
    "actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))",
    "table=82,tcp,reg5=0x5,tcp_dst=0x0050/0xfffe,ct_state=+new-est actions=conjunction(17,2/2)",
    "table=82,conj_id=17,ip,reg5=0x5 "
    "actions=set_field:17->reg7,ct(commit,zone=NXM_NX_REG6[0..15]),output:5,resubmit(,92)",
    "ip,ct_label=0x5/0xff,reg0=0x1/0x3 actions=ct(commit,force,zone=7,"
    "exec(set_field:0x1/0x3->ct_mark,set_field:0x10002000300040005->ct_label))",
    "ip actions=ct(commit,nat(src=192.0.2.1-192.0.2.9:1000-2000,persistent,random))",
    "ipv6 actions=ct(commit,exec(set_field:2->ct_mark),nat(dst=[2001:db8::1]:80,hash))",
    "ip actions=ct(nat),move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],"
    "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
    "actions=set_field:0x5->xreg1,set_field:0x1/0x3->reg6",
    // in_port is writable, whole or in part
    "ip actions=load:0->NXM_OF_IN_PORT[],output:2",
    "ip actions=load:0x5->NXM_OF_IN_PORT[0..3],output:2",
    "ip actions=set_field:3->in_port,output:2",
};


TEST(OpenflowOvsOfctl, FlowModsPrintAsParseFlowPrints) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  for (const auto& text : kFlows) {
    auto f = flowpath::parse_flow(text);
    for (auto& a : f.actions)  // the flow-text parser drops CONTROLLER's max_len
      if (a.port == flowpath::kOfppController && text.find("CONTROLLER:128") != std::string::npos)
        a.u16 = 128;
    for (bool v13 : {false, true}) {
      SCOPED_TRACE(text + (v13 ? " (OpenFlow13)" : " (OpenFlow10)"));
      std::string want = flowpath::test::shell_output(
          std::string("ovs-ofctl ") + (v13 ? "-O OpenFlow13 " : "") + "parse-flow '" + text + "'");
      of::FlowMod fm = to_flow_mod(f);
      fm.match_format = v13 ? of::MatchFormat::kOxm : of::choose_of10_format(f.match);
      std::string head =
          v13 || fm.match_format == of::MatchFormat::kOf10 ? "OFPT_FLOW_MOD" : "NXT_FLOW_MOD";
      std::string got = ofp_print(of::Message{v13 ? of::kOfp13 : of::kOfp10, 1, fm});
      EXPECT_EQ(first_line_after_colon(got, head), first_line_after_colon(want, "FLOW_MOD")) << got;
    }
  }
}

TEST(OpenflowOvsOfctl, OtherMessagesPrintAsMeant) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  of::PacketOut po{of::kNoBuffer, flowpath::kOfppController, {flowpath::OfAction::output(2)}, {}};
  po.data.assign(60, 0);
  EXPECT_NE(ofp_print(of::Message{of::kOfp10, 3, po})
                .find("in_port=CONTROLLER actions=output:2 data_len=60"),
            std::string::npos);
  EXPECT_NE(ofp_print(of::Message{of::kOfp13, 3, po})
                .find("in_port=CONTROLLER actions=output:2 data_len=60"),
            std::string::npos);
  of::PortDesc p{1, flowpath::EthAddr{{0x02, 0, 0, 0, 0, 0x01}}, "veth-a", 0, 0, 0, 0, 0, 0, 0, 0};
  of::FeaturesReply fr{0x1234, 0, 254, 0, 0, 0, {p}};
  std::string out = ofp_print(of::Message{of::kOfp10, 4, fr});
  EXPECT_NE(out.find("dpid:0000000000001234"), std::string::npos) << out;
  EXPECT_NE(out.find("n_tables:254"), std::string::npos) << out;
  EXPECT_NE(out.find(" 1(veth-a): addr:02:00:00:00:00:01"), std::string::npos) << out;
  of::StatsReply pd;
  pd.type = of::StatsType::kPortDesc;
  pd.port_descs = {p};
  for (uint8_t v : {of::kOfp10, of::kOfp13}) {
    out = ofp_print(of::Message{v, 5, pd});
    EXPECT_NE(out.find("PORT_DESC reply"), std::string::npos) << out;
    EXPECT_NE(out.find(" 1(veth-a): addr:02:00:00:00:00:01"), std::string::npos) << out;
  }
  of::StatsReply agg;
  agg.type = of::StatsType::kAggregate;
  agg.aggregate = {7, 420, 3};
  out = ofp_print(of::Message{of::kOfp13, 6, agg});
  EXPECT_NE(out.find("packet_count=7 byte_count=420 flow_count=3"), std::string::npos) << out;
  of::StatsReply flows;
  flows.type = of::StatsType::kFlow;
  of::FlowStats fs;
  fs.match = flowpath::parse_match("tcp,tp_dst=80");
  fs.priority = 9;
  fs.packet_count = 2;
  fs.byte_count = 120;
  fs.instructions.actions = {flowpath::OfAction::output(3)};
  flows.flows = {fs};
  for (auto [v, fmt] : {std::pair{of::kOfp10, of::MatchFormat::kOf10},
                        {of::kOfp10, of::MatchFormat::kNxm},
                        {of::kOfp13, of::MatchFormat::kOxm}}) {
    flows.match_format = fmt;
    out = ofp_print(of::Message{v, 7, flows});
    EXPECT_NE(out.find("n_packets=2, n_bytes=120, priority=9,tcp,tp_dst=80 actions=output:3"),
              std::string::npos)
        << out;
  }
  of::StatsReply tables;
  tables.type = of::StatsType::kTable;
  tables.tables = {{0, "classifier", 0x3fffff, 1000000, 4, 10, 8}};
  out = ofp_print(of::Message{of::kOfp13, 8, tables});
  EXPECT_NE(out.find("active=4, lookup=10, matched=8"), std::string::npos) << out;
}

// ---- live capture: what ovs-ofctl really sends ------------------------------


const of::PortDesc kPort{
    1, flowpath::EthAddr{{2, 0, 0, 0, 0, 1}}, "veth-a", 0, 0, 0x820, 0, 0, 0, 10000000, 10000000};

struct Capture {
  std::vector<of::Message> received;
  std::vector<std::vector<uint8_t>> raw;  // the bytes of each received message
  std::vector<std::string> errors;        // what failed to decode
  std::mutex mu;                          // connections are served in parallel
};

/// One switch-side connection: hello, then replies to what ovs-ofctl asks.
void serve_one(int fd, Capture& cap) {
  uint8_t version = 0;
  auto send = [&](const std::vector<uint8_t>& b) {
    (void)!::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
  };
  send(of::make_hello());
  of::Framer framer;
  std::array<uint8_t, 65536> buf;
  for (ssize_t n; (n = read(fd, buf.data(), buf.size())) > 0;) {
    framer.feed(std::span(buf.data(), size_t(n)));
    while (auto fr = framer.next()) {
      if (fr->error) return (void)close(fd);
      auto r = of::decode_or_error(fr->bytes);
      std::lock_guard lock(cap.mu);
      if (r.error) {
        cap.errors.push_back(r.what);
        send(*r.error);
        continue;
      }
      const of::Message& m = r.message;
      auto reply = [&](of::MessageBody b) {
        send(of::encode(of::Message{version, m.xid, std::move(b)}));
      };
      if (auto* h = std::get_if<of::Hello>(&m.body)) {
        auto n2 = of::negotiate_version(m.version, h->version_bitmap);
        if (n2.error) return send(*n2.error), (void)close(fd);
        version = n2.version;
        continue;
      }
      cap.received.push_back(m);
      cap.raw.push_back(fr->bytes);
      if (std::holds_alternative<of::FeaturesRequest>(m.body))
        reply(of::FeaturesReply{1, 0, 254, 0, 0, 0, {kPort}});
      if (std::holds_alternative<of::BarrierRequest>(m.body)) reply(of::BarrierReply{});
      if (std::holds_alternative<of::EchoRequest>(m.body)) reply(of::EchoReply{});
      if (std::holds_alternative<of::GetConfigRequest>(m.body)) reply(of::SwitchConfig{});
      if (auto* s = std::get_if<of::StatsRequest>(&m.body)) {
        of::StatsReply rep;
        rep.type = s->type;
        rep.match_format = s->match_format;
        if (s->type == of::StatsType::kPortDesc) rep.port_descs = {kPort};
        if (s->type == of::StatsType::kPort) rep.ports = {{1, {1, 2, 3, 4}, 5, 0}};
        if (s->type == of::StatsType::kAggregate) rep.aggregate = {10, 600, 2};
        if (s->type == of::StatsType::kFlow) {
          of::FlowStats fs;
          fs.match = flowpath::parse_match("tcp,tp_dst=80");
          fs.priority = 9;
          fs.packet_count = 2;
          fs.byte_count = 120;
          fs.instructions.actions = {flowpath::OfAction::output(3)};
          rep.flows = {fs};
        }
        if (s->type == of::StatsType::kDesc) rep.desc = {"flowpath", "sw", "0.1", "", "br0"};
        if (s->type == of::StatsType::kTable)
          rep.tables = {{0, "classifier", 0x3fffff, 1000000, 0, 0, 0}};
        if (s->type == of::StatsType::kTableFeatures)
          rep.table_features.push_back({0, "classifier", 0, 0, 0, 1000000});
        reply(rep);
      }
    }
  }
  close(fd);
}

/// Runs `ovs-ofctl ARGS unix:SOCK ...` against our listener; returns what it sent.
void capture(Capture& cap, const std::string& opts, const std::string& cmd, const std::string& arg,
             std::string* out) {
  static int n = 0;
  std::string dir = "/tmp/fp-ofc-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  mkdir(dir.c_str(), 0700);
  std::string path = dir + "/sock";
  int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  std::atomic<bool> stop{false};
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) || listen(lfd, 4)) {
    ADD_FAILURE() << path << ": cannot listen: " << std::strerror(errno);
    close(lfd);
    rmdir(dir.c_str());
    return;
  }
  // ovs-ofctl opens one connection to learn the table names, another for
  // the command, and `show` a third for get-config while the second is
  // open: serve each connection on its own thread.
  std::thread t([&] {
    std::vector<std::thread> conns;
    while (true) {
      pollfd pfd{lfd, POLLIN, 0};
      if (poll(&pfd, 1, 100) < 0 || stop.load()) break;
      if (!(pfd.revents & POLLIN)) continue;
      int fd = accept(lfd, nullptr, nullptr);
      if (fd >= 0) conns.emplace_back(serve_one, fd, std::ref(cap));
    }
    for (auto& c : conns) c.join();
  });
  *out = flowpath::test::shell_output("timeout 10 ovs-ofctl " + opts + " " + cmd + " unix:" + path +
                                      " " + arg + " 2>&1; echo rc=$?");
  stop = true;
  t.join();
  close(lfd);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

const of::FlowMod* last_flow_mod(const Capture& c) {
  for (auto it = c.received.rbegin(); it != c.received.rend(); ++it)
    if (auto* f = std::get_if<of::FlowMod>(&it->body)) return f;
  return nullptr;
}


TEST(OpenflowOvsOfctl, DecodesWhatOvsOfctlSends) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  for (const auto& text : kFlows) {
    auto f = parse_with_max_len(text);
    for (std::string opts : {"", "-O OpenFlow13"}) {
      SCOPED_TRACE(text + " " + opts);
      std::string out;
      Capture c;
      capture(c, opts, "add-flow", "'" + text + "'", &out);
      const of::FlowMod* fm = last_flow_mod(c);
      ASSERT_TRUE(fm) << out;
      EXPECT_EQ(fm->command, of::FlowModCommand::kAdd);
      EXPECT_EQ(fm->match, opts.empty() ? f.match : oxm_view(f.match));
      EXPECT_EQ(fm->priority, f.priority);
      EXPECT_EQ(fm->cookie, f.cookie);
      EXPECT_EQ(fm->idle_timeout, f.idle_timeout);
      EXPECT_EQ(fm->hard_timeout, f.hard_timeout);
      EXPECT_EQ(without_load_mark(fm->instructions.actions),
                without_load_mark(opts.empty() ? f.actions : of13_view(f.match, f.actions)));
      EXPECT_TRUE(c.errors.empty()) << c.errors.front();
      EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
      for (size_t i = 0; i < c.received.size(); ++i) {  // re-encoding gives OVS's own bytes
        if (std::holds_alternative<of::FlowMod>(c.received[i].body)) {
          EXPECT_EQ(ofp_hex(of::encode(c.received[i])), ofp_hex(c.raw[i]));
        }
      }
    }
  }
}

TEST(OpenflowOvsOfctl, DeleteAndDumpRequests) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  std::string out;
  for (std::string opts : {"", "-O OpenFlow13"}) {
    Capture c;
    capture(c, opts, "--strict del-flows", "'priority=5,tcp,tp_dst=22'", &out);
    const of::FlowMod* fm = last_flow_mod(c);
    ASSERT_TRUE(fm) << out;
    EXPECT_EQ(fm->command, of::FlowModCommand::kDeleteStrict);
    EXPECT_EQ(fm->priority, 5);
    EXPECT_EQ(fm->match, flowpath::parse_match("tcp,tp_dst=22"));
    Capture c2;
    capture(c2, opts, "del-flows", "'cookie=0x10/0xff0'", &out);
    fm = last_flow_mod(c2);
    ASSERT_TRUE(fm) << out;
    EXPECT_EQ(fm->command, of::FlowModCommand::kDelete);
    EXPECT_EQ(fm->cookie_mask, 0xff0u);
    if (opts.empty()) {  // 1.0: no NXT_FLOW_MOD_TABLE_ID, so the table byte is not a table
      EXPECT_EQ(fm->table_id, 0);
      for (const auto& m : c2.received)
        EXPECT_FALSE(std::holds_alternative<of::FlowModTableId>(m.body));
    } else {
      EXPECT_EQ(fm->table_id, 255);
    }
    Capture c3;
    capture(c3, opts, "dump-flows", "'udp,tp_dst=53'", &out);
    bool saw = false;
    for (const auto& m : c3.received)
      if (auto* s = std::get_if<of::StatsRequest>(&m.body); s && s->type == of::StatsType::kFlow) {
        saw = true;
        EXPECT_EQ(s->match, flowpath::parse_match("udp,tp_dst=53"));
      }
    EXPECT_TRUE(saw) << out;
  }
}

TEST(OpenflowOvsOfctl, ErrorRepliesNameTheIntendedError) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  using E = of::OfpErrc;
  struct Want {
    E e;
    const char* of13;
    const char* of10;
  };
  const Want wants[] = {
      {E::kHelloIncompatible, "OFPHFC_INCOMPATIBLE", "OFPHFC_INCOMPATIBLE"},
      {E::kBadVersion, "OFPBRC_BAD_VERSION", "OFPBRC_BAD_VERSION"},
      {E::kBadType, "OFPBRC_BAD_TYPE", "OFPBRC_BAD_TYPE"},
      {E::kBadStat, "OFPBRC_BAD_STAT", "OFPBRC_BAD_STAT"},
      {E::kBadVendor, "OFPBRC_BAD_VENDOR", "OFPBRC_BAD_VENDOR"},
      {E::kBadSubtype, "OFPBRC_BAD_SUBTYPE", "OFPBRC_BAD_SUBTYPE"},
      {E::kBadLen, "OFPBRC_BAD_LEN", "OFPBRC_BAD_LEN"},
      {E::kBadTableId, "OFPBRC_BAD_TABLE_ID", "OFPBRC_BAD_TABLE_ID"},
      {E::kBadPort, "OFPBRC_BAD_PORT", "OFPBRC_BAD_PORT"},
      {E::kActionBadType, "OFPBAC_BAD_TYPE", "OFPBAC_BAD_TYPE"},
      {E::kActionBadLen, "OFPBAC_BAD_LEN", "OFPBAC_BAD_LEN"},
      {E::kActionBadVendor, "OFPBAC_BAD_VENDOR", "OFPBAC_BAD_VENDOR"},
      {E::kActionBadVendorType, "OFPBAC_BAD_VENDOR_TYPE", "OFPBAC_BAD_VENDOR_TYPE"},
      {E::kActionBadOutPort, "OFPBAC_BAD_OUT_PORT", "OFPBAC_BAD_OUT_PORT"},
      {E::kActionBadArgument, "OFPBAC_BAD_ARGUMENT", "OFPBAC_BAD_ARGUMENT"},
      {E::kActionBadSetType, "OFPBAC_BAD_SET_TYPE", "OFPBAC_BAD_SET_TYPE"},
      {E::kActionBadSetLen, "OFPBAC_BAD_SET_LEN", "OFPBAC_BAD_SET_LEN"},
      {E::kActionBadSetArgument, "OFPBAC_BAD_SET_ARGUMENT", "OFPBAC_BAD_SET_ARGUMENT"},
      {E::kInstUnknown, "OFPBIC_UNKNOWN_INST", "NXBRC_UNENCODABLE_ERROR"},
      {E::kInstUnsup, "OFPBIC_UNSUP_INST", "OFPBIC_UNSUP_INST"},
      {E::kInstBadTableId, "OFPBIC_BAD_TABLE_ID", "NXBRC_UNENCODABLE_ERROR"},
      {E::kInstBadLen, "OFPBIC_BAD_LEN", "NXBRC_UNENCODABLE_ERROR"},
      {E::kMatchBadType, "OFPBMC_BAD_TYPE", "NXBRC_NXM_INVALID"},
      {E::kMatchBadLen, "OFPBMC_BAD_LEN", "NXBRC_NXM_INVALID"},
      {E::kMatchBadWildcards, "OFPBMC_BAD_WILDCARDS", "OFPBMC_BAD_WILDCARDS"},
      {E::kMatchBadField, "OFPBMC_BAD_FIELD", "OFPBMC_BAD_FIELD"},
      {E::kMatchBadValue, "OFPBMC_BAD_VALUE", "OFPBMC_BAD_VALUE"},
      {E::kMatchBadMask, "OFPBMC_BAD_MASK", "OFPBMC_BAD_MASK"},
      {E::kMatchBadPrereq, "OFPBMC_BAD_PREREQ", "OFPBMC_BAD_PREREQ"},
      {E::kMatchDupField, "OFPBMC_DUP_FIELD", "OFPBMC_DUP_FIELD"},
      {E::kFlowModBadCommand, "OFPFMFC_BAD_COMMAND", "OFPFMFC_BAD_COMMAND"},
      {E::kFlowModOverlap, "OFPFMFC_OVERLAP", "OFPFMFC_OVERLAP"},
      {E::kFlowModBadFlags, "OFPFMFC_BAD_FLAGS", "OFPFMFC_BAD_FLAGS"},
      {E::kFlowModUnknown, "OFPFMFC_UNKNOWN", "NXBRC_UNENCODABLE_ERROR"},
  };
  ASSERT_EQ(std::size(wants), size_t(E::kFlowModUnknown) + 1);  // every error is listed
  for (const auto& w : wants) {
    for (uint8_t v : {of::kOfp10, of::kOfp13}) {
      auto request = of::encode(of::Message{v, 0x55, of::BarrierRequest{}});
      std::string out = flowpath::test::shell_output("ovs-ofctl ofp-print " +
                                                     ofp_hex(of::make_error_reply(w.e, request)));
      const char* want = v == of::kOfp10 ? w.of10 : w.of13;
      EXPECT_NE(out.find(std::string("(xid=0x55): ") + want), std::string::npos)
          << "v" << int(v) << " wants " << want << ":\n"
          << out;
      if (w.e == E::kHelloIncompatible) continue;  // its data prints as text
      EXPECT_NE(out.find(v == of::kOfp10 ? "OFPT_BARRIER_REQUEST" : "OFPT_BARRIER_REQUEST (OF1.3)"),
                std::string::npos)
          << out;  // data = the offending message
    }
  }
}

TEST(OpenflowOvsOfctl, OtherCommandsDecodeAndAcceptOurReplies) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  struct Cmd {
    std::string cmd, arg, expect;
  };
  const Cmd cmds[] = {
      {"show", "", "1(veth-a): addr:02:00:00:00:00:01"},
      {"dump-ports", "", "rx pkts=1, bytes=3"},
      {"dump-ports-desc", "", "1(veth-a): addr:02:00:00:00:00:01"},
      {"dump-tables", "", "table 0"},
      {"dump-aggregate", "", "packet_count=10 byte_count=600 flow_count=2"},
      {"dump-desc", "", "Manufacturer: flowpath"},
      {"dump-flows", "", "n_packets=2, n_bytes=120, priority=9,tcp,tp_dst=80 actions=output:3"},
      {"probe", "", "rc=0"},
      // not expressible as ofp_match: NXT_SET_FLOW_FORMAT + NXST_FLOW / NXST_AGGREGATE in 1.0
      {"dump-flows", "'ipv6,ipv6_src=2001:db8::1'", "priority=9,tcp,tp_dst=80 actions=output:3"},
      {"dump-aggregate", "'ipv6,ipv6_src=2001:db8::1'",
       "packet_count=10 byte_count=600 flow_count=2"},
      {"mod-flows", "'tcp actions=output:2'", "rc=0"},
      {"--strict mod-flows", "'priority=7,udp actions=drop'", "rc=0"},
  };
  for (std::string opts : {"", "-O OpenFlow13"}) {
    for (const auto& c : cmds) {
      SCOPED_TRACE(c.cmd + " " + opts);
      std::string out;
      Capture cap;
      capture(cap, opts, c.cmd, c.arg, &out);
      EXPECT_TRUE(cap.errors.empty()) << cap.errors.front();
      EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
      EXPECT_NE(out.find(c.expect), std::string::npos) << out;
      if (opts.empty() && c.arg.find("ipv6") != std::string::npos) {
        bool nx = false;
        for (const auto& m : cap.received)
          if (auto* sr = std::get_if<of::StatsRequest>(&m.body))
            nx |= sr->match_format == of::MatchFormat::kNxm &&
                  sr->match == flowpath::parse_match("ipv6,ipv6_src=2001:db8::1");
        EXPECT_TRUE(nx) << "expected an NXST request";
      }
      if (c.cmd.find("mod-flows") != std::string::npos) {
        const of::FlowMod* fm = last_flow_mod(cap);
        ASSERT_TRUE(fm);
        bool strict = c.cmd.find("strict") != std::string::npos;
        EXPECT_EQ(fm->command,
                  strict ? of::FlowModCommand::kModifyStrict : of::FlowModCommand::kModify);
      }
    }
  }
}

TEST(OpenflowOvsOfctl, AddFlowsFromAFile) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  std::string file = "/tmp/fp-ofc-flows-" + std::to_string(getpid()) + ".txt";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_TRUE(f);
    for (size_t i = 0; i < 6; ++i) std::fprintf(f, "%s\n", kFlows[i].c_str());
    std::fclose(f);
  }
  for (std::string opts : {"", "-O OpenFlow13"}) {
    SCOPED_TRACE(opts);
    std::string out;
    Capture c;
    capture(c, opts, "add-flows", file, &out);
    EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
    std::vector<const of::FlowMod*> mods;
    for (const auto& m : c.received)
      if (auto* fm = std::get_if<of::FlowMod>(&m.body)) mods.push_back(fm);
    ASSERT_EQ(mods.size(), 6u) << out;
    for (size_t i = 0; i < mods.size(); ++i) {
      auto f = parse_with_max_len(kFlows[i]);
      EXPECT_EQ(mods[i]->match, f.match) << kFlows[i];
      EXPECT_EQ(mods[i]->priority, f.priority) << kFlows[i];
    }
  }
  std::remove(file.c_str());
}

}  // namespace ovs_ofctl_test
