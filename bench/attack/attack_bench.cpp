// Forwarding under attack and churn (issue 13), one thread, fixed seeds,
// each attack measured against its own baseline in the same run.
//
//   flood/<mode>/<macs>    100,000 (20,000 for the old mode) broadcast
//                          frames from vm1 of the compute node, each from a
//                          new source MAC, interleaved batch by batch with
//                          vm2's known-unicast traffic to a remote host.
//                          new_macs_per_s: flood frames / time in process();
//                          _cpu_s: / this thread's CPU time in it (the
//                          figure to trust on a shared machine); _median:
//                          from the median batch;
//                          victim_ratio: vm2's rate during the flood / its
//                          rate alone (same datapath, before the flood).
//                          mode: indexed (Invalidation::kIndexed, default)
//                          or revalidate (the old inline re-translation).
//   churn/<mode>/<kind>/<rate>  10,000 cached megaflows (one per /32 rule)
//                          forwarded while flow-mods (add, then delete)
//                          arrive at <rate> per second of forwarding time;
//                          kind 0: rules on addresses no cached flow uses,
//                          1: rules on the cached flows' addresses.
//                          fwd_ratio: packets/s vs the same run's no-churn
//                          chunks (alternating); change_share: the part of
//                          the churning chunks' time spent applying the
//                          changes (1 - change_share is the forwarding rate
//                          kept, without the machine's noise).
//   tse/<max_subtables>/<emc>  tuple-space explosion: an allow rule on exact
//                          addresses and ports, a default drop; 10,000
//                          attack packets each flip one bit of each field.
//                          victim_ratio: victim cycles/packet during the
//                          attack / before it; subtables and megaflows at the
//                          end, install refusals counted.
//
// Timing is rdtsc around process() only (flow-mods and frame restores are
// outside), converted with the TSC rate measured at start.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace fp = flowpath;

namespace {

struct Sink {
  uint64_t outputs = 0, drops = 0;
  void output(uint32_t, fp::Packet&, bool) noexcept { ++outputs; }
  void drop(fp::Packet&) noexcept { ++drops; }
};

double tsc_per_second() {
  static const double rate = [] {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t c0 = fp::read_cycles();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    uint64_t c1 = fp::read_cycles();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return double(c1 - c0) / s;
  }();
  return rate;
}

/// A batch of copies of one frame, restored before each use (actions
/// rewrite frames in place); set(i, f) edits packet i's bytes.
struct Frames {
  std::vector<fp::PacketBuffer> bufs = std::vector<fp::PacketBuffer>(fp::kBatchSize);
  std::vector<std::vector<uint8_t>> frames = std::vector<std::vector<uint8_t>>(fp::kBatchSize);
  fp::Batch batch;
  uint32_t in_port = 0;

  void fill(const std::vector<uint8_t>& f, uint32_t port) {
    in_port = port;
    for (auto& x : frames) x = f;
  }
  fp::Batch& make(uint32_t n = fp::kBatchSize) {
    batch.clear();
    for (uint32_t i = 0; i < n; ++i) {
      bufs[i].assign(frames[i]);
      bufs[i].packet().in_port = in_port;
      batch.push(&bufs[i].packet());
    }
    return batch;
  }
};

/// This thread's CPU time: unlike rdtsc, it does not count the time the
/// shared machine gave to other processes.
uint64_t cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

/// Per-batch cycle samples; the median resists preemption on a shared
/// machine better than a sum.
struct Samples {
  std::vector<uint64_t> v;
  void add(uint64_t c) { v.push_back(c); }
  uint64_t sum() const {
    uint64_t s = 0;
    for (uint64_t c : v) s += c;
    return s;
  }
  double median() {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return double(v[v.size() / 2]);
  }
};

template <class DP>
uint64_t timed(DP& dp, fp::Batch& b, Sink& sink) {
  uint64_t t0 = fp::read_cycles();
  dp.process(b, sink);
  return fp::read_cycles() - t0;
}

std::vector<uint8_t> udp(const fp::EthAddr& dst, const fp::EthAddr& src, int vid = -1,
                         const char* ip_dst = "198.51.100.1") {
  using namespace fp::test;
  Eth eth{dst, src};
  IPv4 ip{.src = "192.0.2.1", .dst = ip_dst};
  if (vid >= 0)
    return (eth / Dot1Q{.vid = uint16_t(vid)} / ip / UDP{.sport = 1000, .dport = 9} /
            Payload{.n = 14})
        .bytes();
  return (eth / ip / UDP{.sport = 1000, .dport = 9} / Payload{.n = 18}).bytes();
}

fp::EthAddr host(uint32_t n) {
  return fp::EthAddr{{0x52, 0x54, 0x00, uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)}};
}

// ---- flood ---------------------------------------------------------------
// Two datapaths share the Ofproto, as two PMD threads do: A polls vm1 (the
// flood), B polls vm2 (the victim).  Run alternately on one thread so the
// numbers do not depend on the machine's other load; B's share of work the
// flood causes (reading and applying its changes) is timed apart.  With A
// flooding flat out on its own core, B keeps
//   victim_ratio = (1 - B's change time / A's flood time)
//                  * (B's cycles per victim batch alone / during)
// of its forwarding rate.  same_pmd_ratio: the victim's batches on A
// itself, between flood batches (change work charged to the flood).
void BM_flood(benchmark::State& state) {
  const auto mode = state.range(0) ? fp::Invalidation::kRevalidate : fp::Invalidation::kIndexed;
  const uint32_t n_macs = uint32_t(state.range(1));
  for (auto _ : state) {
    fp::Ofproto of(
        fp::SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"));
    fp::DatapathConfig cfg;
    cfg.invalidation = mode;
    fp::Datapath<fp::Ofproto> dpa(of, cfg), dpb(of, cfg);
    Sink sink;
    const fp::EthAddr vm2 = host(2), remote = host(100), bcast{{255, 255, 255, 255, 255, 255}};
    Frames victim, flood, learn;
    learn.fill(udp(vm2, remote, 1000), of.find_port("eth2")->dp_port);  // remote is on eth2
    dpb.process(learn.make(1), sink);
    victim.fill(udp(remote, vm2), of.find_port("vm2")->dp_port);
    flood.fill(udp(bcast, host(0)), of.find_port("vm1")->dp_port);
    for (int i = 0; i < 4; ++i) dpb.process(victim.make(), sink), dpa.process(victim.make(), sink);

    const uint32_t rounds = n_macs / fp::kBatchSize;
    Samples alone, during, same_alone, same_during, flood_s;
    uint64_t flooding = 0, changes_b = 0, flood_cpu_ns = 0;
    for (uint32_t r = 0; r < rounds; ++r) {
      alone.add(timed(dpb, victim.make(), sink));
      same_alone.add(timed(dpa, victim.make(), sink));
    }
    std::mt19937 rng(13);
    for (uint32_t r = 0; r < rounds; ++r) {
      for (auto& f : flood.frames) {
        uint32_t v = rng();
        f[6] = 0x02, f[7] = uint8_t(r >> 8), f[8] = uint8_t(r);  // locally administered
        f[9] = uint8_t(v), f[10] = uint8_t(v >> 8), f[11] = uint8_t(v >> 16);
      }
      fp::Batch& fb = flood.make();
      uint64_t c0 = cpu_ns(), t0 = fp::read_cycles();
      dpa.process(fb, sink);
      dpa.revalidate_if_needed();  // the flood's own changes, charged to it
      flooding += fp::read_cycles() - t0;
      flood_s.add(fp::read_cycles() - t0);
      flood_cpu_ns += cpu_ns() - c0;
      same_during.add(timed(dpa, victim.make(), sink));
      t0 = fp::read_cycles();
      dpb.revalidate_if_needed();
      changes_b += fp::read_cycles() - t0;
      during.add(timed(dpb, victim.make(), sink));
    }
    const double hz = tsc_per_second();
    state.counters["new_macs_per_s"] = double(rounds * fp::kBatchSize) / (double(flooding) / hz);
    state.counters["new_macs_per_s_median"] = fp::kBatchSize / (flood_s.median() / hz);
    state.counters["new_macs_per_cpu_s"] = double(rounds * fp::kBatchSize) / (flood_cpu_ns / 1e9);
    state.counters["victim_ratio"] =
        (1.0 - double(changes_b) / double(flooding)) * alone.median() / during.median();
    state.counters["victim_change_share"] = double(changes_b) / double(flooding);
    state.counters["same_pmd_ratio"] = same_alone.median() / same_during.median();
    state.counters["victim_cyc_pkt"] = alone.median() / fp::kBatchSize;
    state.counters["megaflows_a"] = double(dpa.megaflows().size());
    state.counters["megaflows_b"] = double(dpb.megaflows().size());
    state.counters["lost"] = double(dpa.stats().lost + dpb.stats().lost);
    state.counters["victim_upcalls"] = double(dpb.stats().upcall_ok);
  }
}
BENCHMARK(BM_flood)
    ->Name("flood")
    ->ArgNames({"revalidate", "macs"})
    ->Args({0, 100'000})
    ->Args({1, 20'000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// ---- churn ---------------------------------------------------------------
constexpr uint32_t kChurnFlows = 10'000;

std::string churn_config() {
  std::string c = "add-br br0\nadd-port br0 p1\nadd-port br0 p2\n";
  for (uint32_t i = 0; i < kChurnFlows; ++i)
    c += "add-flow br0 priority=10,ip,nw_dst=10.0." + std::to_string(i / 250) + "." +
         std::to_string(i % 250 + 1) + " actions=output:p2\n";
  c += "add-flow br0 priority=0 actions=drop\n";
  return c;
}

void BM_churn(benchmark::State& state) {
  const auto mode = state.range(0) ? fp::Invalidation::kRevalidate : fp::Invalidation::kIndexed;
  const bool touching = state.range(1) != 0;
  const double rate = double(state.range(2));
  for (auto _ : state) {
    fp::Ofproto of(fp::SwitchConfig::parse(churn_config()));
    fp::DatapathConfig cfg;
    cfg.invalidation = mode;
    fp::Datapath<fp::Ofproto> dp(of, cfg);
    Sink sink;
    Frames traffic;
    traffic.fill(udp(host(2), host(1)), of.find_port("p1")->dp_port);
    uint32_t next_flow = 0;
    auto next_batch = [&]() -> fp::Batch& {
      for (auto& f : traffic.frames) {  // nw_dst = 10.0.x.y, bytes 30..33
        uint32_t i = next_flow++ % kChurnFlows;
        f[30] = 10, f[31] = 0, f[32] = uint8_t(i / 250), f[33] = uint8_t(i % 250 + 1);
        f[24] = f[25] = 0;  // the IPv4 checksum is not checked
      }
      return traffic.make();
    };
    for (uint32_t i = 0; i < kChurnFlows / fp::kBatchSize + 2; ++i) dp.process(next_batch(), sink);
    const double hz = tsc_per_second();
    const uint32_t batches = mode == fp::Invalidation::kRevalidate ? 600 : 40'000;
    // Quiet and churning chunks alternate, so that drifting machine load
    // hits both alike.
    Samples quiet, busy_s;
    uint64_t busy = 0, mods = 0, changes = 0, upcalls0 = dp.stats().upcall_ok;
    std::string live;  // the rule added last, deleted next
    const uint32_t chunk = batches / 20;
    for (uint32_t i = 0; i < batches; ++i) {
      if ((i / chunk) % 2 == 0) {
        quiet.add(timed(dp, next_batch(), sink));
        continue;
      }
      while (double(mods) < rate * double(busy) / hz) {
        if (live.empty()) {
          uint32_t k = uint32_t(mods / 2) % kChurnFlows;
          live = "priority=20,ip,nw_dst=" + std::string(touching ? "10.0." : "172.16.") +
                 std::to_string(k / 250) + "." + std::to_string(k % 250 + 1);
          of.add_flow("br0", live + " actions=output:p2");
        } else {
          of.del_flows("br0", live, true);
          live.clear();
        }
        ++mods;
      }
      uint64_t t0 = fp::read_cycles();
      dp.revalidate_if_needed();  // the changes' cost, timed apart as well
      uint64_t t1 = fp::read_cycles();
      changes += t1 - t0;
      uint64_t c = t1 - t0 + timed(dp, next_batch(), sink);
      busy += c;
      busy_s.add(c);
    }
    // Sums: the cost of a change is paid by one batch in many, so a median
    // would hide it; the quiet phase's sum is the baseline.
    state.counters["fwd_ratio"] = double(quiet.sum()) / double(busy);
    state.counters["fwd_ratio_median"] = quiet.median() / busy_s.median();
    // The forwarding thread's share of time spent applying changes: what
    // the churn takes from forwarding, free of the machine's noise.
    state.counters["change_share"] = double(changes) / double(busy);
    const double half = double(batches / 2 * fp::kBatchSize);
    state.counters["Mpps_quiet"] = half / (double(quiet.sum()) / hz) / 1e6;
    state.counters["Mpps_churn"] = half / (double(busy) / hz) / 1e6;
    state.counters["flow_mods"] = double(mods);
    state.counters["upcalls"] = double(dp.stats().upcall_ok - upcalls0);
    state.counters["megaflows"] = double(dp.megaflows().size());
  }
}
BENCHMARK(BM_churn)
    ->Name("churn")
    ->ArgNames({"revalidate", "touching", "mods_per_s"})
    ->Args({0, 0, 0})
    ->Args({0, 0, 1'000})
    ->Args({0, 0, 10'000})
    ->Args({0, 1, 1'000})
    ->Args({0, 1, 10'000})
    ->Args({1, 0, 1'000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// ---- tse -----------------------------------------------------------------
void BM_tse(benchmark::State& state) {
  const size_t max_subtables = size_t(state.range(0));
  const bool emc = state.range(1) != 0;
  for (auto _ : state) {
    fp::Ofproto of(fp::SwitchConfig::parse(
        "add-br br0\nadd-port br0 p1\nadd-port br0 p2\n"
        "add-flow br0 priority=10,tcp,nw_src=192.0.2.1,nw_dst=198.51.100.1,tp_src=1000,"
        "tp_dst=80 actions=output:p2\n"
        "add-flow br0 priority=0 actions=drop\n"));
    fp::DatapathConfig cfg;
    cfg.megaflow.max_subtables = max_subtables;
    cfg.emc_enabled = emc;
    fp::Datapath<fp::Ofproto> dp(of, cfg);
    Sink sink;
    using namespace fp::test;
    auto tcp = [](uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
      return (Eth{"52:54:00:00:00:02", "52:54:00:00:00:01"} /
              IPv4{.src = fp::Be32(src), .dst = fp::Be32(dst)} /
              TCP{.sport = sport, .dport = dport})
          .bytes();
    };
    const uint32_t src = 0xc0000201u, dst = 0xc6336401u;
    const uint32_t in = of.find_port("p1")->dp_port;
    Frames victim, attack;
    victim.fill(tcp(src, dst, 1000, 80), in);
    for (int i = 0; i < 4; ++i) dp.process(victim.make(), sink);
    const uint32_t batches = 4'000;
    Samples before, during;
    for (uint32_t i = 0; i < batches; ++i) before.add(timed(dp, victim.make(), sink));
    // Attack keys: each field equal to the allowed value but for one bit
    // (or left equal), so each key's decision consults a different prefix.
    std::mt19937 rng(25);
    std::vector<std::vector<uint8_t>> keys;
    for (int i = 0; i < 10'000; ++i) {
      auto flip = [&](uint32_t v, int bits) {
        uint32_t b = rng() % uint32_t(bits + 1);
        return b == uint32_t(bits) ? v : v ^ (1u << b);
      };
      keys.push_back(
          tcp(flip(src, 32), flip(dst, 32), uint16_t(flip(1000, 16)), uint16_t(flip(80, 16))));
    }
    size_t next = 0;
    for (uint32_t i = 0; i < batches; ++i) {
      for (auto& f : attack.frames) f = keys[next++ % keys.size()];
      attack.in_port = in;
      dp.process(attack.make(), sink);
      during.add(timed(dp, victim.make(), sink));
    }
    state.counters["victim_ratio"] = during.median() / before.median();
    state.counters["victim_cyc_before"] = before.median() / fp::kBatchSize;
    state.counters["victim_cyc_during"] = during.median() / fp::kBatchSize;
    state.counters["subtables"] = double(dp.megaflows().n_subtables());
    state.counters["megaflows"] = double(dp.megaflows().size());
    state.counters["refused_subtable"] =
        double(dp.megaflows().counters().install_refused_subtable_limit);
    state.counters["uncached"] = double(dp.stats().uncached);
    state.counters["lost"] = double(dp.stats().lost);
  }
}
BENCHMARK(BM_tse)
    ->Name("tse")
    ->ArgNames({"max_subtables", "emc"})
    ->Args({1'000'000, 0})
    ->Args({1'024, 0})
    ->Args({64, 0})
    ->Args({1'024, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
