// flowpath-test: own-binary (the order of the two includes below is the test)
// flowpath's pcap ports and AF_XDP ports in one translation unit: libpcap's
// classic-BPF `struct bpf_insn` and the kernel's eBPF one used to collide
// (flowpath/io/pcap_api.hpp renames libpcap's).  The io area's test binary
// includes them in the other order (afxdp_port_test.cpp comes first).
#include <gtest/gtest.h>

// libpcap first, then libbpf (clang-format would sort them the other way).
// clang-format off
#include "flowpath/io/pcap_port.hpp"
#include "flowpath/io/afxdp_port.hpp"
// clang-format on

namespace pcap_beside_afxdp_test {

TEST(PcapBesideAfxdp, BothInstructionLayoutsAreIntact) {
  // libpcap's classic instruction: code, jt, jf, k (8 bytes).
  EXPECT_EQ(sizeof(pcap_bpf_insn), 8u);
  EXPECT_EQ(sizeof(pcap_bpf_insn::k), 4u);
  // The kernel's eBPF instruction: code, dst_reg/src_reg, off, imm (8 bytes).
  EXPECT_EQ(sizeof(bpf_insn), 8u);
  EXPECT_EQ(sizeof(bpf_insn::imm), 4u);
  bpf_program filter{};  // libpcap's program points at its own instructions
  static_assert(std::is_same_v<decltype(filter.bf_insns), pcap_bpf_insn*>);
}

}  // namespace pcap_beside_afxdp_test
