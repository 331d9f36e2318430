// tests/support/ofp_print.hpp — OpenFlow bytes as a test compares them and
// as ovs-ofctl (the oracle) reads them.
//
//   if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
//   EXPECT_EQ(ofp_hex(bytes), "04120010...");
//   std::string text = ofp_print(bytes);   // `ovs-ofctl ofp-print HEX`
//
// Cost: one fork/exec per have_ofctl()/ofp_print().  Thread-safety: as
// support/shell.hpp.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/shell.hpp"

namespace flowpath::test {

/// Whether `ovs-ofctl` (Debian's openvswitch-common) can run here.
inline bool have_ofctl() { return std::system("ovs-ofctl --version >/dev/null 2>&1") == 0; }

/// Lower-case hex, two digits per byte, no separators (ofp-print's input;
/// support/packet_builder.hpp's hex() separates bytes with spaces).
inline std::string ofp_hex(const std::vector<uint8_t>& b) {
  std::string s;
  char t[3];
  for (uint8_t c : b) std::snprintf(t, sizeof t, "%02x", c), s += t;
  return s;
}

/// What `ovs-ofctl ofp-print` prints for one OpenFlow message.
inline std::string ofp_print(const std::vector<uint8_t>& bytes) {
  return shell_output("ovs-ofctl ofp-print " + ofp_hex(bytes));
}

}  // namespace flowpath::test
