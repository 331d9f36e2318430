// Helpers shared by the io tests: temporary paths, small frames, files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace flowpath::io_test {

/// A fresh path under the test temp dir, removed when the object dies.
class TempPath {
 public:
  explicit TempPath(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info->name();
    for (char& c : test)
      if (c == '/') c = '_';
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("flowpath_" + std::to_string(::getpid()) + "_" + test + "_" + name);
    std::filesystem::remove(path_);
  }
  ~TempPath() { std::filesystem::remove(path_); }
  const std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// Ethernet / IPv4 / UDP frame of `len` bytes (>= 42), fields from `seed`.
inline std::vector<uint8_t> udp_frame(uint32_t seed, uint32_t len = 64) {
  std::vector<uint8_t> f(len < 42 ? 42 : len, 0);
  const uint8_t hdr[] = {0x02, 0,    0,   0,  0,   0x02,  // dl_dst
                         0x02, 0,    0,   0,  0,   0x01,  // dl_src
                         0x08, 0x00,                      // IPv4
                         0x45, 0,    0,   0,  0,   0,    0x40, 0,
                         64,   17,   0,   0,  192, 0,    2,    1,  // nw_src 192.0.2.1
                         198,  51,   100, 2,                       // nw_dst 198.51.100.2
                         0x04, 0xd2, 0,   80,                      // udp 1234 -> 80
                         0,    0,    0,   0};
  std::copy(std::begin(hdr), std::end(hdr), f.begin());
  uint16_t ip_len = uint16_t(f.size() - 14), udp_len = uint16_t(f.size() - 34);
  f[16] = uint8_t(ip_len >> 8), f[17] = uint8_t(ip_len);
  f[38] = uint8_t(udp_len >> 8), f[39] = uint8_t(udp_len);
  f[11] = uint8_t(seed);            // dl_dst low byte
  f[33] = uint8_t(2 + seed % 200);  // nw_dst low byte
  uint32_t sum = 0;                 // IPv4 header checksum, so tcpdump prints no complaint
  for (int i = 14; i < 34; i += 2) sum += uint32_t(f[i] << 8 | f[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  f[24] = uint8_t(~sum >> 8), f[25] = uint8_t(~sum);
  for (size_t i = 42; i < f.size(); ++i) f[i] = uint8_t(seed + i);
  return f;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(n));
}

}  // namespace flowpath::io_test
