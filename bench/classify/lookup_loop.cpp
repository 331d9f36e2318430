// ClassifierV2 lookups over one ClassBench set's mix100k trace, for
// profilers (callgrind, perf) and quick A/B runs of two builds: loads the
// rules, compile_now(), then passes over the trace, single lookups or
// lookup_batch, and checks every answer against the .ans.gz file.
// Usage:  classify_lookup_loop SET single|batch [PASSES]
// Prints "SET MODE best NS ns/lookup wrong N rss_kB N anon_huge_kB N
// build_ms N huge_maps N live N" (best pass, wall clock; the process's RSS and transparent huge
// pages after the passes, from /proc/self/smaps_rollup, -1 when unreadable; the inserts and
// compile_now(), wall clock; mappings of 1 MiB or more made so far, and those still mapped,
// huge_pages.hpp); exit status 1 on a wrong answer, 2 on bad arguments.  Sets come from
// $FLOWPATH_CLASSBENCH_DIR, else <source>/../shared/data/classbench.
// FLOWPATH_LOOP_NO_THP=1 leaves out the huge-page advice (huge_pages.hpp).
// FLOWPATH_LOOP_LEAF_SIZE=N, FLOWPATH_LOOP_BATCH_TREES_BYTES=N and
// FLOWPATH_LOOP_FIRST_TREE_ALONE=1|0|-1 set those ClassifierV2Config fields (A/B of a setting in
// one binary); a second line then says the trees' bytes, whether batches walk them, whether single
// lookups walk the first tree alone (SplitForest::first_tree_alone), and the megaflow
// bits per lookup over the trace (lookup(key, &mask), not timed).
// bench/classify/callgrind.sh runs it under callgrind, collecting only
// ClassifierV2::lookup / lookup_batch.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "flowpath/classify/classbench.hpp"
#include "flowpath/classify/classifier_v2.hpp"

namespace lookup_loop {
// A field of /proc/self/smaps_rollup in kB (-1 when absent).
long rollup_kb(const std::string& field) {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string line;  // the first line names the range; then "Field:   N kB"
  while (std::getline(in, line))
    if (line.compare(0, field.size() + 1, field + ":") == 0)
      return std::atol(line.c_str() + field.size() + 1);
  return -1;
}
// One lookup, out of line: callgrind.sh collects it by this name (GCC
// inlines ClassifierV2::lookup into main's loop in some builds, and then
// nothing of it was collected).
[[gnu::noinline]] const flowpath::ClassifierV2<int>::Rule* one(
    const flowpath::ClassifierV2<int>& cls, const flowpath::FlowKey& key) {
  return cls.lookup(key);
}
}  // namespace lookup_loop

int main(int argc, char** argv) {
  using namespace flowpath;
  std::string mode = argc > 2 ? argv[2] : "";
  int passes = argc > 3 ? std::atoi(argv[3]) : 1;
  if (argc < 3 || argc > 4 || (mode != "single" && mode != "batch") || passes < 1) {
    std::fprintf(stderr, "usage: %s SET single|batch [PASSES >= 1]\n", argv[0]);
    return 2;
  }
  const char* env = std::getenv("FLOWPATH_CLASSBENCH_DIR");
  std::string dir = env ? env : std::string(FLOWPATH_SOURCE_DIR) + "/../shared/data/classbench";
  std::string set = argv[1];
  std::vector<classbench::Rule> rules;
  std::vector<FlowKey> keys;
  std::vector<int> ans;
  try {  // the loaders' errors name the file and line
    rules = classbench::load_rules(dir + "/" + set + ".gz");
    keys = classbench::load_trace(dir + "/" + set + "_mix100k.trace.gz");
    ans = classbench::load_answers(dir + "/" + set + ".mix100k.ans.gz");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "classify_lookup_loop: %s\n", e.what());
    return 2;
  }
  if (keys.size() != ans.size()) {
    std::fprintf(stderr, "%s: %zu trace keys but %zu answers\n", set.c_str(), keys.size(),
                 ans.size());
    return 2;
  }
  // FLOWPATH_LOOP_NO_THP=1: the classifier's large arrays keep their
  // 2 MiB-aligned mappings but without MADV_HUGEPAGE (4 KiB pages): the
  // huge pages' own effect, A/B in one binary.
  if (const char* no = std::getenv("FLOWPATH_LOOP_NO_THP"); no && std::string(no) == "1")
    classify_detail::huge_madvise = [](void*, size_t, int) { return -1; };
  ClassifierV2Config cfg;
  if (const char* e = std::getenv("FLOWPATH_LOOP_LEAF_SIZE"))
    cfg.leaf_size = static_cast<uint32_t>(std::atol(e));
  if (const char* e = std::getenv("FLOWPATH_LOOP_BATCH_TREES_BYTES"))
    cfg.batch_trees_max_bytes = static_cast<size_t>(std::atoll(e));
  if (const char* e = std::getenv("FLOWPATH_LOOP_FIRST_TREE_ALONE"))
    cfg.first_tree_alone = std::atoi(e);
  ClassifierV2<int> cls(cfg);
  auto b0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < rules.size(); ++i)
    cls.insert(rules[i].match, classbench::priority_of(i), static_cast<int>(i), rules[i].ranges);
  cls.compile_now();
  std::chrono::duration<double, std::milli> build = std::chrono::steady_clock::now() - b0;
  std::vector<const ClassifierV2<int>::Rule*> out(keys.size());
  double best = 1e300;
  for (int p = 0; p < passes; ++p) {
    auto t0 = std::chrono::steady_clock::now();
    if (mode == "batch")
      cls.lookup_batch(keys, out.data());
    else
      for (size_t i = 0; i < keys.size(); ++i) out[i] = lookup_loop::one(cls, keys[i]);
    std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count() / static_cast<double>(keys.size()));
  }
  size_t wrong = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    int got = out[i] ? out[i]->value : -1;
    if (got != ans[i] && wrong++ < 5)
      std::fprintf(stderr, "%s line %zu: got %d, want %d\n", set.c_str(), i + 1, got, ans[i]);
  }
  std::printf(
      "%s %s best %.1f ns/lookup wrong %zu rss_kB %ld anon_huge_kB %ld build_ms %.1f huge_maps %zu "
      "live %zu\n",
      set.c_str(), mode.c_str(), best, wrong, lookup_loop::rollup_kb("Rss"),
      lookup_loop::rollup_kb("AnonHugePages"), build.count(),
      classify_detail::huge_counts.advised + classify_detail::huge_counts.refused,
      classify_detail::huge_counts.live.load());
  if (const auto* f = cls.forest(); f && (std::getenv("FLOWPATH_LOOP_LEAF_SIZE") ||
                                          std::getenv("FLOWPATH_LOOP_BATCH_TREES_BYTES") ||
                                          std::getenv("FLOWPATH_LOOP_FIRST_TREE_ALONE"))) {
    size_t bits = 0;
    for (const FlowKey& k : keys) {
      FlowMask wc{};
      cls.lookup(k, &wc);
      for (size_t w = 0; w < FlowKey::kWords; ++w) bits += std::popcount(wc.word(w));
    }
    std::printf(
        "%s trees_bytes %zu batches_walk_trees %d first_tree_alone %d leaf_size %u batch_trees_max "
        "%zu wc_bits %.2f\n",
        set.c_str(), f->trees_bytes(), f->batches_walk_trees() ? 1 : 0,
        f->first_tree_alone() ? 1 : 0, cls.config().leaf_size, cls.config().batch_trees_max_bytes,
        double(bits) / double(keys.size()));
  }
  return wrong ? 1 : 0;
}
