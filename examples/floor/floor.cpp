// flowpath-floor IF_A IF_B [--seconds N] [--cpu C] [--generic]
//
// The floor of the end-to-end benchmark: flowpath's own AF_XDP ports, one
// shared UMEM, forwarding every frame from IF_A to IF_B and back with no
// parsing and no lookup, busy-polling one core.  What it costs per packet
// is what the kernel's veth and AF_XDP paths cost by themselves; a switch
// on the same topology adds its own work on top of this.
//
// Prints, at exit (SIGINT/SIGTERM or after --seconds), per port rx/tx/
// drops and the busy cycles per packet: TSC cycles spent in loop
// iterations that moved at least one packet, divided by packets received.
#include <sched.h>
#include <signal.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "flowpath/io/afxdp_port.hpp"

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

uint32_t forward(flowpath::AfxdpPort& in, flowpath::AfxdpPort& out, flowpath::Batch& b) {
  b.clear();
  uint32_t n = in.rx_burst(b);
  for (flowpath::Packet* p : b) out.tx(*p, true);
  out.flush();
  return n;
}

void report(const char* name, const flowpath::AfxdpStats& s) {
  std::printf("port %s: rx %llu tx %llu drops %llu tx_full %llu fill_empty %llu\n", name,
              (unsigned long long)s.rx, (unsigned long long)s.tx, (unsigned long long)s.drops,
              (unsigned long long)s.tx_full, (unsigned long long)s.fill_empty);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: flowpath-floor IF_A IF_B [--seconds N] [--cpu C] [--generic]\n");
    return 2;
  }
  double seconds = 0;
  int cpu = -1;
  flowpath::XdpMode mode = flowpath::XdpMode::kAuto;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (a == "--cpu" && i + 1 < argc)
      cpu = std::atoi(argv[++i]);
    else if (a == "--generic")
      mode = flowpath::XdpMode::kGeneric;
    else {
      std::fprintf(stderr, "flowpath-floor: unknown option '%s'\n", a.c_str());
      return 2;
    }
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  try {
    flowpath::Umem umem;
    flowpath::AfxdpPort a(umem, {.ifname = argv[1], .mode = mode});
    flowpath::AfxdpPort b(umem, {.ifname = argv[2], .mode = mode});
    std::printf("floor: %s (%u queues, %s) <-> %s (%u queues, %s)\n", argv[1], a.num_queues(),
                a.native_xdp() ? "native" : "generic", argv[2], b.num_queues(),
                b.native_xdp() ? "native" : "generic");
    std::fflush(stdout);
    flowpath::Batch batch;
    uint64_t busy = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (uint64_t iter = 0; !g_stop; ++iter) {
      uint64_t c0 = __rdtsc();
      uint32_t n = forward(a, b, batch) + forward(b, a, batch);
      if (n) busy += __rdtsc() - c0;
      if (seconds > 0 && (iter & 1023) == 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > seconds)
        break;
    }
    uint64_t pkts = a.stats().rx + b.stats().rx;
    report(argv[1], a.stats());
    report(argv[2], b.stats());
    std::printf("busy_cycles %llu packets %llu cycles_per_packet %.0f\n", (unsigned long long)busy,
                (unsigned long long)pkts, pkts ? double(busy) / double(pkts) : 0.0);
  } catch (const flowpath::Error& e) {
    std::fprintf(stderr, "flowpath-floor: %s\n", e.what());
    return 1;
  }
  return 0;
}
