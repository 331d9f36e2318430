// OpenFlow 1.4 in the codec and a connection, without peers: round trips
// and wire sizes of every message whose 1.4 form differs from 1.3
// (ofp14_port with its ethernet property in port-status and port-desc,
// ofp14_port_stats with its ethernet property, OFPT_BUNDLE_CONTROL /
// OFPT_BUNDLE_ADD_MESSAGE, flow-mod importance), properties that are
// skipped or refused, real ovs-ofctl's ofp-print of what we encode (when
// installed), and a connection that negotiated 1.4 answering bundles,
// features (OFPC14_BUNDLES) and an importance kept and dumped.
//
// FP_OF14_SEED_DIR=DIR writes the encoded messages there as fuzz seeds
// (tests/fuzz/corpus/openflow_decode_fuzz/of14_*).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "flowpath/openflow/connection.hpp"
#include "openflow/backend_fixture.hpp"
#include "support/shell.hpp"

namespace of14_codec_test {

namespace of = flowpath::openflow;

std::string hexstr(const std::vector<uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) s += d[x >> 4], s += d[x & 15];
  return s;
}

of::PortDesc sample_port(uint32_t no) {
  of::PortDesc p;
  p.port_no = no;
  p.hw_addr = flowpath::EthAddr{{0x02, 0, 0, 0, 0, uint8_t(no)}};
  p.name = "p" + std::to_string(no);
  p.config = 1, p.state = 4, p.curr = 0x820, p.advertised = 0x20, p.supported = 0x2820;
  p.peer = 8, p.curr_speed = 10000000, p.max_speed = 25000000;
  return p;
}

/// The messages whose 1.4 form is new, with their expected wire sizes.
std::vector<std::pair<of::Message, size_t>> samples() {
  std::vector<std::pair<of::Message, size_t>> out;
  out.push_back({of::Message{of::kOfp14, 1, of::PortStatus{2, sample_port(3)}}, 8 + 8 + 72});
  of::StatsReply descs;
  descs.type = of::StatsType::kPortDesc;
  descs.match_format = of::MatchFormat::kOxm;  // what decode gives from 1.1 on
  descs.port_descs = {sample_port(1), sample_port(0xfffe)};
  out.push_back({of::Message{of::kOfp14, 2, descs}, 16 + 2 * 72});
  of::StatsReply ports;
  ports.type = of::StatsType::kPort;
  ports.match_format = of::MatchFormat::kOxm;
  of::PortStats ps;
  ps.port_no = 7;
  for (size_t i = 0; i < ps.counters.size(); ++i) ps.counters[i] = 1000 + i;
  ps.duration_sec = 12, ps.duration_nsec = 345;
  ports.ports = {ps, ps};
  ports.ports[1].port_no = 0xfffe;
  out.push_back({of::Message{of::kOfp14, 3, ports}, 16 + 2 * 120});
  of::StatsRequest rq;
  rq.type = of::StatsType::kPort;
  rq.port_no = 2;
  out.push_back({of::Message{of::kOfp14, 4, rq}, 16 + 8});
  out.push_back({of::Message{of::kOfp14, 5,
                             of::BundleControl{9, of::BundleCtrlType::kCommitRequest,
                                               of::kBundleAtomic | of::kBundleOrdered}},
                 16});
  of::FlowMod fm;
  fm.match_format = of::MatchFormat::kOxm;
  fm.priority = 10;
  fm.importance = 3;
  auto inner = of::encode(of::Message{of::kOfp14, 6, fm});
  out.push_back({of::Message{of::kOfp14, 6, fm}, inner.size()});
  out.push_back(
      {of::Message{of::kOfp14, 6, of::BundleAdd{9, of::kBundleAtomic, inner}}, 16 + inner.size()});
  of::FeaturesReply f;
  f.datapath_id = 0x1234, f.n_tables = 254, f.capabilities = 7 | of::kCapBundles;
  out.push_back({of::Message{of::kOfp14, 7, f}, 32});
  return out;
}

TEST(OpenflowOf14Codec, RoundTripsAndWireSizes) {
  const char* seeds = std::getenv("FP_OF14_SEED_DIR");
  int n = 0;
  for (auto& [m, size] : samples()) {
    SCOPED_TRACE(n);
    auto bytes = of::encode(m);
    EXPECT_EQ(bytes.size(), size);
    EXPECT_EQ(bytes[0], of::kOfp14);
    auto r = of::decode_or_error(bytes);
    ASSERT_FALSE(r.error) << r.what;
    EXPECT_EQ(r.message, m);
    if (seeds)
      std::ofstream(std::string(seeds) + "/of14_" + std::to_string(n), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    ++n;
  }
}

TEST(OpenflowOf14Codec, StandardBundleTypesAndOnfOnlyIn13) {
  of::BundleControl bc{4, of::BundleCtrlType::kOpenRequest, of::kBundleAtomic};
  auto b14 = of::encode(of::Message{of::kOfp14, 1, bc});
  EXPECT_EQ(b14[1], 33);
  auto b13 = of::encode(of::Message{of::kOfp13, 1, bc});
  EXPECT_EQ(b13[1], 4);  // ONF experimenter
  EXPECT_EQ(b13.size(), b14.size() + 8);
  auto add14 = of::encode(of::Message{
      of::kOfp14, 1,
      of::BundleAdd{4, 1, of::encode(of::Message{of::kOfp14, 1, of::BarrierRequest{}})}});
  EXPECT_EQ(add14[1], 34);
  // 1.4 properties after a control's body are skipped, as OVS does
  auto with_prop = b14;
  for (uint8_t x : {0xff, 0xff, 0x00, 0x0c, 0, 0, 0x23, 0x20, 0, 0, 0, 1, 0, 0, 0, 0})
    with_prop.push_back(x);
  with_prop[3] = uint8_t(with_prop.size());
  auto r = of::decode_or_error(with_prop);
  ASSERT_FALSE(r.error) << r.what;
  EXPECT_EQ(std::get<of::BundleControl>(r.message.body), bc);
  // an inner message of another version: BAD_VERSION
  auto bad = of::encode(of::Message{
      of::kOfp14, 1,
      of::BundleAdd{4, 1, of::encode(of::Message{of::kOfp13, 1, of::BarrierRequest{}})}});
  auto e = of::decode_or_error(bad);
  ASSERT_TRUE(e.error);
  auto err = std::get<of::ErrorMsg>(of::decode(*e.error).body);
  EXPECT_EQ(err.type, 1);
  EXPECT_EQ(err.code, 0);
}

TEST(OpenflowOf14Codec, PortPropertiesSkippedOrRefused) {
  auto bytes = of::encode(of::Message{of::kOfp14, 1, of::PortStatus{0, sample_port(5)}});
  // an unknown property (experimenter, 12 bytes + 4 of padding) after the ethernet one
  auto longer = bytes;
  for (uint8_t x : {0xff, 0xff, 0x00, 0x0c, 0, 0, 0x23, 0x20, 0, 0, 0, 1, 0, 0, 0, 0})
    longer.push_back(x);
  longer[3] = uint8_t(longer.size());
  longer[8 + 8 + 5] = 72 + 16;  // the port's length
  auto r = of::decode_or_error(longer);
  ASSERT_FALSE(r.error) << r.what;
  EXPECT_EQ(std::get<of::PortStatus>(r.message.body).port, sample_port(5));
  // a port without properties: features zero
  auto bare = bytes;
  bare.resize(8 + 8 + 40);
  bare[3] = uint8_t(bare.size());
  bare[8 + 8 + 5] = 40;
  r = of::decode_or_error(bare);
  ASSERT_FALSE(r.error) << r.what;
  EXPECT_EQ(std::get<of::PortStatus>(r.message.body).port.curr_speed, 0u);
  EXPECT_EQ(std::get<of::PortStatus>(r.message.body).port.name, "p5");
  // a property length past the port: BAD_LEN, never an over-read
  auto broken = bytes;
  broken[8 + 8 + 40 + 3] = 200;
  auto e = of::decode_or_error(broken);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(std::get<of::ErrorMsg>(of::decode(*e.error).body).code, 6);  // BAD_LEN
  // a port length below 40
  auto short_port = bytes;
  short_port[8 + 8 + 5] = 32;
  EXPECT_TRUE(of::decode_or_error(short_port).error);
}

TEST(OpenflowOf14Codec, OvsOfctlPrintsWhatWeEncode) {
  if (flowpath::test::shell("ovs-ofctl --version").status != 0)
    GTEST_SKIP() << "ovs-ofctl not installed";
  const char* wants[] = {
      "OFPT_PORT_STATUS (OF1.4) (xid=0x1): MOD: 3(p3): addr:02:00:00:00:00:03",
      "OFPST_PORT_DESC reply (OF1.4) (xid=0x2):",
      "OFPST_PORT reply (OF1.4) (xid=0x3): 2 ports",
      "OFPST_PORT request (OF1.4) (xid=0x4): port_no=2",
      "OFPT_BUNDLE_CONTROL (OF1.4) (xid=0x5):",
      "OFPT_FLOW_MOD (OF1.4) (xid=0x6): ADD priority=10 importance:3 actions=drop",
      "OFPT_BUNDLE_ADD_MESSAGE (OF1.4) (xid=0x6):",
      "OFPT_FEATURES_REPLY (OF1.4) (xid=0x7): dpid:0000000000001234",
  };
  auto s = samples();
  for (size_t i = 0; i < s.size(); ++i) {
    std::string out =
        flowpath::test::shell_output("ovs-ofctl ofp-print " + hexstr(of::encode(s[i].first)));
    EXPECT_NE(out.find(wants[i]), std::string::npos) << out;
    EXPECT_EQ(out.find("decode error"), std::string::npos) << out;
    EXPECT_EQ(out.find("***"), std::string::npos) << out;
  }
  std::string ports =
      flowpath::test::shell_output("ovs-ofctl ofp-print " + hexstr(of::encode(s[2].first)));
  EXPECT_NE(ports.find("frame=1008, over=1009, crc=1010"), std::string::npos) << ports;
  EXPECT_NE(ports.find("coll=1011"), std::string::npos) << ports;
  std::string st =
      flowpath::test::shell_output("ovs-ofctl ofp-print " + hexstr(of::encode(s[0].first)));
  EXPECT_NE(st.find("speed: 10000 Mbps now, 25000 Mbps max"), std::string::npos) << st;
  std::string bc =
      flowpath::test::shell_output("ovs-ofctl ofp-print " + hexstr(of::encode(s[4].first)));
  EXPECT_NE(bc.find("bundle_id=0x9 type=COMMIT_REQUEST flags=atomic ordered"), std::string::npos)
      << bc;
  std::string feat =
      flowpath::test::shell_output("ovs-ofctl ofp-print " + hexstr(of::encode(s[7].first)));
  EXPECT_NE(feat.find("capabilities: FLOW_STATS TABLE_STATS PORT_STATS BUNDLES"), std::string::npos)
      << feat;
}

/// A connection of one bridge that negotiated 1.4.
struct Conn {
  flowpath::test::BackendFixture fx;
  of::Connection c{fx.be, {}, 0};
  Conn() {
    c.take_output();
    c.receive(of::encode(of::Message{of::kOfp14, 1, of::Hello{1u << of::kOfp14}}), 0);
  }
  std::vector<of::Message> send(of::MessageBody b, uint32_t xid) {
    c.receive(of::encode(of::Message{of::kOfp14, xid, std::move(b)}), 1);
    of::Framer fr;
    fr.feed(c.take_output());
    std::vector<of::Message> out;
    while (auto f = fr.next()) out.push_back(of::decode(f->bytes));
    return out;
  }
};

TEST(OpenflowOf14Codec, ConnectionAnswersIn14) {
  Conn k;
  EXPECT_EQ(k.c.version(), of::kOfp14);
  auto feat = k.send(of::FeaturesRequest{}, 2);
  ASSERT_EQ(feat.size(), 1u);
  EXPECT_EQ(feat[0].version, of::kOfp14);
  EXPECT_TRUE(std::get<of::FeaturesReply>(feat[0].body).capabilities & of::kCapBundles);

  of::FlowMod fm;
  fm.match_format = of::MatchFormat::kOxm;
  fm.priority = 5;
  // a bundle over the standard messages: open, add, commit
  auto open = k.send(of::BundleControl{1, of::BundleCtrlType::kOpenRequest, 1}, 3);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(std::get<of::BundleControl>(open[0].body).type, of::BundleCtrlType::kOpenReply);
  auto inner = of::encode(of::Message{of::kOfp14, 4, fm});
  EXPECT_TRUE(k.send(of::BundleAdd{1, 1, inner}, 4).empty());
  auto commit = k.send(of::BundleControl{1, of::BundleCtrlType::kCommitRequest, 1}, 5);
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(std::get<of::BundleControl>(commit[0].body).type, of::BundleCtrlType::kCommitReply);
  of::StatsRequest agg;
  agg.type = of::StatsType::kAggregate;
  agg.match_format = of::MatchFormat::kOxm;
  auto a = k.send(agg, 6);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(std::get<of::StatsReply>(a[0].body).aggregate.flow_count, 1u);

  // an unknown bundle: OFPET_BUNDLE_FAILED (17) / OFPBFC_BAD_ID (2)
  auto bad = k.send(of::BundleControl{77, of::BundleCtrlType::kCommitRequest, 1}, 7);
  ASSERT_EQ(bad.size(), 1u);
  auto e = std::get<of::ErrorMsg>(bad[0].body);
  EXPECT_EQ(e.type, 17);
  EXPECT_EQ(e.code, 2);

  // an importance is kept on the rule and dumped in 1.4 (as OVS)
  fm.importance = 9;
  fm.priority = 6;
  EXPECT_TRUE(k.send(fm, 8).empty());
  EXPECT_EQ(std::get<of::StatsReply>(k.send(agg, 9)[0].body).aggregate.flow_count, 2u);
  of::StatsRequest flows;
  flows.type = of::StatsType::kFlow;
  auto dump = k.send(flows, 10);
  ASSERT_EQ(dump.size(), 1u);
  const auto& fs = std::get<of::StatsReply>(dump[0].body).flows;
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[0].priority == 6 ? fs[0].importance : fs[1].importance, 9);
  EXPECT_EQ(fs[0].priority == 6 ? fs[1].importance : fs[0].importance, 0);
}

}  // namespace of14_codec_test
