// ClassBench conformance of ClassifierV2: every rule set and trace in
// $FLOWPATH_CLASSBENCH_DIR must give the answers in the .ans.gz files, with
// all rules compiled into the forest, and with half of them still in the
// delta (single and batched lookups).  Skipped when the variable is unset.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "flowpath/classify/classbench.hpp"
#include "flowpath/classify/classifier_v2.hpp"

namespace flowpath {
namespace classbench_v2_test {

const char* data_dir() { return std::getenv("FLOWPATH_CLASSBENCH_DIR"); }

size_t check_trace(const ClassifierV2<int>& cls, const std::string& dir, const std::string& set,
                   const std::string& trace, const char* what) {
  auto keys = classbench::load_trace(dir + "/" + set + "_" + trace + ".trace.gz");
  auto ans = classbench::load_answers(dir + "/" + set + "." + trace + ".ans.gz");
  EXPECT_EQ(keys.size(), ans.size()) << set << " " << trace;
  std::vector<const ClassifierV2<int>::Rule*> out(keys.size());
  cls.lookup_batch(keys, out.data());
  size_t bad = 0;
  for (size_t i = 0; i < keys.size() && i < ans.size(); ++i) {
    int got = out[i] ? out[i]->value : -1;
    if (got != ans[i] && bad++ < 5)
      ADD_FAILURE() << set << " " << trace << " (" << what << ") line " << i + 1 << ": batch got "
                    << got << ", want " << ans[i];
    const auto* single = cls.lookup(keys[i]);
    if ((single ? single->value : -1) != ans[i] && bad++ < 5)
      ADD_FAILURE() << set << " " << trace << " (" << what << ") line " << i + 1
                    << ": single lookup differs";
  }
  return bad;
}

void check_half_in_delta(const std::string& dir, const std::string& set,
                         const std::vector<classbench::Rule>& rules);

void check_set(const std::string& dir, const std::string& set) {
  auto rules = classbench::load_rules(dir + "/" + set + ".gz");
  {
    ClassifierV2<int> cls;
    for (size_t i = 0; i < rules.size(); ++i)
      cls.insert(rules[i].match, classbench::priority_of(i), int(i), rules[i].ranges);
    cls.compile_now();
    ASSERT_EQ(cls.size(), rules.size());
    ASSERT_EQ(cls.delta_size(), 0u);
    // Sets up to the dense limit get dense rows, larger ones sparse rows
    // or (over the memory limit) the trees alone.
    const auto* bits = cls.forest()->bits();
    ClassifierV2Config def;
    if (rules.size() <= def.bits_max_rules) {
      EXPECT_NE(bits, nullptr) << set;
    }
    if (bits) {
      EXPECT_EQ(bits->sparse(), rules.size() > def.bits_max_rules) << set;
    }
    std::printf("%s: %s\n", set.c_str(),
                !bits            ? "trees"
                : bits->sparse() ? "sparse rows"
                                 : "dense rows");
    for (std::string trace : {"cb", "mix100k"})
      EXPECT_EQ(check_trace(cls, dir, set, trace, "compiled"), 0u);
    if (!bits) return check_half_in_delta(dir, set, rules);
  }
  {  // the trees on the same set
    ClassifierV2Config cfg;
    cfg.bits_max_rules = 0;
    cfg.bits_sparse_max_rules = 0;
    ClassifierV2<int> cls(cfg);
    for (size_t i = 0; i < rules.size(); ++i)
      cls.insert(rules[i].match, classbench::priority_of(i), int(i), rules[i].ranges);
    cls.compile_now();
    ASSERT_EQ(cls.forest()->bits(), nullptr);
    EXPECT_EQ(check_trace(cls, dir, set, "mix100k", "compiled, trees only"), 0u);
  }
  if (rules.size() <= ClassifierV2Config{}.bits_max_rules) {  // sparse rows on a small set
    ClassifierV2Config cfg;
    cfg.bits_max_rules = 0;
    ClassifierV2<int> cls(cfg);
    for (size_t i = 0; i < rules.size(); ++i)
      cls.insert(rules[i].match, classbench::priority_of(i), int(i), rules[i].ranges);
    cls.compile_now();
    ASSERT_NE(cls.forest()->bits(), nullptr);
    ASSERT_TRUE(cls.forest()->bits()->sparse());
    EXPECT_EQ(check_trace(cls, dir, set, "mix100k", "compiled, sparse rows"), 0u);
  }
  check_half_in_delta(dir, set, rules);
}

void check_half_in_delta(const std::string& dir, const std::string& set,
                         const std::vector<classbench::Rule>& rules) {
  ClassifierV2Config cfg;
  cfg.compile_min = ~0u;  // keep the second half in the delta
  ClassifierV2<int> cls(cfg);
  for (size_t i = 0; i < rules.size(); i += 2)
    cls.insert(rules[i].match, classbench::priority_of(i), int(i), rules[i].ranges);
  cls.compile_now();
  for (size_t i = 1; i < rules.size(); i += 2)
    cls.insert(rules[i].match, classbench::priority_of(i), int(i), rules[i].ranges);
  ASSERT_EQ(cls.delta_size(), rules.size() / 2);
  EXPECT_EQ(check_trace(cls, dir, set, "mix100k", "half in delta"), 0u);
}

TEST(ClassBenchV2, AllSetsMatchAnswers) {
  if (!data_dir()) GTEST_SKIP() << "FLOWPATH_CLASSBENCH_DIR not set; ClassBench check skipped";
  for (std::string set :
       {"acl1_1k", "fw1_1k", "ipc1_1k", "acl1_10k", "fw1_10k", "ipc1_10k", "acl1_100k"}) {
    if (!std::filesystem::exists(std::string(data_dir()) + "/" + set + ".gz")) {
      std::printf("%s: not present, skipped\n", set.c_str());
      continue;
    }
    check_set(data_dir(), set);
  }
}

}  // namespace classbench_v2_test
}  // namespace flowpath
