// Snippet (docs/ovsdb.md, "A system port's life"): a port on a plain
// packet socket, as a `""`/`system` switch port runs for its first
// milliseconds: open it (~0.1 ms), echo what it receives for a moment.
// Without root, or when the interface does not exist, it says so and
// exits 0 (the docs build runs everywhere).  Usage: snippet_packet_port [IF]
#include "flowpath/io/packet_port.hpp"

#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  const char* ifname = argc > 1 ? argv[1] : "fp-snip-pk";
  if (geteuid() != 0) {
    std::puts("packet_port snippet: not root, nothing to open (ok)");
    return 0;
  }
  try {
    flowpath::PacketPort port({.ifname = ifname});
    flowpath::Batch batch;
    for (int i = 0; i < 1000; ++i) {
      batch.clear();
      port.rx_burst(batch);                                           // one recvmmsg()
      for (flowpath::Packet* p : batch) port.tx(*p, /*owned=*/true);  // sent back out
    }
    std::printf("received %llu, sent %llu\n", (unsigned long long)port.stats().rx,
                (unsigned long long)port.stats().tx);
  } catch (const flowpath::Error& e) {
    // e.g. "system port fp-snip-pk: no such interface"
    std::printf("packet_port snippet: %s (ok)\n", e.what());
  }
  return 0;
}
