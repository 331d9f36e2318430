// flowpath classify --rules RULES --trace TRACE
//
// Loads a ClassBench rule set and trace (plain or .gz), classifies every
// trace line with flowpath::Classifier and prints one 0-based rule index per
// line on stdout (-1: no match; the first rule in the file has the highest
// priority).  On stderr: rules, tables, build ms, memory, lookups/s and ns
// per lookup (batched lookups, one thread).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "flowpath/classify/classbench.hpp"
#include "flowpath/classify/classifier.hpp"

namespace flowpath_cli {

static int classify_usage() {
  std::fprintf(stderr, "usage: flowpath classify --rules RULES --trace TRACE\n");
  return 2;
}

int cmd_classify(int argc, char** argv) {
  using namespace flowpath;
  using Clock = std::chrono::steady_clock;
  std::string rules_path, trace_path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rules") && i + 1 < argc)
      rules_path = argv[++i];
    else if (!std::strcmp(argv[i], "--trace") && i + 1 < argc)
      trace_path = argv[++i];
    else if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help"))
      return classify_usage();
    else {
      std::fprintf(stderr, "flowpath classify: unexpected argument '%s'\n", argv[i]);
      return classify_usage();
    }
  }
  if (rules_path.empty() || trace_path.empty()) return classify_usage();
  try {
    auto rules = classbench::load_rules(rules_path);
    auto keys = classbench::load_trace(trace_path);
    Classifier<int> cls;
    auto t0 = Clock::now();
    for (size_t i = 0; i < rules.size(); ++i)
      cls.insert(rules[i].match, classbench::priority_of(i), static_cast<int>(i), rules[i].ranges);
    auto t1 = Clock::now();
    std::vector<const Classifier<int>::Rule*> out(keys.size());
    cls.lookup_batch(keys, out.data());  // warm-up
    int reps = keys.size() < 200000 ? 5 : 1;
    auto t2 = Clock::now();
    for (int r = 0; r < reps; ++r) cls.lookup_batch(keys, out.data());
    auto t3 = Clock::now();
    std::string text;
    text.reserve(keys.size() * 6);
    for (const auto* r : out) text += std::to_string(r ? r->value : -1) + '\n';
    std::fwrite(text.data(), 1, text.size(), stdout);
    double build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    double ns = std::chrono::duration<double, std::nano>(t3 - t2).count() /
                double(keys.size() ? keys.size() * reps : 1);
    std::fprintf(stderr,
                 "rules: %zu\ntables: %zu\nbuild: %.2f ms\nmemory: %.2f MB\n"
                 "lookups/s: %.0f\nns per lookup: %.1f\n",
                 cls.size(), cls.n_tables(), build_ms, cls.memory_bytes() / 1048576.0,
                 ns > 0 ? 1e9 / ns : 0.0, ns);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath classify: %s\n", e.what());
    return 1;
  }
}

}  // namespace flowpath_cli
