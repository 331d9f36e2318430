// tests/datapath/compute_node_util.hpp — the compute node of DESIGN.md
// (examples/compute_node/compute-node.conf) driven frame by frame through
// a Datapath<Ofproto>, for the revalidation and attack tests and benches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace flowpath::test {

inline std::unique_ptr<Ofproto> make_compute_node(const Clock* clock, MacTableConfig mac = {}) {
  return std::make_unique<Ofproto>(
      SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"),
      Ofproto::Options{clock, mac});
}

/// 52:54:00:xx:xx:xx from a 24-bit number.
inline EthAddr host_mac(uint32_t n) {
  return EthAddr{{0x52, 0x54, 0x00, uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)}};
}

/// A UDP frame; tag < 0: untagged.
inline std::vector<uint8_t> udp_frame(const EthAddr& src, const EthAddr& dst, int tag = -1,
                                      uint16_t sport = 1000, uint16_t dport = 53) {
  Eth eth{dst, src};
  IPv4 ip{.src = "192.0.2.1", .dst = "198.51.100.1"};
  UDP udp{.sport = sport, .dport = dport};
  if (tag >= 0) return (eth / Dot1Q{.vid = uint16_t(tag)} / ip / udp / Payload{.n = 18}).bytes();
  return (eth / ip / udp / Payload{.n = 18}).bytes();
}

/// Counts what left each datapath port and what was dropped.
struct CountingSink {
  std::vector<uint64_t> out = std::vector<uint64_t>(16, 0);
  uint64_t drops = 0, finals = 0;
  void output(uint32_t port, Packet&, bool last) {
    ++out[port < out.size() ? port : 0];
    finals += last;
  }
  void drop(Packet&) {
    ++drops;
    ++finals;
  }
};

}  // namespace flowpath::test
