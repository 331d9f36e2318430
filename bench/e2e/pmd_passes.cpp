// bench/e2e/pmd_passes.cpp — the PMD loop's own work per pass, in
// instructions (callgrind: independent of the machine's load, which makes
// the e2e benchmark's busy cycles useless on a shared machine).
//
//   pmd_passes empty|busy N   // N passes after a warm-up
//
// A switch of memory ports in the compute-node shape (vm1-vm3 on br-int,
// eth2 on br-eth2, the patch pair, both bridges' LOCAL ports), NORMAL with
// the VLAN rewrite to the provider network.  "empty": N passes that find
// nothing; "busy": each pass receives one frame on vm1 (NORMAL, to eth2:
// MAC learned in the warm-up).  bench/e2e/pmd_passes.sh builds it against
// two trees' headers and runs it under callgrind with N = 0 and N =
// 100,000: the difference / N is instructions per pass, the frame's
// injection into the memory port included (the same in both).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "flowpath/switch/switch.hpp"

int main(int argc, char** argv) {
  using namespace flowpath;
  if (argc != 3 || (std::string(argv[1]) != "empty" && std::string(argv[1]) != "busy")) {
    std::fprintf(stderr, "usage: pmd_passes empty|busy N\n");
    return 2;
  }
  const bool busy = std::string(argv[1]) == "busy";
  const long n = std::atol(argv[2]);
  Switch::Options o;
  o.memory_ports = true;
  o.pmd_cores = {-1};
  Switch sw(SwitchConfig::parse(R"(
add-br br-int
add-port br-int vm1 tag=1
add-port br-int vm2 tag=1
add-port br-int vm3 tag=2
add-port br-int int-br-eth2 type=patch peer=phy-br-eth2
add-br br-eth2
add-port br-eth2 eth2
add-port br-eth2 phy-br-eth2 type=patch peer=int-br-eth2
add-flow br-int priority=1 actions=NORMAL
add-flow br-eth2 priority=4,in_port=phy-br-eth2,dl_vlan=1 actions=mod_vlan_vid:1000,NORMAL
add-flow br-eth2 priority=1 actions=NORMAL
)"),
            o);
  std::vector<uint8_t> f(64, 0);  // IPv4 broadcast from 02:00:00:00:00:01
  for (int i = 0; i < 6; ++i) f[i] = 0xff;
  f[6] = 2, f[11] = 1, f[12] = 0x08, f[13] = 0x00;
  MemoryPort* vm1 = sw.port("vm1")->memory();
  for (int i = 0; i < 1000; ++i) {  // warm: MACs learned, caches filled
    vm1->inject(f);
    sw.poll_once();
  }
  uint64_t got = 0;
  for (long i = 0; i < n; ++i) {
    if (busy) vm1->inject(f);
    got += sw.poll_once();
  }
  std::printf("%s passes: %ld, packets: %llu\n", busy ? "busy" : "empty", n,
              (unsigned long long)got);
  return busy && got != uint64_t(n) ? 1 : 0;
}
