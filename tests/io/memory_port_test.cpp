#include "flowpath/io/memory_port.hpp"

#include <gtest/gtest.h>

#include "io/io_test_util.hpp"

namespace flowpath {
namespace memory_port_test {

using io_test::udp_frame;

std::vector<uint8_t> bytes_of(const Packet& p) { return {p.bytes().begin(), p.bytes().end()}; }

TEST(MemoryPort, DeliversInjectedFramesInOrderAtEveryBurstSize) {
  for (uint32_t bufs_n : {1u, 7u, 32u}) {
    MemoryPort port({.port_no = 5});
    for (uint32_t i = 0; i < 100; ++i) port.inject(udp_frame(i, 60 + i), 1000 + i);
    EXPECT_EQ(port.pending(), 100u);
    std::vector<PacketBuffer> bufs(bufs_n);
    uint32_t seen = 0;
    Batch batch;
    while (port.has_next()) {
      batch.clear();
      uint32_t n = port.rx_burst(batch, bufs);
      ASSERT_EQ(n, std::min<uint32_t>(bufs_n, 100 - seen));
      for (uint32_t k = 0; k < n; ++k, ++seen) {
        EXPECT_EQ(batch.pkts[k], &bufs[k].packet());
        EXPECT_EQ(bytes_of(batch[k]), udp_frame(seen, 60 + seen));
        EXPECT_EQ(batch[k].timestamp_ns, 1000u + seen);
        EXPECT_EQ(batch[k].in_port, 5u);
      }
    }
    EXPECT_EQ(seen, 100u);
    EXPECT_EQ(port.counters().rx, 100u);
    EXPECT_EQ(port.rx_burst(batch), 0u);
  }
}

TEST(MemoryPort, BurstStopsAtFullBatchAndAtUntil) {
  MemoryPort port;
  for (uint32_t i = 0; i < 40; ++i) port.inject(udp_frame(i), i * 10);
  Batch batch;
  EXPECT_EQ(port.rx_burst(batch), 32u);
  EXPECT_TRUE(batch.full());
  EXPECT_EQ(port.rx_burst(batch), 0u);  // no room
  batch.clear();
  EXPECT_EQ(port.next_timestamp_ns(), 320u);
  EXPECT_EQ(port.rx_burst(batch, 345), 3u);  // 320, 330, 340
  EXPECT_EQ(port.next_timestamp_ns(), 350u);
  batch.clear();
  EXPECT_EQ(port.rx_burst(batch), 5u);
  EXPECT_FALSE(port.has_next());
  EXPECT_EQ(port.next_timestamp_ns(), MemoryPort::kNoLimit);
}

TEST(MemoryPort, LoopRepeatsForever) {
  MemoryPort port({.loop = true});
  port.inject(udp_frame(1));
  port.inject(udp_frame(2));
  Batch batch;
  EXPECT_EQ(port.rx_burst(batch), 32u);
  EXPECT_EQ(bytes_of(batch[31]), udp_frame(2));
  EXPECT_EQ(bytes_of(batch[30]), udp_frame(1));
  EXPECT_TRUE(port.has_next());
}

TEST(MemoryPort, TxStoresCountsAndDrops) {
  MemoryPort src, keep({.port_no = 1, .tx_limit = 3}), sink({.keep_tx = false});
  for (uint32_t i = 0; i < 5; ++i) src.inject(udp_frame(i), i);
  Batch batch;
  ASSERT_EQ(src.rx_burst(batch), 5u);
  EXPECT_EQ(keep.tx_burst(batch), 3u);
  EXPECT_EQ(sink.tx_burst(batch), 5u);
  ASSERT_EQ(keep.sent().size(), 3u);
  auto f = keep.sent()[2];
  EXPECT_EQ(std::vector<uint8_t>(f.bytes.begin(), f.bytes.end()), udp_frame(2));
  EXPECT_EQ(f.timestamp_ns, 2u);
  EXPECT_EQ(keep.counters().tx, 3u);
  EXPECT_EQ(keep.counters().drops, 2u);
  EXPECT_EQ(keep.counters().tx_bytes, 3u * 64);
  EXPECT_EQ(sink.counters().tx, 5u);
  EXPECT_TRUE(sink.sent().empty());
  keep.clear_sent();
  EXPECT_TRUE(keep.sent().empty());
}

}  // namespace memory_port_test
}  // namespace flowpath
