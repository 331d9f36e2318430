// The compute node of DESIGN.md in replay mode: pcap in, a real Datapath
// (caches + upcalls into the bridges), pcap out.  No root needed.
#include "flowpath/bridge/replay.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "flowpath/bridge/views.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace replay_test {

using namespace flowpath::test;
namespace fs = std::filesystem;

constexpr const char* kVm1 = "52:54:00:00:00:01";
constexpr const char* kVm2 = "52:54:00:00:00:02";
constexpr const char* kVm3 = "52:54:00:00:00:03";
constexpr const char* kRemote = "52:54:00:00:00:64";
constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";

struct Frame {
  std::vector<uint8_t> bytes;
  FlowKey key;
};

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("flowpath-replay-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes frames to in/NAME.pcap, timestamps t0, t0+step, ...
  std::string input(const std::string& name, const std::vector<std::vector<uint8_t>>& frames,
                    uint64_t t0, uint64_t step = 1000) {
    std::string path = (dir_ / "in" / (name + ".pcap")).string();
    PcapWriter w(path);
    for (size_t i = 0; i < frames.size(); ++i) w.write(frames[i], t0 + i * step);
    w.close();
    return path;
  }
  std::vector<Frame> output(const std::string& port) {
    std::vector<Frame> out;
    PcapReader r((dir_ / "out" / (port + ".pcap")).string());
    PacketBuffer b;
    while (r.next(b)) {
      Frame f{std::vector<uint8_t>(b.packet().bytes().begin(), b.packet().bytes().end()), {}};
      parse_packet(b.packet(), f.key);
      out.push_back(f);
    }
    EXPECT_EQ(r.error(), "");
    return out;
  }
  static uint16_t vid(const Frame& f) {
    return (f.key.vlans[0].tci.host() & kVlanCfi) ? f.key.vlans[0].tci.host() & kVlanVidMask
                                                  : 0xffff;
  }
  static std::vector<uint8_t> arp(const char* src, const char* dst, uint16_t op, const char* spa,
                                  const char* tpa, int tag = -1) {
    ARP a{.op = op, .sha = mac(src), .spa = ipv4(spa), .tpa = ipv4(tpa)};
    if (tag >= 0) return (Eth{mac(dst), mac(src)} / Dot1Q{.vid = uint16_t(tag)} / a).bytes();
    return (Eth{mac(dst), mac(src)} / a).bytes();
  }

  Ofproto make_ofproto(const Clock* clock = Clock::system()) {
    return Ofproto(
        SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"),
        Ofproto::Options{clock, {}});
  }

  fs::path dir_;
};

TEST_F(ReplayTest, ArpRequestAndReplyCrossTheVlanTranslation) {
  Ofproto of = make_ofproto();
  auto vm1 = input("vm1", {arp(kVm1, kBcast, 1, "192.0.2.1", "192.0.2.100")}, 1000);
  auto eth2 = input("eth2", {arp(kRemote, kVm1, 2, "192.0.2.100", "192.0.2.1", 1000)}, 2000);
  auto vm3 = input("vm3", {arp(kVm3, kBcast, 1, "198.51.100.3", "198.51.100.100")}, 3000);
  Replay r(of, {{"vm1", vm1}, {"eth2", eth2}, {"vm3", vm3}}, (dir_ / "out").string());
  EXPECT_EQ(r.run(), 3u);

  auto on_eth2 = output("eth2");
  ASSERT_EQ(on_eth2.size(), 2u);
  EXPECT_EQ(vid(on_eth2[0]), 1000);  // vm1's request, provider VLAN 1000
  EXPECT_EQ(on_eth2[0].key.dl_src, mac(kVm1));
  EXPECT_EQ(vid(on_eth2[1]), 1001);  // vm3's request, provider VLAN 1001
  EXPECT_EQ(on_eth2[1].key.dl_src, mac(kVm3));

  auto on_vm2 = output("vm2");
  ASSERT_EQ(on_vm2.size(), 1u);  // vm1's broadcast, not vm3's, not the reply
  EXPECT_EQ(vid(on_vm2[0]), 0xffff);
  EXPECT_EQ(on_vm2[0].key.dl_src, mac(kVm1));

  auto on_vm1 = output("vm1");
  ASSERT_EQ(on_vm1.size(), 1u);  // the reply, untagged
  EXPECT_EQ(vid(on_vm1[0]), 0xffff);
  EXPECT_EQ(on_vm1[0].key.dl_src, mac(kRemote));
  EXPECT_EQ(on_vm1[0].key.nw_proto, 2);  // ARP reply

  for (const auto& f : output("vm3")) EXPECT_NE(f.key.dl_src, mac(kVm1)) << "VLAN leak to vm3";
  EXPECT_TRUE(fs::exists(dir_ / "out" / "br-int.pcap"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "br-eth2.pcap"));
  EXPECT_EQ(r.counters(of.find_port("vm1")->dp_port).rx, 1u);
  EXPECT_EQ(r.counters(of.find_port("eth2")->dp_port).tx, 2u);
}

TEST_F(ReplayTest, DoubleTaggedFrameFromVmIsDroppedAndCounted) {
  Ofproto of = make_ofproto();
  auto frame = (Eth{mac(kBcast), mac(kVm1)} / Dot1Q{.vid = 1001} / Dot1Q{.vid = 1} /
                IPv4{.src = "192.0.2.1", .dst = "198.51.100.100"} / UDP{})
                   .bytes();
  auto vm1 = input("vm1", {frame, frame}, 1000);
  Replay r(of, {{"vm1", vm1}}, (dir_ / "out").string());
  r.run();
  EXPECT_EQ(r.counters(of.find_port("vm1")->dp_port).drops, 2u);
  for (const char* p : {"vm2", "vm3", "eth2", "br-int", "br-eth2"})
    EXPECT_TRUE(output(p).empty()) << p;
}

TEST_F(ReplayTest, ProviderFramesOnUnknownVlansAreDroppedByTheFlows) {
  Ofproto of = make_ofproto();
  auto frame = (Eth{mac(kBcast), mac(kRemote)} / Dot1Q{.vid = 5} / IPv4{} / UDP{}).bytes();
  auto eth2 = input("eth2", std::vector<std::vector<uint8_t>>(5, frame), 1000);
  Replay r(of, {{"eth2", eth2}}, (dir_ / "out").string());
  r.run();
  for (const char* p : {"vm1", "vm2", "vm3", "br-int"}) EXPECT_TRUE(output(p).empty()) << p;
  // br-int's priority=2 drop rule counted every one of them.
  std::string flows = dump_flows(of, "br-int");
  EXPECT_NE(flows.find("n_packets=5, n_bytes="), std::string::npos) << flows;
  EXPECT_NE(flows.find("priority=2,in_port=int-br-eth2 actions=drop"), std::string::npos) << flows;
}

// A MAC flood through the whole pipeline (caches, revalidation) with a
// small table; the 100,000-address flood runs on translation alone below.
TEST_F(ReplayTest, MacFloodThroughTheDatapathKeepsKnownHostsUnicast) {
  Ofproto of(SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"),
             Ofproto::Options{Clock::system(), MacTableConfig{.capacity = 256}});
  std::vector<std::vector<uint8_t>> flood;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    EthAddr src = u64_to_eth((rng() & 0xfcffffffffffull) | 0x020000000000ull);
    flood.push_back((Eth{mac(kVm2), Mac{src}} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                     UDP{.sport = 1, .dport = 2})
                        .bytes());
  }
  auto vm2 = input("vm2", {arp(kVm2, kBcast, 1, "192.0.2.2", "192.0.2.1")}, 1000);
  auto eth2 = input("eth2", {arp(kRemote, kBcast, 1, "192.0.2.100", "192.0.2.1", 1000)}, 2000);
  auto vm1 = input("vm1", flood, 5000, 10);
  Replay r(of, {{"vm1", vm1}, {"vm2", vm2}, {"eth2", eth2}}, (dir_ / "out").string());
  r.run();
  const MacTable& macs = of.find_bridge("br-int")->macs();
  EXPECT_LE(macs.size(), macs.capacity());
  EXPECT_GT(macs.evictions(), 0u);
  EXPECT_TRUE(macs.lookup(1, mac(kVm2)).has_value());
  EXPECT_TRUE(macs.lookup(1, mac(kRemote)).has_value());
  // The remote's broadcast plus every flood frame, each unicast to vm2.
  EXPECT_EQ(output("vm2").size(), 1u + flood.size());
  EXPECT_EQ(output("vm3").size(), 0u);
  EXPECT_EQ(output("eth2").size(), 1u);  // vm2's broadcast only
  EXPECT_EQ(r.counters(of.find_port("vm1")->dp_port).drops, 0u);
}

TEST(MacFlood, HundredThousandSourcesNeverPassCapacity) {
  Ofproto of(SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"));
  auto xlate = [&](const std::vector<uint8_t>& f, const char* port) {
    PacketBuffer b(f, of.find_port(port)->dp_port);
    FlowKey k;
    parse_packet(b.packet(), k);
    XlateResult x;
    of.translate(k, true, x, nullptr);
    return format_dp_actions(x.actions, [&](uint32_t n) { return of.dp_port_name(n); });
  };
  xlate((Eth{mac(kBcast), mac(kVm2)} / ARP{.sha = mac(kVm2)}).bytes(), "vm2");
  xlate((Eth{mac(kBcast), mac(kRemote)} / Dot1Q{.vid = 1000} / ARP{.sha = mac(kRemote)}).bytes(),
        "eth2");
  const MacTable& macs = of.find_bridge("br-int")->macs();
  std::mt19937_64 rng(11);
  auto frame = (Eth{mac(kVm2), mac(kVm1)} / IPv4{} / UDP{}).bytes();
  for (int i = 0; i < 100000; ++i) {
    EthAddr src = u64_to_eth((rng() & 0xfcffffffffffull) | 0x020000000000ull);
    std::copy(src.b.begin(), src.b.end(), frame.begin() + 6);
    ASSERT_EQ(xlate(frame, "vm1"), "vm2") << "flood " << i;
    ASSERT_LE(macs.size(), macs.capacity());
  }
  EXPECT_EQ(macs.capacity(), 8192u);
  EXPECT_GT(macs.evictions(), 90000u);
  auto to_remote = (Eth{mac(kRemote), mac(kVm2)} / IPv4{} / UDP{}).bytes();
  EXPECT_EQ(xlate(to_remote, "vm2"), "push_vlan(vid=1000,pcp=0),eth2");
}

TEST_F(ReplayTest, MissingInputPortAndFileAreClearErrors) {
  Ofproto of = make_ofproto();
  try {
    Replay r(of, {{"vm9", "x.pcap"}}, (dir_ / "out").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--in vm9=x.pcap: no port named vm9");
  }
  EXPECT_THROW(Replay(of, {{"vm1", (dir_ / "nope.pcap").string()}}, (dir_ / "out").string()),
               Error);
}

TEST(Aging, LearnedHostAgesOutAndTrafficFloodsAgain) {
  ManualClock clock;
  Ofproto of(SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"),
             Ofproto::Options{&clock, {}});
  auto key = [&](const std::vector<uint8_t>& f, const char* port) {
    PacketBuffer b(f, of.find_port(port)->dp_port);
    FlowKey k;
    parse_packet(b.packet(), k);
    return k;
  };
  auto from_vm2 = (Eth{mac(kBcast), mac(kVm2)} / ARP{.sha = mac(kVm2)}).bytes();
  auto to_vm2 = (Eth{mac(kVm2), mac(kVm1)} / IPv4{} / UDP{}).bytes();
  XlateResult x;
  of.translate(key(from_vm2, "vm2"), true, x, nullptr);
  XlateResult uni;
  of.translate(key(to_vm2, "vm1"), true, uni, nullptr);
  ASSERT_EQ(uni.actions.size(), 1u);
  clock.advance_s(299);
  EXPECT_EQ(of.run_periodic(), 0u);
  uint64_t g = of.generation();
  clock.advance_s(2);
  EXPECT_GE(of.run_periodic(), 1u);
  EXPECT_NE(of.generation(), g);
  XlateResult flooded;
  of.translate(key(to_vm2, "vm1"), true, flooded, nullptr);
  EXPECT_GT(flooded.actions.size(), 1u);
}

}  // namespace replay_test
}  // namespace flowpath
