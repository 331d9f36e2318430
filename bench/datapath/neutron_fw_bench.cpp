// The e2e benchmark's firewall pipeline in the datapath alone: the compute
// node (examples/compute_node/compute-node.conf) through Ofproto + Datapath,
// with and without Neutron's openvswitch-firewall flows on vm1's port
// exactly as bench/e2e/run.sh loads them (tests/e2e/neutron_sg_flows.py
// base, port 1 1 02:00:00:00:01:01 192.0.2.1, rule egress any/any6; br-int's
// priority=1 NORMAL removed, fail mode secure).  One thread, batches of 32
// 64-byte frames from vm1 to 192.0.2.100 (the generator's), frames copied
// back into the same buffers every batch (NORMAL to eth2 pushes VLAN 1000).
//
//   plain/<conns>       compute-node.conf unchanged: one pass, NORMAL
//   fw_udp/<conns>      the firewall, UDP vm1 -> 192.0.2.100 as the e2e
//                       generator sends it (no replies): anti-spoofing,
//                       ct(table=72,zone=1), recirculation, the egress
//                       rule, NORMAL: 2 passes
//   fw_udp_rpl/<conns>  the same after one reply per connection came back
//                       in through the firewall (ingress: ct(table=82))
//   fw_tcp/<conns>      TCP vm1 -> 192.0.2.100:80 after a handshake through
//                       the firewall both ways; the batch repeats the ACK
// conns: 1 or 1,000 connections (source ports 1000...), each batch takes
// the next 32 of them.  The reply direction enters on eth2 with VLAN 1000;
// for it br-int gets one more flow (table=0, priority=4, in_port=int-br-eth2,
// dl_vlan=1000 → mod_vlan_vid:1, resubmit(,60)), as Neutron's br-int sends
// a provider VLAN's traffic through table 60 into the firewall.
// Counters: ns_per_pkt, passes per packet, and the packets lost (an error).
//
// Batch size (FW_BENCH_BATCH=N, 1 to 32, default 32): a PMD that keeps up
// with its traffic gets small batches (3.5-4.5 packets per poll in the e2e
// runs), and a batch's fixed costs are then spread over few packets;
// instructions per packet at 4 and 32 give them apart (docs/datapath.md,
// "Cost": a + b / batch).  The batch is one `Batch` reused, as a PMD's
// (until session 16 a fresh one per batch, whose zeroed keys added ~18
// instructions per packet at 32 to the figures of earlier sessions).
//
// Cold caches (FW_BENCH_COLD=KB, default off): before each batch the bench
// reads KB kilobytes of its own buffer, one load per 64-byte line, so the
// batch starts with an evicted L1 and L2 (this machine's L2 is 1 MiB per
// core: 2048 evicts it; L3, 32 MiB, keeps the tables), as in the e2e run,
// where the PMD thread spends most of its time in the kernel (a sendto per
// few packets, AF_XDP copy mode) between batches (the walk's 512 pages
// evict the TLBs too, as the kernel's work does).  The walk is outside the
// time: with FW_BENCH_COLD set, each batch (frame copies and process) is
// timed alone (manual time: the thread's CPU time around the batch, which
// adds two clock reads per batch; FW_BENCH_COLD=0 is the warm case timed
// the same way, for A/B), and --fixed walks outside measured_batch, so
// callgrind --cache-sim=yes counts the lines a batch misses in L1.
//
// Callgrind A/B (instructions per packet, no timer):
//   neutron_fw_bench --fixed CASE CONNS BATCHES [WARM]
// runs CASE (plain, fw_udp, fw_udp_rpl, fw_tcp) for BATCHES batches in
// measured_batch() only (after WARM uncounted batches: with 20000 the EMC
// holds every connection's two passes, as in the e2e's runs), so
//   valgrind --tool=callgrind --collect-atstart=no
//       --toggle-collect='*measured_batch*' neutron_fw_bench --fixed fw_udp 1 20000
// reports the datapath's instructions (the leading `*`: the function is in
// an anonymous namespace; build with -DFLOWPATH_ARCH_FLAGS=-march=x86-64-v3,
// valgrind has no AVX-512).  It prints the packet count to
// divide by, the EMC's and megaflow cache's hits, how many recirculated
// keys were reused and classified in place (DatapathConfig::recirc_in_place)
// and, with FW_BENCH_DUMP set, the megaflows as dpctl/dump-flows.
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace fp = flowpath;

namespace {

constexpr const char* kVmMac = "02:00:00:00:01:01";
constexpr const char* kRemoteMac = "02:00:00:00:10:00";
constexpr uint16_t kSyn = 0x002, kSynAck = 0x012, kAck = 0x010;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The flows of bench/e2e/run.sh's fw_generate, from the same script.
std::string firewall_flows() {
  const std::string g = FLOWPATH_SOURCE_DIR "/tests/e2e/neutron_sg_flows.py";
  const std::string cmd = "{ /usr/bin/python3 " + g + " base && /usr/bin/python3 " + g +
                          " port 1 1 02:00:00:00:01:01 192.0.2.1 && /usr/bin/python3 " + g +
                          " rule 1 1 egress any && /usr/bin/python3 " + g +
                          " rule 1 1 egress any6; }";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + g);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error(cmd + ": failed");
  return out;
}

std::string config_text(bool firewall) {
  std::string conf = read_file(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf");
  if (!firewall) return conf;
  const std::string normal = "add-flow br-int priority=1 actions=NORMAL\n";
  auto at = conf.find(normal);
  if (at == std::string::npos)
    throw std::runtime_error("compute-node.conf: no '" + normal + "' to replace");
  conf.erase(at, normal.size());
  conf += "set-fail-mode br-int secure\n";
  conf +=
      "add-flow br-int table=0,priority=4,in_port=int-br-eth2,dl_vlan=1000,"
      "actions=mod_vlan_vid:1,resubmit(,60)\n";
  std::istringstream flows(firewall_flows());
  size_t n = 0;
  for (std::string line; std::getline(flows, line);)
    if (!line.empty() && line[0] != '#') conf += "add-flow br-int " + line + "\n", ++n;
  if (n != 62)
    throw std::runtime_error("neutron_sg_flows.py: " + std::to_string(n) + " flows, not 62");
  return conf;
}

enum class Case { kPlain, kFwUdp, kFwUdpReply, kFwTcp };

std::vector<uint8_t> egress(Case c, uint32_t conn, uint16_t flags, uint32_t seq, uint32_t ack) {
  using namespace fp::test;
  Eth eth{mac(kRemoteMac), mac(kVmMac)};
  IPv4 ip{.src = "192.0.2.1", .dst = "192.0.2.100"};
  const uint16_t sport = uint16_t(1000 + conn);
  if (c == Case::kFwTcp)
    return (eth / ip / TCP{.sport = sport, .dport = 80, .flags = flags, .seq = seq, .ack = ack})
        .bytes();
  return (eth / ip / UDP{.sport = sport, .dport = 9} / Payload{.n = 18}).bytes();
}

std::vector<uint8_t> ingress(Case c, uint32_t conn, uint16_t flags, uint32_t seq, uint32_t ack) {
  using namespace fp::test;
  Eth eth{mac(kVmMac), mac(kRemoteMac)};
  IPv4 ip{.src = "192.0.2.100", .dst = "192.0.2.1"};
  const uint16_t dport = uint16_t(1000 + conn);
  if (c == Case::kFwTcp)
    return (eth / Dot1Q{.vid = 1000} / ip /
            TCP{.sport = 80, .dport = dport, .flags = flags, .seq = seq, .ack = ack})
        .bytes();
  return (eth / Dot1Q{.vid = 1000} / ip / UDP{.sport = 9, .dport = dport} / Payload{.n = 14})
      .bytes();
}

std::vector<uint8_t> learn_frame() {
  using namespace fp::test;
  return (Eth{mac("ff:ff:ff:ff:ff:ff"), mac(kRemoteMac)} / Dot1Q{.vid = 1000} /
          IPv4{.src = "192.0.2.100", .dst = "192.0.2.255"} / UDP{.sport = 9, .dport = 9} /
          Payload{.n = 14})
      .bytes();
}

struct CountingSink {
  uint32_t eth2 = 0;
  uint64_t outputs = 0, drops = 0;
  void output(uint32_t port, fp::Packet&, bool) noexcept { outputs += port == eth2; }
  void drop(fp::Packet&) noexcept { ++drops; }
};

// The environment variable `name` as a number in [lo, hi], or nullopt if
// it is not set; anything else throws "NAME='value': " + what.
std::optional<unsigned long> env_number(const char* name, unsigned long lo, unsigned long hi,
                                        const char* what) {
  const char* e = std::getenv(name);
  if (!e) return std::nullopt;
  char* end = nullptr;
  const unsigned long n = std::strtoul(e, &end, 10);
  if (!*e || *end || n < lo || n > hi)
    throw std::runtime_error(std::string(name) + "='" + e + "': " + what);
  return n;
}

// FW_BENCH_EMC=0 turns the EMC off, FW_BENCH_EMC=N inserts 1 in N
// megaflow hits (default 100, as OVS's emc-insert-inv-prob): A/B runs.
fp::DatapathConfig dp_config() {
  fp::DatapathConfig cfg;
  if (auto n =
          env_number("FW_BENCH_EMC", 0, 1'000'000, "not a number from 0 (EMC off) to 1000000")) {
    cfg.emc_enabled = *n != 0;
    if (*n) cfg.emc.insert_inv_prob = uint32_t(*n);
  }
  // FW_BENCH_CT_HINTS=0: every ct() looks its connection up (A/B of the
  // connection hints, DatapathConfig::ct_hints).
  if (auto n = env_number("FW_BENCH_CT_HINTS", 0, 1, "not 0 (hints off) or 1 (on)"))
    cfg.ct_hints = *n != 0;
  // FW_BENCH_INLINE=0: every next pass is queued (A/B of the inline next
  // pass, DatapathConfig::recirc_inline).
  if (auto n = env_number("FW_BENCH_INLINE", 0, 1, "not 0 (queued) or 1 (inline)"))
    cfg.recirc_inline = *n != 0;
  return cfg;
}

// FW_BENCH_COLD=KB: the kilobytes read between batches (0: none, warm);
// -1: not set (warm, timed by the library).
long cold_kb() {
  auto n = env_number("FW_BENCH_COLD", 0, 1'048'576, "not a size in KB from 0 (warm) to 1048576");
  return n ? long(*n) : -1;
}

// The kernel's work between two batches, as far as the caches see it: a
// walk over a buffer larger than L2 (one load per line; the sum is kept so
// the loads stay).
class Evictor {
 public:
  explicit Evictor(long kb)
      : timed_(kb >= 0), buf_(size_t(kb > 0 ? kb : 0) * (1024 / sizeof(uint64_t)), 1) {}
  bool timed() const noexcept { return timed_; }  // FW_BENCH_COLD set
  bool on() const noexcept { return !buf_.empty(); }
  void run() noexcept {
    uint64_t sum = 0;
    for (size_t i = 0; i < buf_.size(); i += 64 / sizeof(uint64_t)) sum += buf_[i];
    sink_ = sum;
  }

 private:
  bool timed_;
  std::vector<uint64_t> buf_;
  volatile uint64_t sink_ = 0;
};

// The thread's CPU time: a batch timed alone by the wall clock also counts
// the time the thread waits preempted, which on a shared 2-vCPU machine
// under load was most of it (warm fw_udp/1000 from ~100 to ~500 ns per
// packet).  A read is a system call (~0.1-0.3 us; the same in A and B).
double thread_seconds() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// FW_BENCH_BATCH=N: packets per batch (default 32).
uint32_t batch_size() {
  auto n = env_number("FW_BENCH_BATCH", 1, fp::kBatchSize, "not a batch size from 1 to 32");
  return n ? uint32_t(*n) : fp::kBatchSize;
}

// A switch with its connections set up; batch() sends the next
// batch_size() packets.
class Bench {
 public:
  Bench(Case c, uint32_t conns)
      : conns_(conns),
        size_(batch_size()),
        of_(fp::SwitchConfig::parse(config_text(c != Case::kPlain))),
        dp_(of_, dp_config()) {
    vm1_ = of_.find_port("vm1")->dp_port;
    eth2_ = of_.find_port("eth2")->dp_port;
    sink_.eth2 = eth2_;
    // The remote host's MAC is learned on eth2 by both bridges' NORMAL (the
    // e2e's `learn`, a ping: its ARP reply): a broadcast from it.
    send_one(learn_frame(), eth2_);
    for (uint32_t i = 0; i < conns; ++i) {
      if (c == Case::kFwTcp) {
        send_one(egress(c, i, kSyn, 1, 0), vm1_);
        send_one(ingress(c, i, kSynAck, 500, 2), eth2_);
        send_one(egress(c, i, kAck, 2, 501), vm1_);
      } else {
        send_one(egress(c, i, 0, 0, 0), vm1_);
        if (c == Case::kFwUdpReply) send_one(ingress(c, i, 0, 0, 0), eth2_);
      }
      frames_.push_back(egress(c, i, kAck, 2, 501));
    }
    bufs_.resize(fp::kBatchSize);
    for (int warm = 0; warm < 4; ++warm) batch();  // megaflows, EMC
    sink_.outputs = sink_.drops = 0;
    dp_.pmd_stats_clear();
  }

  void batch() noexcept {
    batch_.clear();
    for (uint32_t i = 0; i < size_; ++i) {
      bufs_[i].assign(frames_[next_]);
      bufs_[i]->in_port = vm1_;
      batch_.push(&bufs_[i].packet());
      if (++next_ == conns_) next_ = 0;
    }
    dp_.process(batch_, sink_);
  }
  uint32_t size() const noexcept { return size_; }

  void warm(uint64_t batches) noexcept {
    for (uint64_t i = 0; i < batches; ++i) batch();
    sink_.outputs = sink_.drops = 0;
    dp_.pmd_stats_clear();
  }

  const CountingSink& sink() const { return sink_; }
  const fp::PmdStats& stats() const { return dp_.stats(); }
  const fp::RecircState& recirc() const { return dp_.recirc(); }
  std::string dump_flows() const { return dp_.dpctl_dump_flows(); }

 private:
  void send_one(const std::vector<uint8_t>& frame, uint32_t port) {
    fp::PacketBuffer buf(frame, port);
    fp::Batch b;
    b.push(&buf.packet());
    CountingSink s;
    s.eth2 = eth2_;
    dp_.process(b, s);
  }

  uint32_t conns_, size_, next_ = 0, vm1_ = 0, eth2_ = 0;
  fp::Ofproto of_;
  fp::Datapath<fp::Ofproto> dp_;
  CountingSink sink_;
  std::vector<std::vector<uint8_t>> frames_;
  std::vector<fp::PacketBuffer> bufs_;
  fp::Batch batch_;  // reused, as a PMD's
};

void run(benchmark::State& state, Case c) {
  std::unique_ptr<Bench> b;
  std::unique_ptr<Evictor> ev;
  try {
    b = std::make_unique<Bench>(c, uint32_t(state.range(0)));
    ev = std::make_unique<Evictor>(cold_kb());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (state.range(1)) b->warm(uint64_t(state.range(1)));
  if (ev->timed()) {
    for (auto _ : state) {
      if (ev->on()) ev->run();
      const double t0 = thread_seconds();
      b->batch();
      state.SetIterationTime(thread_seconds() - t0);
    }
  } else {
    for (auto _ : state) b->batch();
  }
  const double pkts = double(state.iterations()) * b->size();
  if (b->sink().outputs != uint64_t(pkts)) state.SkipWithError("packets lost (not out on eth2)");
  state.SetItemsProcessed(int64_t(pkts));
  state.counters["ns_per_pkt"] =
      benchmark::Counter(pkts, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["passes"] =
      double(b->stats().packets + b->stats().recirculations) / double(b->stats().packets);
}

void BM_Plain(benchmark::State& s) { run(s, Case::kPlain); }
void BM_FwUdp(benchmark::State& s) { run(s, Case::kFwUdp); }
void BM_FwUdpReply(benchmark::State& s) { run(s, Case::kFwUdpReply); }
void BM_FwTcp(benchmark::State& s) { run(s, Case::kFwTcp); }

}  // namespace

// Args: connections, warm-up batches before the timed loop (0: only the
// constructor's four; 20000: every connection's passes are in the EMC
// before timing starts, as in the e2e's runs of seconds).
// FW_BENCH_COLD: manual time (the eviction walk is not timed; a bad
// value is reported by run()).
void fw_args(benchmark::internal::Benchmark* b) {
  b->Args({1, 0})->Args({1000, 0})->Args({1000, 20000});
  try {
    if (cold_kb() >= 0) b->UseManualTime();
  } catch (const std::exception&) {
  }
}
BENCHMARK(BM_Plain)->Name("plain")->Apply(fw_args);
BENCHMARK(BM_FwUdp)->Name("fw_udp")->Apply(fw_args);
BENCHMARK(BM_FwUdpReply)->Name("fw_udp_rpl")->Apply(fw_args);
BENCHMARK(BM_FwTcp)->Name("fw_tcp")->Apply(fw_args);

// The region callgrind counts (--toggle-collect='*measured_batch*').
__attribute__((noinline)) void measured_batch(Bench& b) { b.batch(); }

int fixed_main(int argc, char** argv);

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--fixed") {
    try {
      return fixed_main(argc, argv);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
      return 2;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// --fixed CASE CONNS BATCHES [WARM]: the callgrind mode (see the top).
int fixed_main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s --fixed plain|fw_udp|fw_udp_rpl|fw_tcp CONNS BATCHES [WARM]\n",
                 argv[0]);
    return 2;
  }
  const std::string name = argv[2];
  Case c = name == "plain"        ? Case::kPlain
           : name == "fw_udp"     ? Case::kFwUdp
           : name == "fw_udp_rpl" ? Case::kFwUdpReply
           : name == "fw_tcp"     ? Case::kFwTcp
                              : throw std::runtime_error("--fixed: unknown case '" + name + "'");
  // throws on a bad FW_BENCH_EMC or FW_BENCH_BATCH
  Bench b(c, uint32_t(std::strtoul(argv[3], nullptr, 10)));
  const uint64_t batches = std::strtoull(argv[4], nullptr, 10);
  // WARM more batches first, outside the counted region and the counters:
  // the EMC inserts 1 in 100 megaflow hits, so at 1,000 connections it
  // fills only after some hundred packets per connection and pass (the
  // e2e's runs of seconds are in that state; 500 batches are 16 packets
  // per connection, mostly megaflow lookups).
  if (argc == 6) b.warm(std::strtoull(argv[5], nullptr, 10));
  Evictor ev(cold_kb());
  for (uint64_t i = 0; i < batches; ++i) {
    if (ev.on()) ev.run();
    measured_batch(b);
  }
  const uint64_t pkts = batches * b.size();
  std::printf("%s/%s: %llu packets, %llu out on eth2, %llu dropped, %.2f passes/packet\n",
              name.c_str(), argv[3], (unsigned long long)pkts, (unsigned long long)b.sink().outputs,
              (unsigned long long)b.sink().drops,
              double(b.stats().packets + b.stats().recirculations) / double(b.stats().packets));
  // Where the passes were classified (the EMC's warm-up shows here).
  std::printf("  lookups %llu: emc hits %llu, megaflow hits %llu (%llu subtables probed)\n",
              (unsigned long long)(b.stats().packets + b.stats().recirculations),
              (unsigned long long)b.stats().emc_hits, (unsigned long long)b.stats().megaflow_hits,
              (unsigned long long)b.stats().subtable_lookups);
  // Keys the later passes took from the earlier ones (since the start, warm
  // batches too), of those classified in the received batch itself, and of
  // those answered by the EMC's remembered next pass (no hash or probe).
  std::printf("  recirculated keys reused %llu, in place %llu, EMC next-pass answers %llu\n",
              (unsigned long long)b.recirc().keys_reused,
              (unsigned long long)b.recirc().keys_in_place,
              (unsigned long long)b.recirc().emc_next);
  std::printf("  next passes run inline %llu\n", (unsigned long long)b.recirc().inlined);
  std::printf("  ct() answered from connection hints %llu of %llu\n",
              (unsigned long long)b.recirc().ct_hinted, (unsigned long long)b.recirc().ct_packets);
  if (std::getenv("FW_BENCH_DUMP")) std::printf("%s", b.dump_flows().c_str());
  return b.sink().outputs == pkts ? 0 : 1;
}
