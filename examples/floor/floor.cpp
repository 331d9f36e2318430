// flowpath-floor IF_A IF_B [IF_C IF_D ...] [--seconds N] [--cpu C] [--generic]
//                [--pace-us US]
//
// The floor of the end-to-end benchmark: flowpath's own AF_XDP ports, one
// shared UMEM, forwarding every frame from IF_A to IF_B and back with no
// parsing and no lookup, busy-polling one core.  Several pairs may be
// given (A<->B, C<->D, ...), all on one core and one UMEM: the veth-pair
// shape of the benchmark makes two hops, and its floor makes both.  What it costs per packet
// is what the kernel's veth and AF_XDP paths cost by themselves; a switch
// on the same topology adds its own work on top of this.
//
// Prints, at exit (SIGINT/SIGTERM or after --seconds), per port rx/tx/
// drops and the busy cycles per packet: TSC cycles spent in loop
// iterations that moved at least one packet, divided by the packets
// received on the FIRST port (the traffic's entry), and the busy
// iterations (packets per busy iteration = the mean batch), and the TSC's
// rate over the run (tsc_hz: bench/e2e/run.sh turns sampled time into
// cycles with it).
//
// --pace-us US: after every iteration, wait US microseconds (spinning, not
// counted as busy).  Frames pile up meanwhile, so each busy iteration moves
// a bigger batch: what a slower poller (a switch) sees at the same offered
// load.  A busy iteration has a fixed part (the transmit kick, a system
// call) and a part per packet; bench/e2e/run.sh runs the floor at several
// paces to tell them apart and compares each switch with the floor at the
// switch's own batch size (docs/e2e-benchmark.md, "Batch-matched floor").
#include <sched.h>
#include <signal.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/io/afxdp_port.hpp"

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// An empty receive does nothing more (as a switch's PMD, which flushes
// the ports it queued frames on, and every port only now and then: see
// main): the floor must not do work a switch skips, or "own cost" (a switch's cycles minus the floor's) would
// hide the switch's own work.
uint32_t forward(flowpath::AfxdpPort& in, flowpath::AfxdpPort& out, flowpath::Batch& b) {
  b.clear();
  uint32_t n = in.rx_burst(b);
  if (n == 0) return 0;
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
  std::vector<std::string> ifs;
  double seconds = 0, pace_us = 0;
  int cpu = -1;
  flowpath::XdpMode mode = flowpath::XdpMode::kAuto;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (a == "--cpu" && i + 1 < argc)
      cpu = std::atoi(argv[++i]);
    else if (a == "--pace-us" && i + 1 < argc)
      pace_us = std::atof(argv[++i]);
    else if (a == "--generic")
      mode = flowpath::XdpMode::kGeneric;
    else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "flowpath-floor: unknown option '%s'\n", a.c_str());
      return 2;
    } else
      ifs.push_back(a);
  }
  if (ifs.empty() || ifs.size() % 2) {
    std::fprintf(stderr,
                 "usage: flowpath-floor IF_A IF_B [IF_C IF_D ...] [--seconds N] [--cpu C] "
                 "[--generic] [--pace-us US]\n");
    return 2;
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
    std::vector<std::unique_ptr<flowpath::AfxdpPort>> ports;
    for (auto& name : ifs) {
      ports.push_back(std::make_unique<flowpath::AfxdpPort>(
          umem, flowpath::AfxdpPort::Config{.ifname = name, .mode = mode}));
      std::printf("floor: %s (%u queues, %s XDP, %s)\n", name.c_str(), ports.back()->num_queues(),
                  ports.back()->native_xdp() ? "native" : "generic",
                  ports.back()->zero_copy() ? "zero-copy" : "copy");
    }
    std::fflush(stdout);
    flowpath::Batch batch;
    uint64_t busy = 0, busy_iterations = 0;
    const auto pace = std::chrono::nanoseconds(int64_t(pace_us * 1000));
    auto t0 = std::chrono::steady_clock::now();
    const uint64_t tsc0 = __rdtsc();
    for (uint64_t iter = 0; !g_stop; ++iter) {
      uint64_t c0 = __rdtsc();
      uint32_t n = 0;
      for (size_t i = 0; i < ports.size(); i += 2)
        n += forward(*ports[i], *ports[i + 1], batch) + forward(*ports[i + 1], *ports[i], batch);
      if (n) busy += __rdtsc() - c0, ++busy_iterations;
      // What a kick left queued (the kernel sends a bounded batch per
      // call) and completions: every 64 empty iterations, as the PMD.
      if (n == 0 && (iter & 63) == 0)
        for (auto& p : ports) p->flush();
      if (pace.count() > 0)
        for (auto until = std::chrono::steady_clock::now() + pace;
             std::chrono::steady_clock::now() < until;)
          _mm_pause();
      if (seconds > 0 && (iter & 1023) == 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > seconds)
        break;
    }
    for (auto& p : ports) report(p->name().c_str(), p->stats());
    // Per packet entering the first port: with several pairs chained (the
    // veth shape), one packet's cost covers every hop it makes.
    uint64_t pkts = ports[0]->stats().rx;
    std::printf("busy_cycles %llu packets %llu cycles_per_packet %.0f busy_iterations %llu\n",
                (unsigned long long)busy, (unsigned long long)pkts,
                pkts ? double(busy) / double(pkts) : 0.0, (unsigned long long)busy_iterations);
    // The TSC's rate over the run, for turning sampled time into cycles.
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tsc_hz %.0f\n", elapsed > 0 ? double(__rdtsc() - tsc0) / elapsed : 0.0);
  } catch (const flowpath::Error& e) {
    std::fprintf(stderr, "flowpath-floor: %s\n", e.what());
    return 1;
  }
  return 0;
}
