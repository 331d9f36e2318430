// Snippet (docs/xdp-fast-path.md): a switch with the XDP fast path on.
// Memory ports stand in for interfaces, so the PMD's offload writes the
// real kernel map and the snippet shows what went in; `flowpath switch
// --xdp-fast` does the same over AF_XDP ports, whose XDP program then
// forwards those flows in the kernel.  Without root (BPF maps need it) or
// without the embedded program it says so and exits 0.
#include <unistd.h>

#include <cstdio>

#include "flowpath/switch/switch.hpp"

int main() {
  if (geteuid() != 0 || !flowpath::XdpFastPath::available()) {
    std::puts("xdp_fast_path snippet: needs root and the embedded program (ok)");
    return 0;
  }
  flowpath::Switch::Options opt;
  opt.memory_ports = true;  // no interfaces: the offload still writes the map
  opt.pmd_cores = {-1};     // polled on this thread
  opt.xdp_fast = true;
  flowpath::Switch sw(flowpath::SwitchConfig::parse(R"(
add-br br0
add-port br0 p1
add-port br0 p2
add-flow br0 in_port=p1,udp,actions=mod_vlan_vid:1000,mod_nw_src:198.51.100.1,mod_tp_dst:53,output:p2
)"),
                      opt);
  // The VLAN push and the two set-fields (with their IPv4 and UDP checksum
  // updates) run in the kernel too.  A flow is offloaded when it enters and
  // leaves through ports with a devmap slot (the switch fills them for
  // AF_XDP ports; here: loopback, never used).
  for (const char* name : {"p1", "p2"}) sw.xdp_fast_path()->set_port(sw.port(name)->dp_port(), 1);
  // 02:..:02 <- 02:..:01, 192.0.2.1:1000 -> 192.0.2.2:9, UDP.
  std::vector<uint8_t> f = {2,    0, 0,   0,  0, 2, 2,    0,    0,  0,  0, 1, 8,   0,
                            0x45, 0, 0,   46, 0, 0, 0,    0,    64, 17, 0, 0, 192, 0,
                            2,    1, 192, 0,  2, 2, 0x03, 0xe8, 0,  9,  0, 26};
  f.resize(60);
  sw.port("p1")->memory()->inject(f);
  sw.poll_once();
  const flowpath::XdpOffload* off = sw.pmd(0).xdp_offload();
  std::printf("kernel entries: %zu (inserted %llu, refused %llu)\n%s", off->size(),
              (unsigned long long)off->stats().inserted, (unsigned long long)off->stats().refused,
              sw.dpctl_dump_flows().c_str());
  return off->size() == 1 ? 0 : 1;
}
