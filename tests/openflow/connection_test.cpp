// The sans-I/O OpenFlow connection over a real Ofproto (OfprotoBackend
// without a Switch): hello negotiation, echo and inactivity probes,
// get/set-config, flow-mods with OVS's semantics (check_overlap, table
// 255, out_port, OF1.0 modify-adds), stats and their multipart split, and
// errors.  Messages are generated with the codec; replies are decoded.
#include "flowpath/openflow/connection.hpp"

#include <gtest/gtest.h>

#include "flowpath/switch/openflow_backend.hpp"

namespace of = flowpath::openflow;
using flowpath::parse_flow;
using flowpath::parse_match;

namespace connection_test {

constexpr const char* kConf = R"(
add-br br0
add-port br0 p1 type=memory
add-port br0 p2 type=memory
add-port br0 p3 type=memory
)";

std::vector<of::Message> drain(of::Connection& c) {
  of::Framer fr;
  fr.feed(c.take_output());
  std::vector<of::Message> out;
  while (auto f = fr.next()) out.push_back(of::decode(f->bytes));
  return out;
}

std::vector<uint8_t> hello(uint32_t bitmap, uint8_t header_version = 6) {
  return of::encode(of::Message{header_version, 1, of::Hello{bitmap}});
}

struct Fixture {
  flowpath::Ofproto ofp{flowpath::SwitchConfig::parse(kConf)};
  flowpath::OfprotoBackend be{ofp, "br0"};
  of::Connection c{be, {}, 0};
  uint8_t v = 0;

  explicit Fixture(uint8_t version) {
    auto h = drain(c);  // our hello
    EXPECT_EQ(h.size(), 1u);
    c.receive(hello(1u << version, version), 0);
    v = c.version();
  }
  std::vector<of::Message> send(of::MessageBody b, uint32_t xid = 7) {
    c.receive(of::encode(of::Message{v, xid, std::move(b)}), 1);
    return drain(c);
  }
  of::FlowMod fm(const std::string& text, of::FlowModCommand cmd = of::FlowModCommand::kAdd) {
    auto f = parse_flow(text, nullptr, flowpath::FlowTextMode::kFilter);
    of::FlowMod m;
    m.command = cmd;
    m.match = f.match;
    m.priority = f.priority;
    m.table_id = f.table == flowpath::kOfTableAll && cmd == of::FlowModCommand::kAdd ? 0 : f.table;
    m.out_port = f.out_port;
    m.instructions.actions = f.actions;
    m.match_format = v == of::kOfp13 ? of::MatchFormat::kOxm : of::MatchFormat::kNxm;
    return m;
  }
  size_t rules() {
    std::lock_guard l(ofp.mutex());
    return ofp.require_bridge("br0").tables().size();
  }
};


TEST(OpenflowConnection, NegotiatesByBitmapLikeOvs) {
  flowpath::Ofproto ofp(flowpath::SwitchConfig::parse(kConf));
  flowpath::OfprotoBackend be(ofp, "br0");
  auto negotiated = [&](uint32_t bitmap) {
    of::Connection c(be, {}, 0);
    c.receive(hello(bitmap), 0);
    return c.version();
  };
  EXPECT_EQ(negotiated(1u << 1 | 1u << 6), of::kOfp10);            // {1.0, 1.5}
  EXPECT_EQ(negotiated(1u << 1 | 1u << 4), of::kOfp13);            // {1.0, 1.3}
  EXPECT_EQ(negotiated(1u << 1 | 1u << 4 | 1u << 5), of::kOfp14);  // {1.0, 1.3, 1.4}
  EXPECT_EQ(negotiated(1u << 5), of::kOfp14);                      // {1.4}
  of::Connection bad(be, {}, 0);
  drain(bad);
  bad.receive(hello(1u << 6), 0);  // {1.5} only
  EXPECT_TRUE(bad.closed());
  auto err = drain(bad);
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(std::get<of::ErrorMsg>(err[0].body).type, 0);  // HELLO_FAILED
  of::Connection no_hello(be, {}, 0);
  no_hello.receive(of::encode(of::Message{of::kOfp13, 3, of::EchoRequest{}}), 0);
  EXPECT_TRUE(no_hello.closed());
}

TEST(OpenflowConnection, EchoConfigAndInactivityProbe) {
  Fixture f(of::kOfp13);
  auto r = f.send(of::EchoRequest{{1, 2, 3}}, 42);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].xid, 42u);
  EXPECT_EQ(std::get<of::EchoReply>(r[0].body).data, (std::vector<uint8_t>{1, 2, 3}));
  r = f.send(of::GetConfigRequest{});
  EXPECT_EQ(std::get<of::SwitchConfig>(r.at(0).body).miss_send_len, 128);  // active default
  EXPECT_TRUE(f.send(of::SwitchConfig{true, 0, 0}).empty());
  EXPECT_EQ(std::get<of::SwitchConfig>(f.send(of::GetConfigRequest{}).at(0).body).miss_send_len, 0);
  EXPECT_FALSE(f.c.wants_async());
  EXPECT_EQ(f.c.next_deadline(), 1 + 5000);
  f.c.tick(5001);
  r = drain(f.c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<of::EchoRequest>(r[0].body));
  f.c.tick(10000);
  EXPECT_FALSE(f.c.closed());
  f.c.tick(10001);
  EXPECT_TRUE(f.c.closed());
  // A passive connection starts with miss_send_len 0: no async messages.
  of::Connection p(f.be, {.passive = true}, 0);
  p.receive(hello(1u << 4), 0);
  EXPECT_EQ(p.miss_send_len(), 0);
  EXPECT_FALSE(p.wants_async());
}

TEST(OpenflowConnection, FlowModsFollowOvsSemantics) {
  Fixture f(of::kOfp13);
  using C = of::FlowModCommand;
  EXPECT_TRUE(f.send(f.fm("table=0,priority=5,ip,nw_dst=192.0.2.0/24 actions=output:1")).empty());
  auto overlap = f.fm("table=0,priority=5,ip,nw_src=198.51.100.1 actions=output:2");
  overlap.flags = of::kFlowModCheckOverlap;
  auto r = f.send(overlap);
  ASSERT_EQ(r.size(), 1u);
  auto e = std::get<of::ErrorMsg>(r[0].body);
  EXPECT_EQ(e.type, 5);  // FLOW_MOD_FAILED
  EXPECT_EQ(e.code, 3);  // OVERLAP
  overlap.priority = 6;  // other priority: no overlap
  EXPECT_TRUE(f.send(overlap).empty());
  auto disjoint = f.fm("table=0,priority=5,ip,nw_dst=203.0.113.0/24 actions=output:3");
  disjoint.flags = of::kFlowModCheckOverlap;
  EXPECT_TRUE(f.send(disjoint).empty());
  EXPECT_TRUE(f.send(f.fm("table=3,priority=5,ip actions=output:1")).empty());
  EXPECT_EQ(f.rules(), 4u);
  // 1.3 modify that selects nothing adds nothing.
  EXPECT_TRUE(f.send(f.fm("table=0,tcp actions=output:2", C::kModify)).empty());
  EXPECT_EQ(f.rules(), 4u);
  // Delete with out_port in every table (255).
  EXPECT_TRUE(f.send(f.fm("out_port=1", C::kDelete)).empty());
  EXPECT_EQ(f.rules(), 2u);
  EXPECT_TRUE(f.send(f.fm("priority=6,ip,nw_src=198.51.100.1", C::kDeleteStrict)).empty());
  EXPECT_EQ(f.rules(), 1u);
  auto bad = f.fm("table=254 actions=drop");
  r = f.send(bad);
  ASSERT_EQ(r.size(), 1u);  // table 254 does not exist (0..253, as OVS)
  EXPECT_EQ(std::get<of::ErrorMsg>(r[0].body).type, 1);
  r = f.send(of::BarrierRequest{}, 99);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].xid, 99u);
  EXPECT_TRUE(std::holds_alternative<of::BarrierReply>(r[0].body));
}

TEST(OpenflowConnection, Of10ModifyAddsAndTableByteIsIgnoredWithoutExtension) {
  Fixture f(of::kOfp10);
  auto m = f.fm("priority=9,udp actions=output:3", of::FlowModCommand::kModify);
  m.table_id = 0;
  EXPECT_TRUE(f.send(m).empty());
  ASSERT_EQ(f.rules(), 1u);
  auto add = f.fm("priority=9,tcp actions=output:3");
  add.table_id = 7;  // no NXT_FLOW_MOD_TABLE_ID yet: a 1.0 add goes to table 0
  f.send(add);
  EXPECT_EQ(f.ofp.require_bridge("br0").tables().rules(0).size(), 2u);
  EXPECT_TRUE(f.send(of::FlowModTableId{true}).empty());
  f.send(add);
  EXPECT_EQ(f.ofp.require_bridge("br0").tables().rules(7).size(), 1u);
  EXPECT_TRUE(f.send(of::SetFlowFormat{2}).empty());
  EXPECT_EQ(f.c.flow_format(), 2u);
  EXPECT_TRUE(f.send(of::SetPacketInFormat{2}).empty());  // NXT_PACKET_IN2, as OVS
  EXPECT_EQ(f.c.packet_in_format(), 2u);
  EXPECT_EQ(f.send(of::SetPacketInFormat{3}).size(), 1u);  // no such format: an error
  EXPECT_EQ(f.c.packet_in_format(), 2u);
}

TEST(OpenflowConnection, StatsFromTheTablesAndMultipartSplit) {
  Fixture f(of::kOfp13);
  f.send(f.fm("priority=5,ip actions=output:1"));
  f.send(f.fm("priority=4,arp actions=output:2"));
  of::StatsRequest rq;
  rq.type = of::StatsType::kFlow;
  rq.match_format = of::MatchFormat::kOxm;
  rq.match = parse_match("ip");
  auto r = f.send(rq);
  ASSERT_EQ(r.size(), 1u);
  auto& flows = std::get<of::StatsReply>(r[0].body).flows;
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].priority, 5);
  rq.type = of::StatsType::kAggregate;
  rq.match = {};
  EXPECT_EQ(std::get<of::StatsReply>(f.send(rq).at(0).body).aggregate.flow_count, 2u);
  rq = {};
  rq.type = of::StatsType::kTableFeatures;
  r = f.send(rq);
  ASSERT_GT(r.size(), 1u);  // 254 tables with properties exceed one message
  size_t n = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    auto& s = std::get<of::StatsReply>(r[i].body);
    EXPECT_EQ(s.flags, i + 1 < r.size() ? 1 : 0);
    n += s.table_features.size();
  }
  EXPECT_EQ(n, 254u);
  rq.type = of::StatsType::kPortDesc;
  auto pd = std::get<of::StatsReply>(f.send(rq).at(0).body).port_descs;
  ASSERT_EQ(pd.size(), 4u);  // p1 p2 p3 LOCAL
  EXPECT_EQ(pd[3].port_no, flowpath::kOfppLocal);
  EXPECT_EQ(pd[3].name, "br0");
  r = f.send(of::PacketIn{});  // a switch-to-controller message
  EXPECT_EQ(std::get<of::ErrorMsg>(r.at(0).body).type, 1);
}

TEST(OpenflowConnection, AReplyThatCannotBeEncodedClosesInsteadOfHanging) {
  Fixture f(of::kOfp13);
  {
    std::lock_guard l(f.ofp.mutex());  // mod_tp_src without an L4 match: no OpenFlow 1.3 form
    f.ofp.require_bridge("br0").tables().add(
        0, parse_match("ip"), 5,
        {flowpath::OfAction::with_u16(flowpath::OfActionType::kSetTpSrc, 5),
         flowpath::OfAction::output(2)});
  }
  of::StatsRequest rq;
  rq.type = of::StatsType::kFlow;
  rq.match_format = of::MatchFormat::kOxm;
  auto r = f.send(rq);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(f.c.closed());
  EXPECT_NE(f.c.close_reason().find("cannot answer"), std::string::npos) << f.c.close_reason();
}

// Mutated valid messages (fixed seed): the connection never throws, every
// output is whole, decodable messages, and it only closes on a broken frame.
TEST(OpenflowConnection, SurvivesMutatedMessages) {
  std::vector<std::vector<uint8_t>> seeds;
  for (uint8_t v : {of::kOfp10, of::kOfp13}) {
    Fixture f(v);
    auto fm = f.fm("priority=5,tcp,tp_dst=80 actions=output:1");
    of::StatsRequest rq;
    rq.type = of::StatsType::kFlow;
    rq.match_format = v == of::kOfp13 ? of::MatchFormat::kOxm : of::MatchFormat::kNxm;
    for (const of::MessageBody& b :
         {of::MessageBody{fm}, of::MessageBody{rq}, of::MessageBody{of::EchoRequest{{1}}},
          of::MessageBody{of::SwitchConfig{true, 0, 64}}, of::MessageBody{of::BarrierRequest{}}})
      seeds.push_back(of::encode(of::Message{v, 3, b}));
  }
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&] { return rng = rng * 6364136223846793005ull + 1442695040888963407ull; };
  for (int i = 0; i < 3000; ++i) {
    auto msg = seeds[next() % seeds.size()];
    Fixture f(msg[0]);
    for (int k = 0, n = int(next() % 4) + 1; k < n; ++k) {
      // Keep the length field (a whole frame); header-only messages get a new type.
      size_t at = msg.size() > 8 ? 8 + next() % (msg.size() - 8) : 1;
      msg[at] = uint8_t(next() >> 32);
    }
    ASSERT_NO_THROW(f.c.receive(msg, 1)) << i;
    of::Framer fr;
    fr.feed(f.c.take_output());
    while (auto fr_msg = fr.next()) ASSERT_NO_THROW(of::decode(fr_msg->bytes)) << i;
    EXPECT_EQ(fr.buffered(), 0u) << i;
    EXPECT_FALSE(f.c.closed()) << i;
  }
}

// A dump of 3,000 flows is streamed (openflow/flow_stats_stream.hpp): in
// each version and format, messages of at most 65535 bytes, "more" on
// all but the last, holding every flow in order — the same entries the
// split-and-encode path gives for the same reply.
TEST(OpenflowConnection, BigFlowDumpIsStreamedInFullMessages) {
  for (uint8_t v : {of::kOfp10, of::kOfp13}) {
    Fixture f(v);
    {
      std::lock_guard l(f.ofp.mutex());
      auto& t = f.ofp.require_bridge("br0").tables();
      for (int i = 0; i < 3000; ++i)
        t.add(parse_flow("priority=" + std::to_string(1 + i % 7) + ",tcp,nw_src=198.51.100." +
                         std::to_string(i % 256) + ",tp_dst=" + std::to_string(i + 1) +
                         " actions=mod_vlan_vid:5,output:2"));
    }
    of::StatsRequest rq;
    rq.type = of::StatsType::kFlow;
    rq.table_id = flowpath::kOfTableAll;
    rq.match_format = v == of::kOfp13 ? of::MatchFormat::kOxm : of::MatchFormat::kNxm;
    f.c.receive(of::encode(of::Message{v, 9, rq}), 1);
    auto bytes = f.c.take_output();
    of::Framer fr;
    fr.feed(bytes);
    std::vector<of::FlowStats> got;
    size_t n = 0, total = 0;
    while (auto fra = fr.next()) {
      ASSERT_LE(fra->bytes.size(), of::kMaxMessageLen);
      total += fra->bytes.size();
      auto m = of::decode(fra->bytes);
      EXPECT_EQ(m.xid, 9u);
      auto& s = std::get<of::StatsReply>(m.body);
      EXPECT_EQ(s.flags, total < bytes.size() ? 1 : 0) << "message " << n;
      got.insert(got.end(), s.flows.begin(), s.flows.end());
      ++n;
    }
    EXPECT_EQ(total, bytes.size());
    EXPECT_GT(n, 2u);
    auto want = f.be.stats(rq).flows;
    ASSERT_EQ(got.size(), 3000u);
    ASSERT_EQ(want.size(), 3000u);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].match, want[i].match) << i;
      EXPECT_EQ(got[i].priority, want[i].priority) << i;
    }
    // the same flows, byte for byte, as the split-and-encode path gives
    // for the same reply
    of::StatsReply rep = f.be.stats(rq);
    rep.match_format = rq.match_format;
    std::vector<uint8_t> streamed, split;
    of::append_flow_stats_replies(streamed, v, 9, rep);
    for (const auto& part : of::split_stats_reply(rep, v)) {
      auto m = of::encode(of::Message{v, 9, part});
      split.insert(split.end(), m.begin(), m.end());
    }
    auto entries = [](const std::vector<uint8_t>& msgs) {
      of::Framer fr;
      fr.feed(msgs);
      std::vector<uint8_t> out;  // every message's entries, headers left out
      while (auto fra = fr.next()) {
        size_t head = fra->bytes[0] == of::kOfp10 ? (fra->bytes[8] == 0xff ? 24 : 12) : 16;
        out.insert(out.end(), fra->bytes.begin() + std::ptrdiff_t(head), fra->bytes.end());
      }
      return out;
    };
    EXPECT_EQ(entries(streamed), entries(split));
  }
}

// Backpressure: requests whose replies exceed the output budget are held
// (not decoded, not answered) until the owner takes the output and
// resumes; then they are answered in order.
TEST(OpenflowConnection, OutputBudgetHoldsFurtherRequests) {
  flowpath::Ofproto ofp(flowpath::SwitchConfig::parse(kConf));
  flowpath::OfprotoBackend be(ofp, "br0");
  of::ConnectionConfig cfg;
  cfg.output_budget = 4096;
  of::Connection c(be, cfg, 0);
  c.receive(hello(1u << of::kOfp13, of::kOfp13), 0);
  c.take_output();
  of::StatsRequest rq;
  rq.type = of::StatsType::kTableFeatures;  // ~ 100 KB of replies
  std::vector<uint8_t> in;
  for (uint32_t xid = 1; xid <= 3; ++xid) {
    auto m = of::encode(of::Message{of::kOfp13, xid, rq});
    in.insert(in.end(), m.begin(), m.end());
  }
  auto b = of::encode(of::Message{of::kOfp13, 4, of::BarrierRequest{}});
  in.insert(in.end(), b.begin(), b.end());
  c.receive(in, 1);
  std::vector<uint32_t> xids;
  auto collect = [&] {
    of::Framer fr;
    fr.feed(c.take_output());
    while (auto f = fr.next()) {
      auto m = of::decode(f->bytes);
      if (xids.empty() || xids.back() != m.xid) xids.push_back(m.xid);
    }
  };
  EXPECT_TRUE(c.has_pending_input());
  collect();
  EXPECT_EQ(xids, std::vector<uint32_t>{1});
  int rounds = 0;
  while (c.has_pending_input() && ++rounds < 10) {
    c.resume();
    collect();
  }
  EXPECT_EQ(xids, (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_FALSE(c.has_pending_input());
}

}  // namespace connection_test
