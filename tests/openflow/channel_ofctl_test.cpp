// The OpenFlow channel with real clients: a Switch over memory ports,
// served by OpenFlowService (punix: and ptcp: on 127.0.0.1, port 0) on a
// thread, driven by the real `ovs-ofctl` in its default mode and with
// -O OpenFlow13.  After every flow change, frames injected on the memory
// ports must be forwarded per the new flows (one port that should get the
// frame, one that should not).  Version negotiation over a raw socket.
// Skips when ovs-ofctl is not installed.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include "flowpath/switch/openflow_service.hpp"
#include "support/ofp_print.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

namespace of = flowpath::openflow;
using namespace flowpath::test;

namespace channel_ofctl_test {

std::vector<uint8_t> frame() {
  return (Eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")} /
          IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1, .dport = 2} /
          Payload{.n = 18})
      .bytes();
}

/// A switch with ports p1..p3 on br0 and its OpenFlow service on a thread.
class Served {
 public:
  Served() {
    static int n = 0;
    dir_ = "/tmp/fp-ofch-" + std::to_string(getpid()) + "-" + std::to_string(n++);
    mkdir(dir_.c_str(), 0700);
    cfg_ = flowpath::SwitchConfig::parse(
        "add-br br0\nadd-port br0 p1\nadd-port br0 p2\n"
        "add-port br0 p3\nset-controller br0 punix:" +
        dir_ + "/br0.mgmt ptcp:0:127.0.0.1\n");
    flowpath::Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    sw_ = std::make_unique<flowpath::Switch>(cfg_, o);
    svc_ = std::make_unique<flowpath::OpenFlowService>(*sw_, cfg_);
    thread_ = std::thread([this] { svc_->run(stop_, 20); });
  }
  ~Served() {
    stop_ = true;
    thread_.join();
    svc_.reset();
    sw_.reset();
    for (const char* f : {"/br0.mgmt", "/flows.txt"}) unlink((dir_ + f).c_str());
    rmdir(dir_.c_str());
  }
  std::string unix_target() const { return "unix:" + dir_ + "/br0.mgmt"; }
  std::string tcp_target() const {
    return "tcp:127.0.0.1:" + std::to_string(svc_->channel("br0")->bound_port(1));
  }
  const std::string& dir() const { return dir_; }

  /// ovs-ofctl OPTS CMD TARGET ARGS; fails the test on a non-zero exit.
  std::string ofctl(const std::string& opts, const std::string& cmd, const std::string& args = "",
                    const std::string& target = "") {
    std::string out = flowpath::test::shell_output("timeout 10 ovs-ofctl " + opts + " " + cmd +
                                                   " " + (target.empty() ? unix_target() : target) +
                                                   " " + args + "; echo rc=$?");
    EXPECT_NE(out.find("rc=0"), std::string::npos) << cmd << " " << args << ":\n" << out;
    return out;
  }
  /// Injects one frame on `in` and returns how many frames each port sent.
  std::array<size_t, 4> send_from(const char* in) {
    std::array<size_t, 4> before{}, after{};
    const char* names[] = {"p1", "p2", "p3", "br0"};
    for (int i = 0; i < 4; ++i) before[i] = sw_->port(names[i])->memory()->sent().size();
    sw_->port(in)->memory()->inject(frame());
    sw_->poll_once();
    for (int i = 0; i < 4; ++i) after[i] = sw_->port(names[i])->memory()->sent().size() - before[i];
    return after;
  }
  flowpath::Switch& sw() { return *sw_; }

 private:
  std::string dir_;
  flowpath::SwitchConfig cfg_;
  std::unique_ptr<flowpath::Switch> sw_;
  std::unique_ptr<flowpath::OpenFlowService> svc_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

using Counts = std::array<size_t, 4>;  // p1 p2 p3 br0

void flow_changes_forward(const std::string& opts) {
  Served s;
  EXPECT_EQ(s.send_from("p1"), (Counts{0, 0, 0, 0}));  // no flows: drop
  s.ofctl(opts, "add-flow", "'in_port=1 actions=output:2'");
  EXPECT_EQ(s.send_from("p1"), (Counts{0, 1, 0, 0}));
  s.ofctl(opts, "mod-flows", "'in_port=1 actions=output:3'");
  EXPECT_EQ(s.send_from("p1"), (Counts{0, 0, 1, 0}));
  std::ofstream(s.dir() + "/flows.txt") << "priority=10,in_port=2 actions=output:1\n"
                                        << "priority=5,in_port=3 actions=mod_vlan_vid:1,output:1\n";
  s.ofctl(opts, "add-flows", s.dir() + "/flows.txt");
  EXPECT_EQ(s.send_from("p2"), (Counts{1, 0, 0, 0}));
  EXPECT_EQ(s.send_from("p3"), (Counts{1, 0, 0, 0}));
  const auto& p1_sent = s.sw().port("p1")->memory()->sent();
  EXPECT_EQ(p1_sent[p1_sent.size() - 1].bytes[12], 0x81);  // tagged
  std::string dump = s.ofctl(opts, "dump-flows");
  EXPECT_NE(dump.find("n_packets=1, n_bytes=60, priority=10,in_port=2 actions=output:1"),
            std::string::npos)
      << dump;
  bool v13 = opts.find("OpenFlow13") != std::string::npos;
  if (getenv("FP_OFCH_VERBOSE")) std::printf("%s\n", dump.c_str());
  // OVS's own rendering of the same action list in the same version.
  std::string want = flowpath::test::shell_output(
      "ovs-ofctl " + opts + " parse-flow 'in_port=3 actions=mod_vlan_vid:1,output:1'");
  want = want.substr(want.find("actions="),
                     want.find('\n', want.find("actions=")) - want.find("actions="));
  EXPECT_NE(dump.find("priority=5,in_port=3 " + want), std::string::npos) << dump << want;
  if (v13) {
    EXPECT_NE(dump.find("set_field:4097->vlan_vid"), std::string::npos) << dump;
  }
  EXPECT_NE(s.ofctl(opts, "dump-aggregate").find("flow_count=3"), std::string::npos);
  s.ofctl(opts, "del-flows", "--strict 'priority=10,in_port=2'");
  EXPECT_EQ(s.send_from("p2"), (Counts{0, 0, 0, 0}));
  EXPECT_EQ(s.send_from("p3"), (Counts{1, 0, 0, 0}));
  s.ofctl(opts, "del-flows", "in_port=3");
  EXPECT_EQ(s.send_from("p3"), (Counts{0, 0, 0, 0}));
  EXPECT_EQ(s.send_from("p1"), (Counts{0, 0, 1, 0}));
  s.ofctl(opts, "del-flows");
  EXPECT_EQ(s.send_from("p1"), (Counts{0, 0, 0, 0}));
  dump = s.ofctl(opts, "dump-flows");
  EXPECT_EQ(dump.find("actions="), std::string::npos) << dump;
  // The same over TCP.
  s.ofctl(opts, "add-flow", "'in_port=2 actions=output:3'", s.tcp_target());
  EXPECT_EQ(s.send_from("p2"), (Counts{0, 0, 1, 0}));
  EXPECT_NE(s.ofctl(opts, "dump-flows", "", s.tcp_target()).find("in_port=2 actions=output:3"),
            std::string::npos);
}


TEST(OpenflowChannelOfctl, FlowChangesForwardDefaultMode) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  flow_changes_forward("");
}

TEST(OpenflowChannelOfctl, FlowChangesForwardOpenFlow13) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  flow_changes_forward("-O OpenFlow13");
}

TEST(OpenflowChannelOfctl, ShowPortsTablesProbe) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  Served s;
  s.send_from("p1");  // counted as received on p1
  int rx = 1;
  for (std::string opts : {"", "-O OpenFlow13"}) {
    SCOPED_TRACE(opts);
    std::string show = s.ofctl(opts, "show");
    if (getenv("FP_OFCH_VERBOSE")) std::printf("%s\n", show.c_str());
    EXPECT_NE(show.find("n_tables:254"), std::string::npos) << show;
    EXPECT_NE(show.find(" 1(p1): addr:"), std::string::npos) << show;
    EXPECT_NE(show.find(" LOCAL(br0): addr:"), std::string::npos) << show;
    std::string ports = s.ofctl(opts, "dump-ports");
    EXPECT_NE(ports.find("port  1: rx pkts=" + std::to_string(rx)), std::string::npos) << ports;
    EXPECT_NE(s.ofctl(opts, "dump-ports-desc").find(" 3(p3): addr:"), std::string::npos);
    std::string tables = s.ofctl(opts, "dump-tables");
    EXPECT_NE(tables.find("table 0"), std::string::npos) << tables;
    s.ofctl(opts, "probe");
    // Port names, resolved by ovs-ofctl from our port-desc reply.
    s.ofctl(opts, "add-flow", "'priority=77,in_port=p1 actions=output:p2'");
    std::string named = s.ofctl(opts, "--names dump-flows");
    EXPECT_NE(named.find("priority=77,in_port=p1 actions=output:p2"), std::string::npos) << named;
    EXPECT_EQ(s.send_from("p1"), (Counts{0, 1, 0, 0}));
    ++rx;
    s.ofctl(opts, "del-flows");
  }
}

TEST(OpenflowChannelOfctl, RawSocketNegotiatesVersionByBitmap) {
  Served s;  // no ovs-ofctl needed
  for (auto [bitmap, want] :
       {std::pair{1u << 1 | 1u << 6, of::kOfp10}, {1u << 1 | 1u << 4, of::kOfp13}}) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s/br0.mgmt", s.dir().c_str());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    auto out = of::encode(of::Message{6, 1, of::Hello{bitmap}});
    auto echo = of::encode(of::Message{want, 2, of::EchoRequest{{9}}});
    out.insert(out.end(), echo.begin(), echo.end());
    ASSERT_EQ(write(fd, out.data(), out.size()), ssize_t(out.size()));
    of::Framer fr;
    std::vector<of::Message> got;
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (got.size() < 2) {
      uint8_t buf[512];
      ssize_t n = read(fd, buf, sizeof buf);
      ASSERT_GT(n, 0);
      fr.feed(std::span(buf, size_t(n)));
      while (auto f = fr.next()) got.push_back(of::decode(f->bytes));
    }
    close(fd);
    EXPECT_TRUE(std::holds_alternative<of::Hello>(got[0].body));
    EXPECT_EQ(got[1].version, want);
    EXPECT_EQ(std::get<of::EchoReply>(got[1].body).data, std::vector<uint8_t>{9});
  }
}

// With the PMD on its own thread: ovs-ofctl returns after our barrier
// reply, and the very next frame follows the new flow (no stale megaflow).
// Frames are injected and counted under the PMD's mutex (MemoryPort is not
// thread-safe; the PMD holds that mutex around each receive).
TEST(OpenflowChannelOfctl, AfterTheBarrierTheRunningDatapathUsesTheNewFlow) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  Served s;
  flowpath::Switch& sw = s.sw();
  auto sent = [&](const char* p) {
    std::lock_guard l(sw.pmd(0).mutex());
    return sw.port(p)->memory()->sent().size();
  };
  auto inject_and_wait = [&](size_t expect_total) {
    {
      std::lock_guard l(sw.pmd(0).mutex());
      sw.port("p1")->memory()->inject(frame());
    }
    for (int i = 0; i < 2000; ++i) {
      if (sent("p2") + sent("p3") >= expect_total) return;
      usleep(1000);
    }
  };
  s.ofctl("-O OpenFlow13", "add-flow", "'in_port=1 actions=output:2'");
  sw.start();
  for (size_t i = 1; i <= 5; ++i) inject_and_wait(i);  // megaflow in place
  EXPECT_EQ(sent("p2"), 5u);
  for (int round = 0; round < 4; ++round) {
    const char* to = round % 2 ? "2" : "3";
    s.ofctl("-O OpenFlow13", "mod-flows", std::string("'in_port=1 actions=output:") + to + "'");
    size_t p2 = sent("p2"), p3 = sent("p3");
    inject_and_wait(p2 + p3 + 1);
    EXPECT_EQ(sent(round % 2 ? "p2" : "p3"), (round % 2 ? p2 : p3) + 1) << "round " << round;
    EXPECT_EQ(sent(round % 2 ? "p3" : "p2"), round % 2 ? p3 : p2) << "round " << round;
  }
  sw.stop();
}

// A PMD held up inside an empty poll (the test holds the mutex the PMD
// takes around each receive, as a preemption there would leave it) is
// between batches: the barrier does not wait for its next pass (it used to
// wait up to 5 s here), and its next batch forwards by the new flow.
TEST(OpenflowChannelOfctl, ABarrierDoesNotWaitForAPmdBetweenBatches) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  Served s;
  flowpath::Switch& sw = s.sw();
  auto sent = [&](const char* p) {
    std::lock_guard l(sw.pmd(0).mutex());
    return sw.port(p)->memory()->sent().size();
  };
  auto wait_sent = [&](const char* p, size_t n) {
    for (int i = 0; i < 2000 && sent(p) < n; ++i) usleep(1000);
    return sent(p);
  };
  s.ofctl("-O OpenFlow13", "add-flow", "'in_port=1 actions=output:2'");
  sw.start();
  {
    std::lock_guard l(sw.pmd(0).mutex());
    sw.port("p1")->memory()->inject(frame());
  }
  ASSERT_EQ(wait_sent("p2", 1), 1u);  // the megaflow is in place
  {
    std::unique_lock held(sw.pmd(0).mutex());
    auto mod = std::async(std::launch::async, [&] {
      s.ofctl("-O OpenFlow13", "mod-flows", "'in_port=1 actions=output:3'");
    });
    EXPECT_EQ(mod.wait_for(std::chrono::seconds(3)), std::future_status::ready)
        << "mod-flows (flow-mod + barrier) waited for the held-up PMD";
    sw.port("p1")->memory()->inject(frame());
    mod.wait();
  }
  EXPECT_EQ(wait_sent("p3", 1), 1u);
  EXPECT_EQ(sent("p2"), 1u);
  sw.stop();
}

// 3,000 flows: add-flows, then dump-flows and dump-aggregate read replies
// split over several multipart messages; del-flows empties the table.
TEST(OpenflowChannelOfctl, ManyFlowsDumpAcrossMultipartReplies) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  Served s;
  {
    std::ofstream out(s.dir() + "/flows.txt");
    for (int i = 0; i < 3000; ++i)
      out << "priority=" << 100 + i % 7 << ",udp,nw_dst=198.51.100." << i % 250
          << ",tp_dst=" << 1000 + i << " actions=output:" << 1 + i % 3 << "\n";
  }
  for (std::string opts : {"", "-O OpenFlow13"}) {
    SCOPED_TRACE(opts);
    s.ofctl(opts, "add-flows", s.dir() + "/flows.txt");
    std::string dump = s.ofctl(opts, "dump-flows");
    size_t lines = 0;
    for (size_t p = 0; (p = dump.find(" cookie=", p)) != std::string::npos; ++p) ++lines;
    EXPECT_EQ(lines, 3000u);
    EXPECT_NE(s.ofctl(opts, "dump-aggregate").find("flow_count=3000"), std::string::npos);
    s.ofctl(opts, "del-flows");
    EXPECT_NE(s.ofctl(opts, "dump-aggregate").find("flow_count=0"), std::string::npos);
  }
}

}  // namespace channel_ofctl_test
