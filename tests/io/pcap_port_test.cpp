#include "flowpath/io/pcap_port.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "io/io_test_util.hpp"

namespace flowpath {
namespace pcap_port_test {

using io_test::TempPath;
using io_test::udp_frame;

void write_file(const std::string& path, std::initializer_list<uint64_t> stamps, uint32_t seed) {
  PcapWriter out(path);
  for (uint64_t ts : stamps) out.write(udp_frame(seed++), ts);
}

TEST(PcapPort, ReceivesFromOneFileTransmitsIntoAnother) {
  TempPath in("in.pcap"), out("out.pcap");
  write_file(in.str(), {10, 20, 30}, 0);
  PcapPort port({.port_no = 4, .in_path = in.str(), .out_path = out.str()});
  EXPECT_TRUE(port.has_next());
  EXPECT_EQ(port.next_timestamp_ns(), 10u);
  Batch batch;
  ASSERT_EQ(port.rx_burst(batch), 3u);
  EXPECT_EQ(batch[1].in_port, 4u);
  EXPECT_EQ(batch[1].timestamp_ns, 20u);
  EXPECT_FALSE(port.has_next());
  EXPECT_EQ(port.tx_burst(batch), 3u);
  port.close();
  EXPECT_EQ(port.error(), "");
  EXPECT_EQ(port.counters().rx, 3u);
  EXPECT_EQ(port.counters().tx, 3u);

  std::vector<PacketBuffer> back;
  ASSERT_EQ(read_pcap(out.str(), back), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::vector<uint8_t>(back[i]->bytes().begin(), back[i]->bytes().end()), udp_frame(i));
    EXPECT_EQ(back[i]->timestamp_ns, 10u * (i + 1));
  }
}

TEST(PcapPort, OutputExistsEvenWhenNothingLeft) {
  TempPath out("empty.pcap");
  {
    PcapPort port({.out_path = out.str()});
    EXPECT_FALSE(port.has_next());
  }
  std::vector<PacketBuffer> back;
  EXPECT_EQ(read_pcap(out.str(), back), 0u);
}

TEST(PcapPort, NoOutputMeansDrops) {
  PcapPort port({.port_no = 1});
  PacketBuffer b(udp_frame(1));
  EXPECT_FALSE(port.tx(b.packet()));
  EXPECT_EQ(port.counters().drops, 1u);
}

TEST(PcapPort, MissingInputThrowsNamingIt) {
  EXPECT_THROW(PcapPort({.in_path = "/nonexistent/in.pcap"}), Error);
}

// Two ports merged in timestamp order, as replay mode does.
TEST(PcapPort, MergeInTimestampOrder) {
  TempPath a("a.pcap"), b("b.pcap");
  write_file(a.str(), {1, 4, 5, 9}, 0);
  write_file(b.str(), {2, 3, 6, 7, 8}, 100);
  std::vector<PcapPort> ports;
  ports.emplace_back(PcapPort::Config{.port_no = 1, .in_path = a.str()});
  ports.emplace_back(PcapPort::Config{.port_no = 2, .in_path = b.str()});
  std::vector<uint64_t> order;
  std::vector<uint32_t> from;
  Batch batch;
  for (;;) {
    auto first = std::min_element(ports.begin(), ports.end(), [](auto& x, auto& y) {
      return x.next_timestamp_ns() < y.next_timestamp_ns();
    });
    if (!first->has_next()) break;
    uint64_t limit = PcapPort::kNoLimit;
    for (auto& p : ports)
      if (&p != &*first) limit = std::min(limit, p.next_timestamp_ns());
    batch.clear();
    first->rx_burst(batch, limit);
    for (Packet* p : batch) order.push_back(p->timestamp_ns), from.push_back(p->in_port);
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(from, (std::vector<uint32_t>{1, 2, 2, 1, 1, 2, 2, 2, 1}));
}

TEST(PcapPort, DamagedInputDeliversIntactRecordsThenReports) {
  TempPath whole("whole.pcap"), cut("cut.pcap");
  write_file(whole.str(), {1, 2, 3}, 0);
  auto bytes = io_test::read_bytes(whole.str());
  io_test::write_bytes(cut.str(), bytes, bytes.size() - 10);
  PcapPort port({.in_path = cut.str()});
  Batch batch;
  EXPECT_EQ(port.rx_burst(batch), 2u);
  EXPECT_FALSE(port.has_next());
  EXPECT_NE(port.error().find(cut.str()), std::string::npos) << port.error();
}

}  // namespace pcap_port_test
}  // namespace flowpath
