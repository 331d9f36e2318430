// A `system` switch port's move from its packet socket to AF_XDP
// (switch/switch_port.hpp, "The move"), over veths in a private network
// namespace: a continuous stream of numbered frames crosses a port added
// mid-stream, and every frame from the first forwarded on arrives exactly
// once (the control: the same stream through an afxdp-typed port, and the
// checker catching a gap and a double); a missing device errors that port
// only; a delete during the move leaves nothing attached; a re-add works;
// a port moved between bridges in one change keeps its XDP program.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "flowpath/switch/switch.hpp"
#include "support/private_netns.hpp"

namespace flowpath {
namespace system_port_move_test {

using test::sh;
using test::sh_out;

constexpr uint32_t kFrames = 40000;

// The first number received on, each must arrive exactly once: "" or the
// first fault found.
std::string check_stream(const std::map<uint32_t, int>& seen, uint32_t sent) {
  if (seen.empty()) return "nothing arrived";
  for (uint32_t s = seen.begin()->first; s < sent; ++s) {
    auto it = seen.find(s);
    if (it == seen.end()) return "frame " + std::to_string(s) + " lost";
    if (it->second != 1)
      return "frame " + std::to_string(s) + " arrived " + std::to_string(it->second) + " times";
  }
  return "";
}

// The number a 64-byte test frame (test::udp_frame with this tag) carries.
std::optional<uint32_t> frame_number(const Packet& p, uint8_t tag) {
  const uint8_t* d = p.data();
  if (p.size() != 64 || d[12] != 0x08 || d[42] != tag) return std::nullopt;
  uint32_t s;
  std::memcpy(&s, d + 46, 4);
  return s;
}

TEST(StreamCheck, CatchesAGapAndADouble) {  // the checker can fail
  std::map<uint32_t, int> ok{{3, 1}, {4, 1}, {5, 1}};
  EXPECT_EQ(check_stream(ok, 6), "");
  EXPECT_EQ(check_stream({{3, 1}, {5, 1}}, 6), "frame 4 lost");
  EXPECT_EQ(check_stream({{3, 1}, {4, 2}, {5, 1}}, 6), "frame 4 arrived 2 times");
  EXPECT_EQ(check_stream(ok, 7), "frame 6 lost");
}

class SystemPortMove : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = test::private_netns();
    if (!why.empty()) GTEST_SKIP() << "skipped: " << why;
    if (!test::af_xdp_available()) GTEST_SKIP() << "skipped: no AF_XDP sockets here";
    for (const char* v : {"fpm-a", "fpm-b"}) {
      std::string n = v;
      ASSERT_EQ(sh("ip link add " + n + "0 type veth peer name " + n + "1"), 0);
      ASSERT_EQ(sh("ip link set " + n + "0 up && ip link set " + n + "1 up"), 0);
    }
  }
  void TearDown() override {
    sh("ip link del fpm-a0");
    sh("ip link del fpm-b0");
  }
  static std::string config(const std::string& a_options) {
    std::string s =
        "add-br fpmbr\nadd-flow fpmbr priority=0 actions=NORMAL\n"
        "add-port fpmbr pb options:ifname=fpm-b0\n";
    if (!a_options.empty()) s += "add-port fpmbr pa options:ifname=fpm-a0 " + a_options + "\n";
    return s;
  }
  static Switch::Options options() {
    Switch::Options o;
    o.pmd_cores = {-1};
    return o;
  }
  struct Stream {
    std::map<uint32_t, int> seen;  // frame number -> times it arrived at fpm-b1
    uint32_t sent = 0;             // frames 0 .. sent-1 went into fpm-a1
  };
  // Sends numbered frames into fpm-a1 (paced: ~100k/s at most) while `add`
  // runs once 4,000 are out; returns what arrived at fpm-b1.  It sends
  // kFrames, or, given `moved`, until moved() holds and kTail more are out
  // (a loaded machine may take most of a second to bind the AF_XDP socket:
  // the stream must outlast the move, whatever it takes, for the test to
  // see both sockets carry it).
  static constexpr uint32_t kTail = 4000;
  Stream stream_through(const std::function<void()>& add,
                        const std::function<bool()>& moved = nullptr) {
    PacketPort rx({.ifname = "fpm-b1", .buffers = 256, .rcvbuf = 32 << 20});
    test::RawSocket tx("fpm-a1");
    std::atomic<uint32_t> sent{0};
    std::atomic<uint32_t> until{moved ? UINT32_MAX : kFrames};
    std::atomic<bool> done{false};
    Stream out;
    std::thread receiver([&] {
      Batch b;
      auto quiet_since = std::chrono::steady_clock::now();
      while (!done || std::chrono::steady_clock::now() - quiet_since < std::chrono::seconds(1)) {
        b.clear();
        if (rx.rx_burst(b)) quiet_since = std::chrono::steady_clock::now();
        for (Packet* p : b) {
          if (auto s = frame_number(*p, 0xfe)) ++out.seen[*s];
          rx.release(*p);
        }
        if (b.count == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
    std::thread sender([&] {
      std::vector<uint8_t> f = test::udp_frame(3000, 0xfe);
      for (uint32_t s = 0; s < until.load(); ++s) {
        std::memcpy(&f[46], &s, 4);
        if (!tx.send(f)) --s;  // the sender's queue was full: again
        sent.store(s + 1);
        if (s % 10 == 9) std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
    while (sent < 4000) std::this_thread::sleep_for(std::chrono::microseconds(100));
    add();
    if (moved) {  // the move's end, then kTail more frames (at most 30 s)
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!moved() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      until.store(std::max(kFrames, sent.load() + kTail));
    }
    sender.join();
    done = true;
    receiver.join();
    out.sent = sent.load();
    EXPECT_LT(out.seen.empty() ? out.sent : out.seen.begin()->first, kFrames / 2)
        << "the port was added late in the stream";
    return out;
  }
};

TEST_F(SystemPortMove, EveryFrameOnceAcrossTheMove) {
  Switch sw(SwitchConfig::parse(config("")), options());
  sw.start();
  auto stream = stream_through(
      [&] {
        ApplyResult r = sw.apply(SwitchConfig::parse(config("type=system")));
        ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
        ASSERT_TRUE(r.in_effect);
      },
      [&] { return sw.port("pa") && sw.port("pa")->kind() == SwitchPortKind::kAfxdp; });
  EXPECT_EQ(check_stream(stream.seen, stream.sent), "");
  SwitchPort* pa = sw.port("pa");
  ASSERT_NE(pa, nullptr);
  SwitchPort::MoveInfo m = pa->move_info();
  EXPECT_TRUE(m.moving_port);
  EXPECT_EQ(m.error, "");
  EXPECT_EQ(m.kind, SwitchPortKind::kAfxdp) << "the move finished";
  EXPECT_GT(m.packet_ms, 0.0);
  // Both sockets carried the stream: the packet socket first, then AF_XDP.
  EXPECT_GT(m.packet_rx, 0u);
  std::lock_guard lock(pa->domain());
  ASSERT_FALSE(stream.seen.empty());
  EXPECT_GE(pa->stats().rx, stream.sent - stream.seen.begin()->first);
  EXPECT_GT(pa->stats().rx, m.packet_rx + 1000);
  std::printf("moved after %.2f ms, %lu frames over the packet socket, %lu in all\n", m.packet_ms,
              (unsigned long)m.packet_rx, (unsigned long)pa->stats().rx);
}

TEST_F(SystemPortMove, ControlAnAfxdpPortAddedMidStream) {
  Switch sw(SwitchConfig::parse(config("")), options());
  sw.start();
  auto stream = stream_through([&] {
    ApplyResult r = sw.apply(SwitchConfig::parse(config("options:xdp-fast=false")));
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  });
  EXPECT_EQ(check_stream(stream.seen, stream.sent), "");
  EXPECT_FALSE(sw.port("pa")->move_info().moving_port);
}

TEST_F(SystemPortMove, MissingDeviceErrorsThatPortAlone) {
  Switch sw(SwitchConfig::parse(config("")), options());
  sw.start();
  ApplyResult r = sw.apply(SwitchConfig::parse(
      config("type=system") + "add-port fpmbr px options:ifname=fpm-none0 type=system\n"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].name, "px");
  EXPECT_NE(r.errors[0].message.find("fpm-none0: no such interface"), std::string::npos)
      << r.errors[0].message;
  EXPECT_NE(sw.port("pa"), nullptr);
}

TEST_F(SystemPortMove, DeleteDuringTheMoveLeavesNothingAttachedAndReAddWorks) {
  Switch sw(SwitchConfig::parse(config("")), options());
  sw.start();
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(sw.apply(SwitchConfig::parse(config("type=system"))).errors.empty());
    if (round % 2) std::this_thread::sleep_for(std::chrono::microseconds(500 * round));
    ASSERT_TRUE(sw.apply(SwitchConfig::parse(config(""))).errors.empty());
    sw.finish_closing();
    EXPECT_EQ(sh_out("ip link show dev fpm-a0").find("xdp"), std::string::npos)
        << "round " << round << ": an XDP program stayed attached";
  }
  // Restart: a new switch opens the same device again and moves it.
  ASSERT_TRUE(sw.apply(SwitchConfig::parse(config("type=system"))).errors.empty());
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sw.port("pa")->kind() != SwitchPortKind::kAfxdp &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(sw.port("pa")->kind(), SwitchPortKind::kAfxdp);
  EXPECT_NE(sh_out("ip link show dev fpm-a0").find("xdp"), std::string::npos);
}

// 200 numbered frames into fpm-a1 (paced); how many distinct ones reached
// fpm-b1 within a second of the last.
size_t frames_through() {
  PacketPort rx({.ifname = "fpm-b1", .buffers = 256, .rcvbuf = 8 << 20});
  test::RawSocket tx("fpm-a1");
  std::vector<uint8_t> f = test::udp_frame(3001, 0xfd);
  for (uint32_t s = 0; s < 200; ++s) {
    std::memcpy(&f[46], &s, 4);
    if (!tx.send(f)) --s;
    if (s % 10 == 9) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::set<uint32_t> seen;
  Batch b;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < until && seen.size() < 200) {
    b.clear();
    rx.rx_burst(b);
    for (Packet* p : b) {
      if (auto s = frame_number(*p, 0xfd)) seen.insert(*s);
      rx.release(*p);
    }
    if (b.count == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return seen.size();
}

// `ovs-vsctl del-port br-int vm2 -- add-port br-ex vm2`: one change removes
// the port from one bridge and adds it to another.  The old port's close
// detaches XDP from the device; were it to run after the new port attached
// (the steering program is one, shared), the new port would receive
// nothing.  Each round moves pa between two bridges, alternately a system
// port (bound in the background) and an afxdp one (bound in the change):
// the program stays attached and every frame crosses.
TEST_F(SystemPortMove, MovedBetweenBridgesInOneChangeKeepsReceiving) {
  auto conf = [](bool on_b, const std::string& opts) {
    std::string s =
        "add-br fpmbr\nadd-flow fpmbr priority=0 actions=NORMAL\n"
        "add-port fpmbr pb options:ifname=fpm-b0\n"
        "add-br fpmx\nadd-flow fpmx priority=0 actions=NORMAL\n";
    return s + "add-port " + (on_b ? "fpmbr" : "fpmx") + " pa options:ifname=fpm-a0 " + opts + "\n";
  };
  Switch sw(SwitchConfig::parse(conf(false, "")), options());
  sw.start();
  for (int round = 0; round < 8; ++round) {
    const std::string opts = round % 2 ? "" : "type=system";
    ASSERT_TRUE(sw.apply(SwitchConfig::parse(conf(false, opts))).errors.empty());
    ApplyResult r = sw.apply(SwitchConfig::parse(conf(true, opts)));
    ASSERT_TRUE(r.errors.empty()) << "round " << round << ": " << r.errors[0].message;
    ASSERT_TRUE(r.in_effect);
    ASSERT_EQ(r.opened, std::vector<std::string>{"pa"});
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sw.port("pa")->kind() != SwitchPortKind::kAfxdp &&
           std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(sw.port("pa")->kind(), SwitchPortKind::kAfxdp) << "round " << round;
    sw.finish_closing();
    EXPECT_NE(sh_out("ip link show dev fpm-a0").find("xdp"), std::string::npos)
        << "round " << round << " (" << opts << "): the move detached the new port's program";
    EXPECT_EQ(frames_through(), 200u) << "round " << round << " (" << opts << ")";
  }
}

}  // namespace system_port_move_test
}  // namespace flowpath
