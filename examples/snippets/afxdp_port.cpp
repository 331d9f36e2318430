// Snippet (docs/afxdp.md): open two AF_XDP ports on one shared UMEM and
// forward between them for a moment; then the same with a UMEM per port.  Without root, or when the
// interfaces do not exist, it says so and exits 0 (the docs build runs
// everywhere).  Usage: snippet_afxdp_port [IF_A IF_B]
#include "flowpath/io/afxdp_port.hpp"

#include <unistd.h>

#include <cstdio>

#include "flowpath/io/tap_port.hpp"

int main(int argc, char** argv) {
  const char* a = argc > 2 ? argv[1] : "fp-snip-a";
  const char* b = argc > 2 ? argv[2] : "fp-snip-b";
  if (geteuid() != 0) {
    std::puts("afxdp_port snippet: not root, nothing to open (ok)");
    return 0;
  }
  try {
    flowpath::install_xdp_cleanup_handlers();  // Ctrl-C detaches XDP
    flowpath::Umem umem;                       // one UMEM for all ports
    flowpath::AfxdpPort in(umem, {.ifname = a});
    flowpath::AfxdpPort out(umem, {.ifname = b});
    flowpath::Batch batch;
    for (int i = 0; i < 1000; ++i) {
      batch.clear();
      in.rx_burst(batch);
      for (flowpath::Packet* p : batch) out.tx(*p, /*owned=*/true);  // no copy
      out.flush();
    }
    std::printf("forwarded %llu packets, dropped %llu\n", (unsigned long long)out.stats().tx,
                (unsigned long long)out.stats().drops);
  } catch (const flowpath::Error& e) {
    // e.g. "afxdp port fp-snip-a: no such interface"
    std::printf("afxdp_port snippet: %s (ok)\n", e.what());
    return 0;
  }
  try {
    // Or each port with a UMEM of its own, sized by its rings (what
    // `flowpath switch` does): cheaper for the kernel to bind, but a frame
    // crosses to the other port by copy, then goes back to its own pool.
    flowpath::AfxdpPort in({.ifname = a, .rx_size = 2048, .tx_size = 2048});
    flowpath::AfxdpPort out({.ifname = b, .rx_size = 2048, .tx_size = 2048});
    flowpath::Batch batch;
    for (int i = 0; i < 1000; ++i) {
      batch.clear();
      in.rx_burst(batch);
      for (flowpath::Packet* p : batch) {
        out.tx(*p, /*owned=*/false);  // a copy into out's UMEM
        in.release(*p);
      }
      out.flush();
    }
    std::printf("own UMEMs: forwarded %llu packets\n", (unsigned long long)out.stats().tx);
  } catch (const flowpath::Error& e) {
    // e.g. "afxdp port fp-snip-a: no such interface"
    std::printf("afxdp_port snippet: %s (ok)\n", e.what());
    return 0;
  }
  return 0;
}
