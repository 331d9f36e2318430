// Live reconfiguration (Switch::apply) over memory ports: random add /
// remove / retag / move / patch sequences, after each of which the live
// switch must forward exactly as a switch built from scratch on the same
// configuration; datapath numbers not reused while a megaflow names them;
// per-port open errors; untouched ports lose nothing while PMD threads run
// and the configuration changes under them; conservation throughout.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "flowpath/switch/switch.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace reconfig_test {

using namespace flowpath::test;

std::vector<uint8_t> frame(uint64_t dst, uint64_t src, uint16_t id = 0) {
  auto m = [](uint64_t v) {
    char s[18];
    std::snprintf(s, sizeof s, "02:00:00:00:%02x:%02x", unsigned(v >> 8) & 0xff,
                  unsigned(v) & 0xff);
    return mac(s);
  };
  return (Eth{m(dst), m(src)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
          UDP{.sport = id, .dport = 2} / Payload{.n = 18})
      .bytes();
}
std::vector<uint8_t> bcast(uint64_t src) {
  auto f = frame(0, src);
  std::fill(f.begin(), f.begin() + 6, 0xff);
  return f;
}

Switch::Options memory(std::vector<int> cores = {-1}) {
  Switch::Options o;
  o.memory_ports = true;
  o.pmd_cores = std::move(cores);
  return o;
}

// A random configuration: bridges br0, br1 (br0 always), ports p0..p7
// absent or on a bridge with a random VLAN policy, sometimes a patch pair.
std::string random_config(std::mt19937& rng) {
  auto pick = [&](int n) { return int(rng() % unsigned(n)); };
  bool br1 = pick(3) != 0;
  std::string s = "add-br br0\nadd-flow br0 priority=0 actions=NORMAL\n";
  if (br1) s += "add-br br1\nadd-flow br1 priority=0 actions=NORMAL\n";
  for (int i = 0; i < 8; ++i) {
    int where = pick(4);  // 0: absent
    if (where == 0 || (where == 3 && !br1)) continue;
    s += "add-port br" + std::to_string(where == 3) + " p" + std::to_string(i) +
         " ofport=" + std::to_string(i + 1);
    switch (pick(4)) {
      case 0:
        break;  // trunk of all VLANs
      case 1:
        s += " tag=1";
        break;
      case 2:
        s += " tag=2";
        break;
      case 3:
        s += " trunks=1";
        break;
    }
    s += "\n";
  }
  if (br1 && pick(2))
    s += "add-port br0 pa type=patch peer=pb\nadd-port br1 pb type=patch peer=pa\n";
  return s;
}

// Every port's output for one fixed exchange: each port broadcasts (a
// tagged and an untagged frame), then each sends unicast to every other.
std::map<std::string, std::vector<std::vector<uint8_t>>> exchange(Switch& sw) {
  sw.ofproto().fdb_flush();
  std::vector<SwitchPort*> ports;
  for (SwitchPort* p : sw.ports())
    if (p->name().starts_with("p")) ports.push_back(p);
  std::sort(ports.begin(), ports.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
  std::map<std::string, size_t> before;
  for (SwitchPort* p : sw.ports()) before[p->name()] = p->memory()->sent().size();
  auto id = [](SwitchPort* p) { return uint64_t(p->name()[1] - '0' + 1); };
  for (SwitchPort* p : ports) {
    p->memory()->inject(bcast(id(p)));
    auto tagged = bcast(id(p));
    tagged.insert(tagged.begin() + 12, {0x81, 0x00, 0x00, 0x01});
    p->memory()->inject(tagged);
    while (sw.poll_once()) {
    }
  }
  for (SwitchPort* p : ports)
    for (SwitchPort* q : ports) {
      if (p == q) continue;
      p->memory()->inject(frame(id(q), id(p), uint16_t(id(q))));
      while (sw.poll_once()) {
      }
    }
  std::map<std::string, std::vector<std::vector<uint8_t>>> out;
  for (SwitchPort* p : sw.ports()) {
    const FrameQueue& s = p->memory()->sent();
    for (size_t i = before[p->name()]; i < s.size(); ++i)
      out[p->name()].emplace_back(s[i].bytes.begin(), s[i].bytes.end());
  }
  return out;
}

// Every packet a PMD received was sent once (final output) or dropped.
void expect_conservation(Switch& sw) {
  for (size_t i = 0; i < sw.num_pmds(); ++i) {
    std::lock_guard lock(sw.pmd(i).mutex());
    const SwitchSinkStats& s = sw.pmd(i).sink_stats();
    EXPECT_EQ(sw.pmd(i).datapath().stats().packets, s.finals + s.drops) << "pmd " << i;
  }
}

void random_sequence(unsigned seed, std::vector<int> cores) {
  std::mt19937 rng(seed);
  Switch live(memory(cores));
  for (int step = 0; step < 25; ++step) {
    std::string text = random_config(rng);
    SwitchConfig cfg = SwitchConfig::parse(text);
    ApplyResult r = live.apply(cfg);
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
    ASSERT_TRUE(r.in_effect);
    Switch fresh(cfg, memory(cores));
    auto got = exchange(live), want = exchange(fresh);
    ASSERT_EQ(got, want) << "seed " << seed << " step " << step << "\n" << text;
    ASSERT_EQ(live.ports().size(), fresh.ports().size());
    expect_conservation(live);
  }
}

TEST(SwitchReconfig, RandomSequencesForwardAsAFreshSwitch) {
  for (unsigned seed = 1; seed <= 6; ++seed) random_sequence(seed, {-1});
}
TEST(SwitchReconfig, RandomSequencesWithTwoPmds) {
  for (unsigned seed = 11; seed <= 14; ++seed) random_sequence(seed, {-1, -1});
}

constexpr const char* kBase = R"(
add-br br0
add-port br0 p1 tag=1
add-port br0 p2 tag=1
add-port br0 p3 tag=2
add-flow br0 priority=0 actions=NORMAL
)";

TEST(ConfigDiff, KeyedByNameRetagInPlaceOtherChangesReAdd) {
  SwitchConfig a = SwitchConfig::parse(R"(
add-br br0
add-port br0 p1 tag=1
add-port br0 p2 tag=1
add-port br0 p3
add-port br0 p4
add-br br1
add-flow br0 priority=0 actions=NORMAL
)");
  SwitchConfig b = SwitchConfig::parse(R"(
add-br br0
add-port br0 p1 tag=2
add-port br0 p3 type=internal
add-port br0 p4 ofport=9
add-br br2
add-port br2 p2 tag=1
add-flow br0 priority=1 actions=NORMAL
)");
  ConfigDiff d = diff_config(a, b);
  ASSERT_EQ(d.retag_ports.size(), 1u);
  EXPECT_EQ(d.retag_ports[0].second.name, "p1");
  std::set<std::string> removed(d.remove_ports.begin(), d.remove_ports.end());
  EXPECT_EQ(removed, (std::set<std::string>{"br1", "p2", "p3", "p4"}));  // br1: its LOCAL port
  std::set<std::string> added;
  for (const auto& [br, p] : d.add_ports) added.insert(br + "/" + p.name);
  EXPECT_EQ(added, (std::set<std::string>{"br0/p3", "br0/p4", "br2/p2", "br2/br2"}));
  EXPECT_EQ(d.remove_bridges, std::vector<std::string>{"br1"});
  EXPECT_EQ(d.add_bridges, std::vector<std::string>{"br2"});
  ASSERT_EQ(d.del_flows.size(), 1u);
  EXPECT_EQ(d.del_flows[0].second.text, "priority=0 actions=NORMAL");
  ASSERT_EQ(d.add_flows.size(), 1u);
  EXPECT_EQ(d.add_flows[0].second.text, "priority=1 actions=NORMAL");
  EXPECT_TRUE(diff_config(b, b).empty());
}

TEST(SwitchReconfig, RetagMovesIsolationInPlace) {
  Switch sw(SwitchConfig::parse(kBase), memory());
  SwitchPort* p3 = sw.port("p3");
  sw.port("p1")->memory()->inject(bcast(1));
  sw.poll_once();
  EXPECT_EQ(p3->memory()->sent().size(), 0u);  // VLAN 2: isolated
  EXPECT_EQ(sw.port("p2")->memory()->sent().size(), 1u);
  auto r = sw.apply(SwitchConfig::parse(R"(
add-br br0
add-port br0 p1 tag=1
add-port br0 p2 tag=2
add-port br0 p3 tag=1
add-flow br0 priority=0 actions=NORMAL
)"));
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(sw.port("p3"), p3);  // the same device: changed in place
  sw.port("p1")->memory()->inject(bcast(1));
  sw.poll_once();
  EXPECT_EQ(p3->memory()->sent().size(), 1u);
  EXPECT_EQ(sw.port("p2")->memory()->sent().size(), 1u);  // now isolated
  expect_conservation(sw);
}

TEST(SwitchReconfig, RemovedNumberIsNotReachedByAnOldMegaflow) {
  Switch sw(SwitchConfig::parse(kBase), memory());
  uint32_t old_dp = sw.port("p2")->dp_port();
  sw.port("p2")->memory()->inject(bcast(2));  // learn MAC 2 on p2
  sw.port("p1")->memory()->inject(frame(2, 1));
  while (sw.poll_once()) {
  }
  ASSERT_EQ(sw.port("p2")->memory()->sent().size(), 1u);
  // p2 goes, p9 (VLAN 2) comes in the same change: not p2's number, which
  // a megaflow may name until the fence; the next change may reuse it.
  // (p3 keeps its OpenFlow number, so it is not re-added: a device closed
  // and opened again in one change fences before the adds, and then the
  // numbers freed by that fence are reused at once.)
  std::string cfg = R"(
add-br br0
add-port br0 p1 tag=1
add-port br0 p3 tag=2 ofport=3
add-port br0 p9 tag=2
add-flow br0 priority=0 actions=NORMAL
)";
  ASSERT_TRUE(sw.apply(SwitchConfig::parse(cfg)).errors.empty());
  EXPECT_EQ(sw.port("p2"), nullptr);
  EXPECT_NE(sw.port("p9")->dp_port(), old_dp);
  ASSERT_TRUE(sw.apply(SwitchConfig::parse(cfg + "add-port br0 p10 tag=2\n")).errors.empty());
  EXPECT_EQ(sw.port("p10")->dp_port(), old_dp);
  sw.port("p1")->memory()->inject(frame(2, 1));  // the megaflow p1 -> old_dp is gone
  while (sw.poll_once()) {
  }
  EXPECT_EQ(sw.port("p9")->memory()->sent().size(), 0u);
  EXPECT_EQ(sw.port("p10")->memory()->sent().size(), 0u);
  EXPECT_EQ(sw.port("p3")->memory()->sent().size(), 0u);
  expect_conservation(sw);
}

TEST(SwitchReconfig, AFailedPortIsAnErrorForItAloneAndIsRetried) {
  Switch sw(SwitchConfig::parse(kBase), memory());
  std::string with_bad = std::string(kBase) + "add-port br0 bad type=pcap\nadd-port br0 p4 tag=1\n";
  ApplyResult r = sw.apply(SwitchConfig::parse(with_bad));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].name, "bad");
  EXPECT_NE(r.errors[0].message.find("port bad: type pcap"), std::string::npos);
  EXPECT_EQ(sw.port("bad"), nullptr);
  EXPECT_EQ(sw.config().find_port("bad"), nullptr);  // not running: retried next time
  sw.port("p1")->memory()->inject(bcast(1));
  sw.poll_once();
  EXPECT_EQ(sw.port("p2")->memory()->sent().size(), 1u);
  EXPECT_EQ(sw.port("p4")->memory()->sent().size(), 1u);
  EXPECT_EQ(sw.apply(SwitchConfig::parse(with_bad)).errors.size(), 1u);
}

TEST(SwitchReconfig, BridgesAndPatchPairsComeAndGo) {
  Switch sw(SwitchConfig::parse(kBase), memory());
  uint64_t g0 = sw.ofproto().generation();
  std::string two = std::string(kBase) + R"(
add-port br0 pa type=patch peer=pb
add-br br1
add-port br1 pb type=patch peer=pa
add-port br1 q1 tag=1
add-flow br1 priority=0 actions=NORMAL
)";
  ASSERT_TRUE(sw.apply(SwitchConfig::parse(two)).errors.empty());
  sw.port("p1")->memory()->inject(bcast(1));
  sw.poll_once();
  EXPECT_EQ(sw.port("q1")->memory()->sent().size(), 1u);  // across the patch pair
  ApplyResult r = sw.apply(SwitchConfig::parse(kBase));
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(sw.ofproto().find_bridge("br1"), nullptr);
  EXPECT_EQ(sw.port("q1"), nullptr);
  EXPECT_GT(r.generation, g0);  // never falls, even when a bridge goes
  sw.port("p1")->memory()->inject(bcast(1));
  sw.poll_once();
  EXPECT_EQ(sw.port("p2")->memory()->sent().size(), 2u);
  expect_conservation(sw);
}

// PMD threads running; p1 -> p2 traffic flows while other ports come,
// go and change VLAN: not one packet of p1's is lost.
TEST(SwitchReconfig, UntouchedPortsLoseNothingWhileTheConfigurationChanges) {
  Switch sw(SwitchConfig::parse(kBase), memory({-1, -1}));
  SwitchPort* p1 = sw.port("p1");
  SwitchPort* p2 = sw.port("p2");
  {
    std::lock_guard lock(p2->domain());
    p2->memory()->inject(bcast(2));  // learn MAC 2
  }
  sw.start();
  std::mt19937 rng(7);
  constexpr int kPackets = 3000;
  for (int i = 0; i < kPackets; ++i) {
    {
      std::lock_guard lock(p1->domain());
      p1->memory()->inject(frame(2, 1, uint16_t(i)));
    }
    if (i % 100 == 50) {
      std::string text = std::string(kBase);
      for (int k = 4; k < 8; ++k)
        if (rng() % 2)
          text +=
              "add-port br0 p" + std::to_string(k) + " tag=" + std::to_string(rng() % 3 + 1) + "\n";
      if (rng() % 2) text += "add-br br1\nadd-port br1 q" + std::to_string(rng() % 3) + "\n";
      ApplyResult r = sw.apply(SwitchConfig::parse(text));
      ASSERT_TRUE(r.errors.empty());
      ASSERT_TRUE(r.in_effect);
    }
  }
  auto delivered = [&] {
    std::lock_guard lock(p2->domain());
    return p2->memory()->sent().size();
  };
  for (int t = 0; t < 2000 && delivered() < kPackets; ++t)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  sw.stop();
  EXPECT_EQ(delivered(), size_t(kPackets));
  EXPECT_EQ(p1->stats().rx_dropped, 0u);
  expect_conservation(sw);
}

// PMD threads running: a port removed and added again at once, 20 times.
// Each removed port closes on the closer thread after the change is in
// effect; the re-add waits for its own name's close, never fails, and the
// port forwards each time.
TEST(SwitchReconfig, RemovedPortsCloseInTheBackgroundAndTheirNamesComeBack) {
  Switch sw(SwitchConfig::parse(kBase), memory({-1, -1}));
  sw.start();
  const std::string with = std::string(kBase) + "add-port br0 p9 tag=1\n";
  std::vector<SwitchPort*> seen;
  for (int i = 0; i < 20; ++i) {
    ApplyResult r = sw.apply(SwitchConfig::parse(with));
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
    ASSERT_TRUE(r.in_effect);
    ASSERT_EQ(r.opened, std::vector<std::string>{"p9"});
    ASSERT_NE(sw.port("p9"), nullptr);
    seen.push_back(sw.port("p9"));
    r = sw.apply(SwitchConfig::parse(kBase));
    ASSERT_TRUE(r.in_effect);
    EXPECT_TRUE(r.opened.empty());
    EXPECT_EQ(sw.port("p9"), nullptr);
  }
  sw.finish_closing();
  EXPECT_EQ(sw.closing(), 0u);
  for (size_t i = 0; i < sw.num_pmds(); ++i)  // every removed port left the rx lists
    for (SwitchPort* p : sw.pmd(i).rx_ports()) EXPECT_NE(p->name(), "p9");
  sw.stop();
}

// The closer alone: ports queued, a wait for one device, then all closed.
TEST(PortCloser, ClosesQueuedPortsAndWaitsForADevice) {
  std::mutex domain;
  PortCloser closer;
  for (int i = 0; i < 5; ++i) {
    MemoryPort::Config mc;
    mc.port_no = uint32_t(i + 1);
    auto p = std::make_unique<SwitchPort>("m" + std::to_string(i), uint32_t(i + 1), 0,
                                          std::make_unique<MemoryPort>(mc));
    p->set_domain(&domain);
    closer.close_later(std::move(p));
  }
  closer.wait_closed("m4");  // the last queued: the others closed before it
  EXPECT_EQ(closer.pending(), 0u);
  closer.wait_closed("never-queued");  // returns at once
  closer.close_all();
  EXPECT_EQ(closer.pending(), 0u);
}

}  // namespace reconfig_test
}  // namespace flowpath
