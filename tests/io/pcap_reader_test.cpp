#include "flowpath/io/pcap_reader.hpp"

#include <gtest/gtest.h>

#include "flowpath/io/pcap_writer.hpp"
#include "io/io_test_util.hpp"

namespace flowpath {
namespace pcap_reader_test {

using io_test::TempPath;
using io_test::udp_frame;

constexpr uint64_t kBaseNs = 1'700'000'000'123'456'789ull;

struct Written {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint64_t> ts;
};

Written write_sample(const std::string& path, TsPrecision prec, int n = 5) {
  Written w;
  PcapWriter out(path, prec);
  for (int i = 0; i < n; ++i) {
    w.frames.push_back(udp_frame(uint32_t(i), 60 + 37 * uint32_t(i)));
    w.ts.push_back(kBaseNs + uint64_t(i) * 1'000'001'001ull);
    out.write(w.frames.back(), w.ts.back());
  }
  out.close();
  EXPECT_EQ(out.records(), uint64_t(n));
  return w;
}

class RoundTrip : public ::testing::TestWithParam<TsPrecision> {};

TEST_P(RoundTrip, BytesAndTimestamps) {
  TempPath file("rt.pcap");
  Written w = write_sample(file.str(), GetParam());
  PcapReader in(file.str(), 7);
  PacketBuffer buf;
  size_t i = 0;
  while (in.next(buf)) {
    ASSERT_LT(i, w.frames.size());
    const Packet& p = buf.packet();
    EXPECT_EQ(std::vector<uint8_t>(p.bytes().begin(), p.bytes().end()), w.frames[i]);
    uint64_t want = GetParam() == TsPrecision::kNano ? w.ts[i] : w.ts[i] / 1000 * 1000;
    EXPECT_EQ(p.timestamp_ns, want) << "record " << i;
    EXPECT_EQ(p.in_port, 7u);
    EXPECT_GE(p.headroom(), kMinHeadroom);
    ++i;
  }
  EXPECT_EQ(i, w.frames.size());
  EXPECT_EQ(in.error(), "");
  EXPECT_TRUE(in.at_end());
  EXPECT_FALSE(in.next(buf));  // stays at end
}

TEST_P(RoundTrip, IntoCallerPacketAndReadPcap) {
  TempPath file("rt2.pcap");
  Written w = write_sample(file.str(), GetParam(), 3);
  PcapReader in(file.str());
  std::vector<uint8_t> storage(256);
  Packet pkt(storage.data(), uint32_t(storage.size()), 0, 0);
  ASSERT_TRUE(in.next(pkt));
  EXPECT_EQ(pkt.size(), w.frames[0].size());
  EXPECT_EQ(pkt.headroom(), kMinHeadroom);
  ASSERT_TRUE(in.next(pkt));  // 97 bytes fit in 192
  ASSERT_TRUE(in.next(pkt));  // 134 bytes fit
  EXPECT_EQ(in.clipped(), 0u);

  std::vector<PacketBuffer> all;
  EXPECT_EQ(read_pcap(file.str(), all, 3), 3u);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2]->in_port, 3u);
  EXPECT_EQ(all[2]->size(), w.frames[2].size());
}

INSTANTIATE_TEST_SUITE_P(Pcap, RoundTrip,
                         ::testing::Values(TsPrecision::kMicro, TsPrecision::kNano),
                         [](const auto& info) {
                           return info.param == TsPrecision::kNano ? "nano" : "micro";
                         });

TEST(PcapReader, ClipsFramesLargerThanTheBuffer) {
  TempPath file("big.pcap");
  {
    PcapWriter out(file.str());
    out.write(udp_frame(1, 3000), 5);
  }
  PcapReader in(file.str());
  PacketBuffer buf;
  ASSERT_TRUE(in.next(buf));
  EXPECT_EQ(buf->size(), kDefaultFrameSize);
  EXPECT_EQ(in.clipped(), 1u);
}

TEST(PcapReader, MissingFileNamesTheFile) {
  std::string path = "/nonexistent-dir/flowpath-missing.pcap";
  try {
    PcapReader in(path);
    FAIL() << "no exception";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  }
  std::vector<PacketBuffer> out;
  EXPECT_THROW(read_pcap(path, out), Error);
}

TEST(PcapReader, NotAPcapFile) {
  TempPath file("junk.pcap");
  io_test::write_bytes(file.str(), std::vector<uint8_t>(100, 'x'), 100);
  try {
    PcapReader in(file.str());
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(file.str()), std::string::npos) << e.what();
  }
}

TEST(PcapReader, WrongLinkTypeNamesFileAndType) {
  TempPath file("raw.pcap");
  {
    pcap_t* dead = pcap_open_dead(DLT_RAW, 65535);
    ASSERT_NE(dead, nullptr);
    pcap_dumper_t* d = pcap_dump_open(dead, file.str().c_str());
    ASSERT_NE(d, nullptr);
    auto frame = udp_frame(1);
    pcap_pkthdr h{};
    h.caplen = h.len = uint32_t(frame.size() - 14);
    pcap_dump(reinterpret_cast<u_char*>(d), &h, frame.data() + 14);
    pcap_dump_close(d);
    pcap_close(dead);
  }
  try {
    PcapReader in(file.str());
    FAIL() << "no exception";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(file.str()), std::string::npos) << msg;
    EXPECT_NE(msg.find("RAW"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Ethernet"), std::string::npos) << msg;
  }
}

// Cuts a 5-record file at many points: every intact record before the cut
// is delivered, then the damage is reported (or a clean end at a boundary).
TEST(PcapReader, TruncatedRecordsDeliverWhatCameBefore) {
  TempPath whole("whole.pcap"), cut("cut.pcap");
  Written w = write_sample(whole.str(), TsPrecision::kNano);
  std::vector<uint8_t> bytes = io_test::read_bytes(whole.str());
  std::vector<size_t> ends;  // file offset just after record i
  size_t off = 24;
  for (const auto& f : w.frames) ends.push_back(off += 16 + f.size());
  ASSERT_EQ(ends.back(), bytes.size());

  std::vector<size_t> cuts = {24, 25, 24 + 8, 24 + 15, 24 + 16, 24 + 17, ends[0] - 1};
  for (size_t i = 0; i + 1 < ends.size(); ++i)
    for (size_t d : {size_t(0), size_t(1), size_t(15), size_t(16), size_t(20)})
      cuts.push_back(ends[i] + d);
  cuts.push_back(bytes.size() - 1);
  for (size_t at : cuts) {
    SCOPED_TRACE("cut at byte " + std::to_string(at));
    io_test::write_bytes(cut.str(), bytes, at);
    size_t intact = 0;
    while (intact < ends.size() && ends[intact] <= at) ++intact;
    bool clean = at == 24 || (intact > 0 && ends[intact - 1] == at);
    PcapReader in(cut.str());
    PacketBuffer buf;
    size_t got = 0;
    while (in.next(buf)) {
      ASSERT_LT(got, w.frames.size());
      EXPECT_EQ(std::vector<uint8_t>(buf->bytes().begin(), buf->bytes().end()), w.frames[got]);
      ++got;
    }
    EXPECT_EQ(got, intact);
    if (clean) {
      EXPECT_EQ(in.error(), "");
    } else {
      EXPECT_NE(in.error().find(cut.str()), std::string::npos) << in.error();
      EXPECT_NE(in.error().find("record " + std::to_string(intact + 1)), std::string::npos)
          << in.error();
      EXPECT_NE(in.error().find("truncated"), std::string::npos) << in.error();
      std::vector<PacketBuffer> all;
      EXPECT_THROW(read_pcap(cut.str(), all), Error);
      EXPECT_EQ(all.size(), intact);
    }
  }
}

TEST(PcapReader, TruncatedFileHeaderThrows) {
  TempPath whole("whole.pcap"), cut("cut.pcap");
  write_sample(whole.str(), TsPrecision::kMicro, 1);
  auto bytes = io_test::read_bytes(whole.str());
  for (size_t at : {size_t(0), size_t(3), size_t(10), size_t(23)}) {
    io_test::write_bytes(cut.str(), bytes, at);
    EXPECT_THROW(PcapReader in(cut.str()), Error) << "cut at " << at;
  }
}

}  // namespace pcap_reader_test
}  // namespace flowpath
