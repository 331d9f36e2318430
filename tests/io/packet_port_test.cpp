// PacketPort over a veth pair in a private network namespace: receive
// (a VLAN tag the kernel took out is put back), transmit, our own
// transmissions never read back, and a missing interface named.
#include "flowpath/io/packet_port.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "support/private_netns.hpp"

namespace flowpath {
namespace packet_port_test {

using test::RawSocket;
using test::sh;
using test::udp_frame;

class PacketPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = test::private_netns();
    if (!why.empty()) GTEST_SKIP() << "packet socket test skipped: " << why;
  }
  void TearDown() override {
    for (auto& n : links_) sh("ip link del " + n);
  }
  void veth(const std::string& a, const std::string& b) {
    ASSERT_EQ(sh("ip link add " + a + " type veth peer name " + b), 0);
    links_.push_back(a);
    ASSERT_EQ(sh("ip link set " + a + " up && ip link set " + b + " up"), 0);
  }
  // Frames of the test (64 bytes, or 68 tagged), by tag byte, for up to 2 s.
  static std::vector<std::vector<uint8_t>> receive(PacketPort& port, size_t want) {
    std::vector<std::vector<uint8_t>> out;
    Batch batch;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < want && std::chrono::steady_clock::now() < end) {
      batch.clear();
      port.rx_burst(batch);
      for (Packet* p : batch) {
        if (p->size() == 64 || p->size() == 68) out.emplace_back(p->data(), p->data() + p->size());
        port.release(*p);
      }
      if (batch.count == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return out;
  }
  std::vector<std::string> links_;
};

TEST_F(PacketPortTest, ReceivesAndSends) {
  veth("fpk0", "fpk1");
  PacketPort port({.ifname = "fpk0"});
  RawSocket far("fpk1");
  ASSERT_TRUE(far.ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(far.send(udp_frame(2000, uint8_t(i))));
  auto got = receive(port, 40);
  ASSERT_EQ(got.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(got[size_t(i)][42], uint8_t(i));  // in order
  EXPECT_EQ(port.in_flight(), 0u);
  EXPECT_GE(port.stats().rx, 40u);

  // Transmit: the peer receives it; the port does not read its own back.
  std::vector<uint8_t> f = udp_frame(2001, 77);
  Packet p(f.data(), uint32_t(f.size()), 0, uint32_t(f.size()));
  port.tx(p, false);
  EXPECT_EQ(port.stats().tx, 1u);
  bool seen = false;
  for (auto r = far.recv(500); !r.empty() && !seen; r = far.recv(200))
    seen = r.size() == 64 && r[42] == 77;
  EXPECT_TRUE(seen);
  for (auto& g : receive(port, 1)) EXPECT_NE(g[42], 77) << "our own transmission came back";
}

TEST_F(PacketPortTest, PutsBackAVlanTagTheKernelTookOut) {
  veth("fpk2", "fpk3");
  sh("ethtool -K fpk2 rxvlan on; ethtool -K fpk3 txvlan on");  // offload: tag out of band
  PacketPort port({.ifname = "fpk2"});
  RawSocket far("fpk3");
  std::vector<uint8_t> f = udp_frame(2002, 5);
  const uint8_t tag[4] = {0x81, 0x00, 0x00, 0x2a};  // VLAN 42
  f.insert(f.begin() + 12, tag, tag + 4);
  ASSERT_TRUE(far.send(f));
  auto got = receive(port, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], f) << "the frame as sent, tag in place";
}

TEST_F(PacketPortTest, MissingInterfaceIsNamed) {
  try {
    PacketPort port({.ifname = "fpk-nonexist"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fpk-nonexist: no such interface"), std::string::npos)
        << e.what();
  }
}

}  // namespace packet_port_test
}  // namespace flowpath
