// flowpath/datapath/pmd_stats.hpp — per-thread datapath counters and their
// `ovs-appctl dpif-netdev/pmd-stats-show` rendering.
//
// A Datapath owns one PmdStats (it runs on one thread, the "pmd").  Cycles
// are read with rdtsc (std::chrono nanoseconds where there is no TSC) at
// the start and end of every process() call; cycles / packets is the
// figure OVS reports as "avg processing cycles per packet".  flowpath does
// not poll, so there are no idle cycles.
//
// Counters that OVS does not show (malformed packets, uncached flows at a
// limit, revalidations) are plain fields here.
//
// Cost: a few adds per batch.  Thread-safety: read from the owning thread.
#pragma once

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace flowpath {

/// Cycle counter: the TSC on x86, nanoseconds elsewhere.
inline uint64_t read_cycles() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

struct PmdStats {
  uint64_t packets = 0;           // packets received
  uint64_t emc_hits = 0;          // exact-match cache hits
  uint64_t megaflow_hits = 0;     // megaflow cache hits
  uint64_t subtable_lookups = 0;  // subtables probed for the megaflow hits
  uint64_t upcall_ok = 0;         // miss with success upcall
  uint64_t lost = 0;              // miss with failed upcall (packet dropped)
  uint64_t uncached = 0;          // upcalls not cached (cache limit, or not cacheable)
  uint64_t malformed = 0;         // parser flagged the packet (still classified)
  uint64_t groups = 0;            // flow groups executed (output batches)
  uint64_t group_packets = 0;     // packets in those groups
  uint64_t outputs = 0;           // packet outputs (executor)
  uint64_t action_drops = 0;      // packets dropped by their actions
  uint64_t revalidations = 0;     // generation changes handled
  uint64_t revalidated_out = 0;   // megaflows removed by revalidation
  uint64_t changes = 0;           // journal changes applied (kIndexed)
  uint64_t full_flushes = 0;      // kIndexed: a kAll change or a lagging reader
  uint64_t batches = 0;
  uint64_t recirculations = 0;      // packet passes after the first (recirc actions)
  uint64_t recirc_depth_drops = 0;  // dropped after 6 recirculations
  uint64_t cycles = 0;              // processing cycles (rdtsc)

  double cycles_per_packet() const noexcept { return packets ? double(cycles) / packets : 0.0; }
};

/// Renders stats as `ovs-appctl dpif-netdev/pmd-stats-show` (OVS 3.1) does
/// for one pmd thread.  "avg. packets per output batch" is packets per flow
/// group: each group's output to a port is one batch.
inline std::string pmd_stats_show(const PmdStats& s, unsigned numa_id = 0, unsigned core_id = 0) {
  std::string out;
  char buf[512];
  auto put = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  double passes = s.packets ? double(s.packets + s.recirculations) / double(s.packets) : 0.0;
  double lookups = s.megaflow_hits ? double(s.subtable_lookups) / s.megaflow_hits : 0.0;
  double per_batch = s.groups ? double(s.group_packets) / s.groups : 0.0;
  put("pmd thread numa_id %u core_id %u:\n", numa_id, core_id);
  put("  packets received: %" PRIu64 "\n", s.packets);
  put("  packet recirculations: %" PRIu64 "\n", s.recirculations);
  put("  avg. datapath passes per packet: %.02f\n", passes);
  put("  phwol hits: %" PRIu64 "\n", uint64_t{0});
  put("  mfex opt hits: %" PRIu64 "\n", uint64_t{0});
  put("  simple match hits: %" PRIu64 "\n", uint64_t{0});
  put("  emc hits: %" PRIu64 "\n", s.emc_hits);
  put("  smc hits: %" PRIu64 "\n", uint64_t{0});
  put("  megaflow hits: %" PRIu64 "\n", s.megaflow_hits);
  put("  avg. subtable lookups per megaflow hit: %.02f\n", lookups);
  put("  miss with success upcall: %" PRIu64 "\n", s.upcall_ok);
  put("  miss with failed upcall: %" PRIu64 "\n", s.lost);
  put("  avg. packets per output batch: %.02f\n", per_batch);
  if (s.cycles == 0) return out;
  put("  idle cycles: %" PRIu64 " (%.02f%%)\n", uint64_t{0}, 0.0);
  put("  processing cycles: %" PRIu64 " (%.02f%%)\n", s.cycles, 100.0);
  if (s.packets == 0) return out;
  put("  avg cycles per packet: %.02f (%" PRIu64 "/%" PRIu64 ")\n", s.cycles_per_packet(), s.cycles,
      s.packets);
  put("  avg processing cycles per packet: %.02f (%" PRIu64 "/%" PRIu64 ")\n",
      s.cycles_per_packet(), s.cycles, s.packets);
  return out;
}

}  // namespace flowpath
