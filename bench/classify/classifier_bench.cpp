// Classifier on the ClassBench sets: build time, ns per lookup (single and
// batched, mix100k trace), updates/s (remove + re-insert of random rules),
// memory, megaflow mask size; with a naive linear 5-tuple scan in the same
// run (1K and 10K sets only).  Sets come from $FLOWPATH_CLASSBENCH_DIR, else
// <source>/../shared/data/classbench.  Counters:
//   ns_per_lookup (printed in seconds per lookup), build_ms, updates_per_s, memory_MB, tables,
//   wc_bits
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "flowpath/classify/classbench.hpp"
#include "flowpath/classify/classifier.hpp"
#include "flowpath/classify/classifier_v2.hpp"

namespace {
using namespace flowpath;

std::string data_dir() {
  if (const char* d = std::getenv("FLOWPATH_CLASSBENCH_DIR")) return d;
  return std::string(FLOWPATH_SOURCE_DIR) + "/../shared/data/classbench";
}

struct SetData {
  std::vector<classbench::Rule> rules;
  std::vector<FlowKey> keys;
};
const SetData& load(const std::string& set) {
  static std::map<std::string, SetData> cache;
  auto it = cache.find(set);
  if (it != cache.end()) return it->second;
  SetData d;
  d.rules = classbench::load_rules(data_dir() + "/" + set + ".gz");
  d.keys = classbench::load_trace(data_dir() + "/" + set + "_mix100k.trace.gz");
  return cache.emplace(set, std::move(d)).first->second;
}

void build(Classifier<int>& c, const SetData& d) {
  for (size_t i = 0; i < d.rules.size(); ++i)
    c.insert(d.rules[i].match, classbench::priority_of(i), int(i), d.rules[i].ranges);
}

/// One built classifier per set and config, shared by the benchmarks (the
/// update benchmark restores what it changes); build time of the first build.
struct Built {
  std::unique_ptr<Classifier<int>> c;
  double build_ms;
};
Built& built(const std::string& set, bool tries = true) {
  static std::map<std::string, Built> cache;
  std::string key = set + (tries ? "" : "/notries");
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  ClassifierConfig cfg;
  cfg.prefix_tracking = tries;
  Built b{std::make_unique<Classifier<int>>(cfg), 0};
  auto t0 = std::chrono::steady_clock::now();
  build(*b.c, load(set));
  b.build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return cache.emplace(key, std::move(b)).first->second;
}

void BM_classifier_single(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  auto& b = built(set);
  const auto& c = *b.c;
  double build_ms = b.build_ms;
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.lookup(d.keys[i]));
    if (++i == d.keys.size()) i = 0;
  }
  st.counters["ns_per_lookup"] = benchmark::Counter(
      double(st.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["build_ms"] = build_ms;
  st.counters["memory_MB"] = double(c.memory_bytes()) / 1048576.0;
  st.counters["tables"] = double(c.n_tables());
  st.counters["rules"] = double(c.size());
}

void BM_classifier_batch(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  const auto& c = *built(set).c;
  std::vector<const Classifier<int>::Rule*> out(32);
  size_t i = 0;
  for (auto _ : st) {
    size_t n = std::min<size_t>(32, d.keys.size() - i);
    c.lookup_batch(std::span<const FlowKey>(d.keys.data() + i, n), out.data());
    benchmark::DoNotOptimize(out.data());
    i += n;
    if (i == d.keys.size()) i = 0;
    st.SetItemsProcessed(st.items_processed() + int64_t(n));
  }
  st.counters["ns_per_lookup"] = benchmark::Counter(
      double(st.items_processed()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Remove + re-insert of a random rule; range(0) = 0 disables prefix
/// tracking (tries), for users who never ask for megaflow masks.
void BM_classifier_update(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  auto& c = *built(set, st.range(0) != 0).c;
  std::mt19937 rng(42);
  for (auto _ : st) {
    size_t i = rng() % d.rules.size();
    c.remove(d.rules[i].match, classbench::priority_of(i), d.rules[i].ranges);
    c.insert(d.rules[i].match, classbench::priority_of(i), int(i), d.rules[i].ranges);
  }
  st.counters["updates_per_s"] =
      benchmark::Counter(2.0 * double(st.iterations()), benchmark::Counter::kIsRate);
}

void BM_classifier_megaflow(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  const auto& c = *built(set).c;
  size_t i = 0, bits = 0, n = 0;
  for (auto _ : st) {
    FlowMask wc{};
    benchmark::DoNotOptimize(c.lookup(d.keys[i], &wc));
    for (size_t w = 0; w < FlowKey::kWords; ++w) bits += std::popcount(wc.word(w));
    ++n;
    if (++i == d.keys.size()) i = 0;
  }
  // Of the 104 bits of a 5-tuple + dl_type key.
  st.counters["wc_bits"] = double(bits) / double(n ? n : 1);
  st.counters["ns_per_lookup"] = benchmark::Counter(
      double(st.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Naive baseline: first matching rule of a 5-tuple scan.
struct Linear5 {
  struct R {
    uint32_t src, smask, dst, dmask;
    uint16_t slo, shi, dlo, dhi;
    uint8_t proto, pmask;
  };
  std::vector<R> rules;
  explicit Linear5(const std::vector<classbench::Rule>& rs) {
    for (const auto& r : rs)
      rules.push_back({r.match.value.nw_src.host(), r.match.mask.nw_src.host(),
                       r.match.value.nw_dst.host(), r.match.mask.nw_dst.host(), r.ranges.tp_src.lo,
                       r.ranges.tp_src.hi, r.ranges.tp_dst.lo, r.ranges.tp_dst.hi,
                       r.match.value.nw_proto, r.match.mask.nw_proto});
  }
  int lookup(const FlowKey& k) const {
    uint32_t s = k.nw_src.host(), d = k.nw_dst.host();
    uint16_t sp = k.tp_src.host(), dp = k.tp_dst.host();
    for (size_t i = 0; i < rules.size(); ++i) {
      const R& r = rules[i];
      if ((s & r.smask) == r.src && (d & r.dmask) == r.dst && sp >= r.slo && sp <= r.shi &&
          dp >= r.dlo && dp <= r.dhi && (k.nw_proto & r.pmask) == r.proto)
        return int(i);
    }
    return -1;
  }
};

void BM_linear_single(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  Linear5 lin(d.rules);
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(lin.lookup(d.keys[i]));
    if (++i == d.keys.size()) i = 0;
  }
  st.counters["ns_per_lookup"] = benchmark::Counter(
      double(st.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---- ClassifierV2 (forest + delta) ------------------------------------------
struct BuiltV2 {
  std::unique_ptr<ClassifierV2<int>> c;
  double build_ms;  // inserts, then compile_now()
};
BuiltV2& built_v2(const std::string& set) {
  static std::map<std::string, BuiltV2> cache;
  auto it = cache.find(set);
  if (it != cache.end()) return it->second;
  const auto& d = load(set);
  BuiltV2 b{std::make_unique<ClassifierV2<int>>(), 0};
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < d.rules.size(); ++i)
    b.c->insert(d.rules[i].match, classbench::priority_of(i), int(i), d.rules[i].ranges);
  b.c->compile_now();
  b.build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return cache.emplace(set, std::move(b)).first->second;
}

void BM_v2_single(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  auto& b = built_v2(set);
  b.c->compile_now();  // fold what the update benchmark left in the delta
  const auto& c = *b.c;
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.lookup(d.keys[i]));
    if (++i == d.keys.size()) i = 0;
  }
  st.counters["ns_per_lookup"] = benchmark::Counter(
      double(st.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["build_ms"] = b.build_ms;
  st.counters["memory_MB"] = double(c.memory_bytes()) / 1048576.0;
  st.counters["tables"] = double(c.n_tables());
  st.counters["rules"] = double(c.size());
  const auto* bits = c.forest() ? c.forest()->bits() : nullptr;
  st.counters["bits_MB"] = bits ? double(bits->memory_bytes()) / 1048576.0 : 0.0;
}

void BM_v2_batch(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  auto& b = built_v2(set);
  b.c->compile_now();
  const auto& c = *b.c;
  std::vector<const ClassifierV2<int>::Rule*> out(32);
  size_t i = 0;
  for (auto _ : st) {
    size_t n = std::min<size_t>(32, d.keys.size() - i);
    c.lookup_batch(std::span<const FlowKey>(d.keys.data() + i, n), out.data());
    benchmark::DoNotOptimize(out.data());
    i += n;
    if (i == d.keys.size()) i = 0;
    st.SetItemsProcessed(st.items_processed() + int64_t(n));
  }
  st.counters["ns_per_lookup"] = benchmark::Counter(
      double(st.items_processed()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_v2_megaflow(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  auto& b = built_v2(set);
  b.c->compile_now();
  const auto& c = *b.c;
  size_t i = 0, bits = 0, n = 0;
  for (auto _ : st) {
    FlowMask wc{};
    benchmark::DoNotOptimize(c.lookup(d.keys[i], &wc));
    for (size_t w = 0; w < FlowKey::kWords; ++w) bits += std::popcount(wc.word(w));
    ++n;
    if (++i == d.keys.size()) i = 0;
  }
  st.counters["wc_bits"] = double(bits) / double(n ? n : 1);
}

/// Where a lookup's time goes, counted (not timed) over the trace: trees
/// descended, wide nodes stepped through, leaf entries compared (the
/// forest's own counting twin of its lookup, early exits included), and
/// the rank of the answer among all rules (0 = the highest priority).
void BM_v2_cost(benchmark::State& st, std::string set) {
  const auto& d = load(set);
  auto& b = built_v2(set);
  b.c->compile_now();
  const auto* f = b.c->forest();
  if (!f) return st.SkipWithError("no forest");
  double trees = 0, nodes = 0, ents = 0, pos = 0;
  size_t n = 0;
  for (auto _ : st) {
    for (const FlowKey& k : d.keys) {
      auto c = f->lookup_cost(k, classify_detail::kNeverRemoved - 1);
      trees += double(c.trees);
      nodes += double(c.nodes);
      ents += double(c.entries);
      const auto* r = b.c->lookup(k);
      pos += r ? double(r->value) : double(d.rules.size());
    }
    n += d.keys.size();
  }
  auto stats = f->stats();
  st.counters["trees"] = trees / double(n);
  st.counters["nodes"] = nodes / double(n);
  st.counters["entries"] = ents / double(n);
  st.counters["answer_rank"] = pos / double(n) / double(d.rules.size());
  st.counters["forest_trees"] = double(f->n_trees());
  st.counters["entries_per_rule"] = double(stats.entries) / double(d.rules.size());
  st.counters["max_depth"] = double(stats.max_depth);
}

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

/// Remove + re-insert of a random rule while another thread looks up the
/// trace (and, for v2, background compiles run).  updates_per_s counts the writer's
/// CPU time plus the compile thread's (the whole cost of an update);
/// writer_updates_per_s the writer's alone (what v1's figure measures);
/// lookups_per_s is the concurrent reader's rate per CPU second.
/// v2: compiles in flight when the window opens are waited for first (not
/// counted), those started inside it are waited for at its end and counted
/// whole, so the rate carries every compile its updates caused.
double compile_cpu(const ClassifierV2<int>& c) { return c.compile_cpu_seconds(); }
double compile_cpu(const Classifier<int>&) { return 0; }
void wait_compiles(ClassifierV2<int>& c) { c.wait_compiles(); }
void wait_compiles(Classifier<int>&) {}

template <class C>
void update_with_reader(benchmark::State& st, const SetData& d, C& c) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> looked{0};
  std::atomic<double> reader_cpu{0};
  std::thread reader([&] {
    size_t i = 0;
    uint64_t n = 0;
    double t0 = thread_cpu();
    while (!stop.load(std::memory_order_relaxed)) {
      benchmark::DoNotOptimize(c.lookup(d.keys[i]));
      if (++i == d.keys.size()) i = 0;
      ++n;
    }
    reader_cpu = thread_cpu() - t0;
    looked = n;
  });
  std::mt19937 rng(42);
  wait_compiles(c);
  double w0 = thread_cpu(), k0 = compile_cpu(c);
  for (auto _ : st) {
    size_t i = rng() % d.rules.size();
    c.remove(d.rules[i].match, classbench::priority_of(i), d.rules[i].ranges);
    c.insert(d.rules[i].match, classbench::priority_of(i), int(i), d.rules[i].ranges);
  }
  double writer = thread_cpu() - w0;
  wait_compiles(c);
  stop = true;
  reader.join();
  double compile = compile_cpu(c) - k0;
  st.counters["updates_per_s"] = 2.0 * double(st.iterations()) / (writer + compile);
  st.counters["writer_updates_per_s"] = 2.0 * double(st.iterations()) / writer;
  st.counters["compile_share"] = compile / (writer + compile);
  st.counters["lookups_per_s"] = double(looked.load()) / reader_cpu.load();
}

void BM_v2_update(benchmark::State& st, std::string set) {
  auto& c = *built_v2(set).c;
  uint64_t compiles0 = c.compiles();
  update_with_reader(st, load(set), c);
  st.counters["compiles"] = double(c.compiles() - compiles0);
  st.counters["delta_end"] = double(c.delta_size());  // rules in the delta when churn stops
  st.counters["tables_end"] = double(c.n_tables());
}
/// The same for Classifier (v1, prefix tries on), for a like-for-like ratio.
void BM_classifier_update_reader(benchmark::State& st, std::string set) {
  update_with_reader(st, load(set), *built(set).c);
}

int register_all() {
  for (std::string set :
       {"acl1_1k", "fw1_1k", "ipc1_1k", "acl1_10k", "fw1_10k", "ipc1_10k", "acl1_100k"}) {
    if (!std::filesystem::exists(data_dir() + "/" + set + ".gz")) continue;
    benchmark::RegisterBenchmark(("classifier_single/" + set).c_str(), BM_classifier_single, set)
        ->MinTime(0.3);
    benchmark::RegisterBenchmark(("classifier_batch32/" + set).c_str(), BM_classifier_batch, set)
        ->MinTime(0.3);
    benchmark::RegisterBenchmark(("classifier_update/" + set).c_str(), BM_classifier_update, set)
        ->Arg(1)
        ->Arg(0)
        ->MinTime(0.3);
    benchmark::RegisterBenchmark(("classifier_megaflow/" + set).c_str(), BM_classifier_megaflow,
                                 set)
        ->MinTime(0.3);
    benchmark::RegisterBenchmark(("v2_single/" + set).c_str(), BM_v2_single, set)->MinTime(0.3);
    benchmark::RegisterBenchmark(("v2_batch32/" + set).c_str(), BM_v2_batch, set)->MinTime(0.3);
    benchmark::RegisterBenchmark(("v2_cost/" + set).c_str(), BM_v2_cost, set)->Iterations(1);
    // A 100K compile takes 0.1-0.4 s and then pauses 8x as long: a window
    // of 3 s of writer CPU holds several (each counted whole, see above).
    double upd_window = set.find("100k") == std::string::npos ? 0.5 : 3.0;
    benchmark::RegisterBenchmark(("v2_update/" + set).c_str(), BM_v2_update, set)
        ->MinTime(upd_window);
    benchmark::RegisterBenchmark(("classifier_updreader/" + set).c_str(),
                                 BM_classifier_update_reader, set)
        ->MinTime(upd_window);
    benchmark::RegisterBenchmark(("v2_megaflow/" + set).c_str(), BM_v2_megaflow, set)->MinTime(0.3);
    if (set.find("100k") == std::string::npos)
      benchmark::RegisterBenchmark(("linear_single/" + set).c_str(), BM_linear_single, set)
          ->MinTime(0.3);
  }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
