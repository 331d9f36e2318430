#include "flowpath/io/pcap_writer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "io/io_test_util.hpp"

namespace flowpath {
namespace pcap_writer_test {

using io_test::TempPath;

std::string find_tcpdump() {
  for (const char* p : {"/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/bin/tcpdump", "/sbin/tcpdump"})
    if (std::FILE* f = std::fopen(p, "rb")) {
      std::fclose(f);
      return p;
    }
  return "";
}

std::string run(const std::string& cmd) {
  std::string out;
  if (std::FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 512> buf;
    while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

class TcpdumpReads : public ::testing::TestWithParam<TsPrecision> {};

TEST_P(TcpdumpReads, WhatWeWrite) {
  std::string tcpdump = find_tcpdump();
  if (tcpdump.empty()) GTEST_SKIP() << "tcpdump not found (apt-get install tcpdump)";
  TempPath file("td.pcap");
  PcapWriter out(file.str(), GetParam());
  for (uint32_t i = 0; i < 3; ++i) {
    PacketBuffer b(io_test::udp_frame(i, 64 + i));
    b->timestamp_ns = 1'700'000'000'000'000'000ull + i * 1'234'567'000ull;
    out.write(b.packet());
  }
  out.close();
  std::string text = run(tcpdump + " -nn -tt -r " + file.str() + " 2>&1");
  std::istringstream lines(text);
  std::string line;
  int udp = 0;
  while (std::getline(lines, line))
    if (line.find("IP 192.0.2.1.1234 > 198.51.100.") != std::string::npos &&
        line.find("UDP, length ") != std::string::npos)
      ++udp;
  EXPECT_EQ(udp, 3) << text;
  EXPECT_NE(text.find("1700000000.000000 IP"), std::string::npos) << text;
  EXPECT_NE(text.find("1700000002.469134 IP"), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(Pcap, TcpdumpReads,
                         ::testing::Values(TsPrecision::kMicro, TsPrecision::kNano),
                         [](const auto& info) {
                           return info.param == TsPrecision::kNano ? "nano" : "micro";
                         });

TEST(PcapWriter, UncreatableFileNamesIt) {
  std::string path = "/nonexistent-dir/out.pcap";
  try {
    PcapWriter out(path);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(PcapWriter, SnaplenClipsButKeepsLength) {
  TempPath file("snap.pcap");
  {
    PcapWriter out(file.str(), TsPrecision::kMicro, 100);
    out.write(io_test::udp_frame(1, 300), 0);
  }  // destructor closes
  auto bytes = io_test::read_bytes(file.str());
  ASSERT_EQ(bytes.size(), 24u + 16u + 100u);
  uint32_t caplen, len;
  std::memcpy(&caplen, &bytes[24 + 8], 4);
  std::memcpy(&len, &bytes[24 + 12], 4);
  EXPECT_EQ(caplen, 100u);
  EXPECT_EQ(len, 300u);
}

TEST(PcapWriter, FullDiskIsReportedOnClose) {
  if (std::FILE* f = std::fopen("/dev/full", "wb"))
    std::fclose(f);
  else
    GTEST_SKIP() << "/dev/full not available";
  PcapWriter out("/dev/full");
  for (int i = 0; i < 2000; ++i) out.write(io_test::udp_frame(1, 1000), 0);
  EXPECT_THROW(out.close(), Error);
}

}  // namespace pcap_writer_test
}  // namespace flowpath
