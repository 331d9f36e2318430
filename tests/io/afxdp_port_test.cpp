// AfxdpPort over veth pairs in a private network namespace: receive,
// zero-copy and copying transmit, every queue of a multi-queue veth,
// errors, and no XDP program left behind.
#include "flowpath/io/afxdp_port.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "support/private_netns.hpp"

namespace flowpath {
namespace afxdp_port_test {

using test::RawSocket;
using test::sh;
using test::udp_frame;

class AfxdpPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = test::private_netns();
    if (!why.empty()) GTEST_SKIP() << "AF_XDP test skipped: " << why;
    if (!test::af_xdp_available()) GTEST_SKIP() << "AF_XDP test skipped: no AF_XDP sockets here";
  }
  void TearDown() override {
    for (auto& n : links_) sh("ip link del " + n);
  }
  // Creates veth a <-> b with `queues` queues each way, both up.
  void veth(const std::string& a, const std::string& b, int queues = 1) {
    std::string q =
        " numrxqueues " + std::to_string(queues) + " numtxqueues " + std::to_string(queues);
    ASSERT_EQ(sh("ip link add " + a + q + " type veth peer name " + b + q), 0);
    links_.push_back(a);
    ASSERT_EQ(sh("ip link set " + a + " up && ip link set " + b + " up"), 0);
    sh("ethtool -K " + a + " txvlan off tx off; ethtool -K " + b + " txvlan off tx off");
  }
  // Polls the port until `want` frames carrying test tags arrived or 2 s pass.
  std::set<int> receive(AfxdpPort& port, size_t want, bool forward_to_self = false) {
    std::set<int> tags;
    Batch batch;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (tags.size() < want && std::chrono::steady_clock::now() < end) {
      batch.clear();
      port.rx_burst(batch);
      for (Packet* p : batch) {
        // Only the test's own frames: the kernel may send its own (IPv6
        // router solicitations, MLD) on a fresh veth at any time.
        bool ours = p->size() == 64 && p->data()[12] == 0x08;
        if (ours) tags.insert(p->data()[42]);
        if (forward_to_self && ours)
          port.tx(*p, true);
        else
          port.release(*p);
      }
      port.flush();
    }
    return tags;
  }
  std::vector<std::string> links_;
};

TEST_F(AfxdpPortTest, ReceivesFramesSentByThePeer) {
  veth("fpx0", "fpx1");
  Umem umem;
  AfxdpPort port(umem, {.ifname = "fpx0"});
  EXPECT_EQ(port.num_queues(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  RawSocket far("fpx1");
  ASSERT_TRUE(far.ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(far.send(udp_frame(1000 + i, uint8_t(i))));
  EXPECT_EQ(receive(port, 20).size(), 20u);
  EXPECT_GE(port.stats().rx, 20u);
}

TEST_F(AfxdpPortTest, TransmitsZeroCopyAndCopiedFrames) {
  veth("fpx2", "fpx3");
  Umem umem;
  AfxdpPort port(umem, {.ifname = "fpx2"});
  RawSocket far("fpx3");
  ASSERT_TRUE(far.ok());
  uint32_t free_before = umem.available();
  // Copying transmit of a foreign buffer.
  PacketBuffer pb(udp_frame(7, 77));
  port.tx(pb.packet(), false);
  port.flush();
  // The far end's first frame of the test's own: the kernel may send its
  // own (a 90-byte MLD report, a router solicitation) on a fresh veth.
  std::vector<uint8_t> f;
  for (int i = 0; i < 10 && !(f.size() == 64 && f[12] == 0x08); ++i) f = far.recv(1000);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_EQ(f[42], 77);
  // Zero-copy: a frame received on the port goes straight back out.
  ASSERT_TRUE(far.send(udp_frame(8, 88)));
  std::set<int> tags = receive(port, 1, /*forward_to_self=*/true);
  EXPECT_TRUE(tags.count(88));
  bool echoed = false;
  for (int i = 0; i < 10 && !echoed; ++i) {
    auto g = far.recv(200);
    echoed = g.size() == 64 && g[42] == 88;
  }
  EXPECT_TRUE(echoed);
  for (int i = 0; i < 10; ++i) port.flush();  // completions back to the pool
  EXPECT_EQ(umem.available(), free_before);
  EXPECT_EQ(port.stats().tx, 2u);
  EXPECT_EQ(port.stats().drops, 0u);
}

TEST_F(AfxdpPortTest, ServesEveryQueueOfAMultiQueueVeth) {
  veth("fpx4", "fpx5", 2);
  {
    // Listening on queue 0 alone misses the flows hashed to queue 1 ...
    // (own Umem: the first socket of a Umem stays bound until it dies)
    Umem umem;
    AfxdpPort q0(umem, {.ifname = "fpx4", .queues = 1});
    RawSocket far("fpx5");
    for (int i = 0; i < 64; ++i)
      ASSERT_TRUE(far.send(udp_frame(uint16_t(2000 + i * 7), uint8_t(i))));
    size_t got = receive(q0, 64).size();
    EXPECT_LT(got, 64u) << "all flows hashed to queue 0; the test proves nothing";
  }
  Umem umem;
  AfxdpPort port(umem, {.ifname = "fpx4"});
  EXPECT_EQ(port.num_queues(), 2u);
  RawSocket far("fpx5");
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(far.send(udp_frame(uint16_t(2000 + i * 7), uint8_t(i))));
  EXPECT_EQ(receive(port, 64).size(), 64u);
}

TEST_F(AfxdpPortTest, MissingInterfaceIsNamed) {
  Umem umem;
  try {
    AfxdpPort port(umem, {.ifname = "fp-nonexist0"});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp-nonexist0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such interface"), std::string::npos) << e.what();
  }
}

// A port that closes gives back every frame its rings held (fill ring, RX
// ring not yet read, TX ring), whether it closes on the pool's thread or
// through detach_pool on another one: opening and closing a port again and
// again on one Umem (VMs booted and deleted) must not drain the pool.
// Without recovery each round lost the 2,048 frames of a fill ring, so the
// 16,384-frame pool was dry by the eighth.
TEST_F(AfxdpPortTest, ClosedPortsGiveEveryFrameBack) {
  veth("fpxa", "fpxb");
  veth("fpxc", "fpxd");
  Umem umem;
  AfxdpPort first(umem, {.ifname = "fpxa"});  // keeps the Umem's own rings open
  RawSocket far("fpxd");
  ASSERT_TRUE(far.ok());
  const uint32_t before = umem.available();
  for (int round = 0; round < 12; ++round) {
    auto port = std::make_unique<AfxdpPort>(umem, AfxdpPort::Config{.ifname = "fpxc"});
    ASSERT_LT(umem.available(), before) << "round " << round << ": its fill ring took frames";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(far.send(udp_frame(2000 + i, uint8_t(i))));
    receive(*port, 4, /*forward_to_self=*/true);  // some echoed (TX), some maybe left in RX
    for (int i = 8; i < 12; ++i) ASSERT_TRUE(far.send(udp_frame(2000 + i, uint8_t(i))));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // unread in the RX ring
    if (round % 2) {
      port.reset();  // closed on the pool's own thread
    } else {
      std::vector<uint32_t> owners = port->detach_pool();  // the switch's closer
      EXPECT_EQ(owners.size(), 1u);
      port.reset();
      for (uint32_t o : owners) umem.reclaim(o);
    }
    EXPECT_EQ(umem.available(), before) << "round " << round;
  }
}

TEST_F(AfxdpPortTest, NoXdpProgramLeftAttached) {
  veth("fpx6", "fpx7");
  {
    Umem umem;
    AfxdpPort port(umem, {.ifname = "fpx6"});
    EXPECT_NE(test::sh_out("ip link show dev fpx6").find("xdp"), std::string::npos);
  }
  EXPECT_EQ(test::sh_out("ip link show dev fpx6").find("xdp"), std::string::npos);
  // The registry path used by signal handlers detaches too.
  Umem umem;
  AfxdpPort port(umem, {.ifname = "fpx6"});
  xdp_cleanup_all();
  EXPECT_EQ(test::sh_out("ip link show dev fpx6").find("xdp"), std::string::npos);
}

TEST_F(AfxdpPortTest, SecondProgramOnTheSameInterfaceIsAnAttachError) {
  veth("fpx8", "fpx9");
  Umem umem;
  AfxdpPort port(umem, {.ifname = "fpx8"});
  try {
    AfxdpPort again(umem, {.ifname = "fpx8"});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("XDP attach"), std::string::npos) << e.what();
  }
}

// A port with its own Umem (the switch's default): sized by its rings,
// filled at open, so a frame that arrives before the first rx_burst is
// received, on every port however many are open.  The control: ports on
// one shared 16,384-frame Umem whose fill rings take 2,048 frames each;
// the ninth finds the pool dry and drops what arrives.
TEST_F(AfxdpPortTest, OwnUmemPortsReceiveTheirFirstFrameHoweverManyAreOpen) {
  constexpr int kPorts = 12;
  for (int i = 0; i < kPorts; ++i) veth("fpo" + std::to_string(i), "fpq" + std::to_string(i));
  auto first_frames = [&](auto open) {
    std::vector<std::unique_ptr<AfxdpPort>> ports;
    for (int i = 0; i < kPorts; ++i) ports.push_back(open("fpo" + std::to_string(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int i = 0; i < kPorts; ++i) {
      RawSocket far("fpq" + std::to_string(i));
      EXPECT_TRUE(far.ok() && far.send(udp_frame(3000, uint8_t(i))));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // all arrived, none polled
    int got = 0;
    for (auto& p : ports) got += receive(*p, 1).count(&p - &ports[0]) ? 1 : 0;
    return got;
  };
  {               // (the Umem's first socket stays bound until the Umem goes)
    Umem shared;  // filled at open, as the port's first rx_burst would do
    int shared_got = first_frames([&](const std::string& n) {
      return std::make_unique<AfxdpPort>(shared, AfxdpPort::Config{.ifname = n});
    });
    EXPECT_LT(shared_got, kPorts)
        << "the shared pool fed every fill ring; the control proves nothing";
  }
  int own_got = first_frames([](const std::string& n) {
    auto p =
        std::make_unique<AfxdpPort>(AfxdpPort::Config{.ifname = n, .rx_size = 128, .tx_size = 128});
    EXPECT_TRUE(p->owns_umem());
    EXPECT_EQ(p->umem().num_frames(), 2u * 128 * p->num_queues());
    return p;
  });
  EXPECT_EQ(own_got, kPorts);
}

// Between ports with their own Umems a frame crosses by copy (the sink's
// tx(p, false), then release on the port it came from): it arrives, and
// both pools are whole again.
TEST_F(AfxdpPortTest, OwnUmemPortsForwardByCopy) {
  veth("fpxe", "fpxf");
  veth("fpxg", "fpxh");
  AfxdpPort a({.ifname = "fpxe", .rx_size = 128, .tx_size = 128});
  // b on a Umem made ahead (the switch's spare); one too small is refused.
  EXPECT_THROW(AfxdpPort(std::make_unique<Umem>(Umem::Config::for_rings(1, 64)),
                         {.ifname = "fpxg", .rx_size = 128, .tx_size = 128}),
               Error);
  AfxdpPort b(std::make_unique<Umem>(Umem::Config::for_rings(1, 128)),
              {.ifname = "fpxg", .rx_size = 128, .tx_size = 128});
  EXPECT_TRUE(b.owns_umem());
  const uint32_t a_free = a.umem().available(), b_free = b.umem().available();
  RawSocket in("fpxf"), out("fpxh");
  ASSERT_TRUE(in.ok() && out.ok());
  ASSERT_TRUE(in.send(udp_frame(4000, 99)));
  Batch batch;
  bool sent = false;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
       !sent && std::chrono::steady_clock::now() < end;) {
    batch.clear();
    a.rx_burst(batch);
    for (Packet* p : batch) {
      if (p->size() == 64 && p->data()[42] == 99) {
        b.tx(*p, false);
        sent = true;
      }
      a.release(*p);
    }
    b.flush();
  }
  ASSERT_TRUE(sent);
  bool arrived = false;
  for (int i = 0; i < 10 && !arrived; ++i) {
    auto g = out.recv(200);
    arrived = g.size() == 64 && g[42] == 99;
  }
  EXPECT_TRUE(arrived);
  for (int i = 0; i < 10; ++i) b.flush();
  a.rx_burst(batch);  // refills what the frame took
  EXPECT_EQ(a.umem().available(), a_free);
  EXPECT_EQ(b.umem().available(), b_free);
}

TEST(UmemSizing, ForRingsHoldsEveryFrameTheRingsCanAndChecksItsInput) {
  Umem::Config c = Umem::Config::for_rings(2, 128);
  EXPECT_EQ(c.num_frames, 512u);
  EXPECT_EQ(c.fill_size, 128u);
  EXPECT_EQ(c.comp_size, 128u);
  for (auto [q, r] : {std::pair{1u, 100u}, {1u, 32u}, {1u, 8192u}, {0u, 128u}, {300u, 128u}})
    EXPECT_THROW(Umem::Config::for_rings(q, r), Error) << q << " " << r;
  try {
    AfxdpPort p({.ifname = "fp-nonexist1", .rx_size = 128, .tx_size = 128});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp-nonexist1: no such interface"), std::string::npos)
        << e.what();
  }
}

}  // namespace afxdp_port_test
}  // namespace flowpath
