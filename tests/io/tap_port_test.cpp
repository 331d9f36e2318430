// TapPort in a private network namespace: the host's frames arrive in
// rx_burst, tx'd frames arrive at the host, buffers are conserved.
#include "flowpath/io/tap_port.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "support/private_netns.hpp"

namespace flowpath {
namespace tap_port_test {

class TapPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = test::private_netns();
    if (!why.empty()) GTEST_SKIP() << "TAP test skipped: " << why;
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
      GTEST_SKIP() << "TAP test skipped: no /dev/net/tun";
  }
};

TEST_F(TapPortTest, CreatesAnUpDeviceNamedAfterThePort) {
  TapPort port({.name = "fptap0"});
  std::string link = test::sh_out("ip link show dev fptap0");
  EXPECT_NE(link.find("fptap0"), std::string::npos);
  EXPECT_NE(link.find("UP"), std::string::npos) << link;
  EXPECT_EQ(test::sh("ip addr add 203.0.113.1/24 dev fptap0"), 0);
}

TEST_F(TapPortTest, HostFramesArriveAndTxFramesReachTheHost) {
  TapPort port({.name = "fptap1"});
  test::RawSocket host("fptap1");
  ASSERT_TRUE(host.ok());
  ASSERT_TRUE(host.send(test::udp_frame(5000, 42)));
  Batch batch;
  bool seen = false;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!seen && std::chrono::steady_clock::now() < end) {
    batch.clear();
    port.rx_burst(batch);
    for (Packet* p : batch) {
      seen |= p->size() == 64 && p->data()[42] == 42;
      port.release(*p);
    }
  }
  EXPECT_TRUE(seen);

  PacketBuffer out(test::udp_frame(6000, 43));
  port.tx(out.packet(), false);
  bool got = false;
  for (int i = 0; i < 10 && !got; ++i) {
    auto f = host.recv(200);
    got = f.size() == 64 && f[42] == 43;
  }
  EXPECT_TRUE(got);
  EXPECT_EQ(port.stats().tx, 1u);
}

// The pool (its frames untouched until first used): each of its frames
// receives, distinct, and none is handed out twice; a full pool leaves the
// rest queued in the device until a frame comes back.  (The host's own
// IPv6 frames may be among those read: only counts and buffers are checked.)
TEST_F(TapPortTest, EveryPoolFrameReceivesOnceUntilReleased) {
  TapPort port({.name = "fptap2", .buffers = 4});
  test::RawSocket host("fptap2");
  ASSERT_TRUE(host.ok());
  for (uint8_t i = 0; i < 6; ++i) ASSERT_TRUE(host.send(test::udp_frame(5000, 60 + i)));
  std::vector<Packet*> held;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (held.size() < 4 && std::chrono::steady_clock::now() < end) {
    Batch batch;
    port.rx_burst(batch);
    for (Packet* p : batch) held.push_back(p);
  }
  ASSERT_EQ(held.size(), 4u);  // the pool's size, no more
  for (size_t i = 0; i < held.size(); ++i)
    for (size_t j = i + 1; j < held.size(); ++j) EXPECT_NE(held[i]->buffer(), held[j]->buffer());
  Batch none;
  EXPECT_EQ(port.rx_burst(none), 0u);  // pool empty: frames 5 and 6 wait in the device
  port.release(*held[0]);
  Batch one;
  end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (one.count == 0 && std::chrono::steady_clock::now() < end) port.rx_burst(one);
  ASSERT_EQ(one.count, 1u);
  EXPECT_EQ(one[0].buffer(), held[0]->buffer());  // the released frame, reused
}

TEST_F(TapPortTest, BadNameIsAnError) {
  EXPECT_THROW(TapPort({.name = "a-name-much-too-long-for-linux"}), Error);
  EXPECT_THROW(TapPort({.name = ""}), Error);
}

}  // namespace tap_port_test
}  // namespace flowpath
