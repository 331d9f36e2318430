// TapPort in a private network namespace: the host's frames arrive in
// rx_burst, tx'd frames arrive at the host, buffers are conserved.
#include "flowpath/io/tap_port.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "support/private_netns.hpp"

namespace flowpath {
namespace {

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

TEST_F(TapPortTest, BadNameIsAnError) {
  EXPECT_THROW(TapPort({.name = "a-name-much-too-long-for-linux"}), Error);
  EXPECT_THROW(TapPort({.name = ""}), Error);
}

}  // namespace
}  // namespace flowpath
