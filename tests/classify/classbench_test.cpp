// ClassBench conformance: every rule set and trace in $FLOWPATH_CLASSBENCH_DIR
// classified with Classifier (single and batched lookups) must give the
// answers in the matching .ans.gz files.  Skipped when the variable is unset.
// Under AddressSanitizer the 100K set is sampled (every 16th trace line).
#include "flowpath/classify/classbench.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "flowpath/classify/classifier.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define FLOWPATH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOWPATH_ASAN 1
#endif
#endif
#ifndef FLOWPATH_ASAN
#define FLOWPATH_ASAN 0
#endif

namespace flowpath {
namespace classbench_test {

const char* data_dir() { return std::getenv("FLOWPATH_CLASSBENCH_DIR"); }

void check_set(const std::string& dir, const std::string& set) {
  auto rules = classbench::load_rules(dir + "/" + set + ".gz");
  Classifier<int> cls;
  for (size_t i = 0; i < rules.size(); ++i)
    cls.insert(rules[i].match, classbench::priority_of(i), static_cast<int>(i), rules[i].ranges);
  ASSERT_EQ(cls.size(), rules.size());
  size_t stride = (FLOWPATH_ASAN && rules.size() > 50000) ? 16 : 1;
  for (std::string trace : {"cb", "mix100k"}) {
    auto keys = classbench::load_trace(dir + "/" + set + "_" + trace + ".trace.gz");
    auto ans = classbench::load_answers(dir + "/" + set + "." + trace + ".ans.gz");
    ASSERT_EQ(keys.size(), ans.size()) << set << " " << trace;
    std::vector<const Classifier<int>::Rule*> out(keys.size());
    cls.lookup_batch(keys, out.data());
    size_t bad = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      int got = out[i] ? out[i]->value : -1;
      if (got != ans[i] && bad++ < 5)
        ADD_FAILURE() << set << " " << trace << " line " << i + 1 << ": batch got " << got
                      << ", want " << ans[i];
      if (i % stride) continue;
      const auto* single = cls.lookup(keys[i]);
      if ((single ? single->value : -1) != ans[i] && bad++ < 5)
        ADD_FAILURE() << set << " " << trace << " line " << i + 1 << ": single lookup differs";
    }
    EXPECT_EQ(bad, 0u) << set << " " << trace;
  }
}

TEST(ClassBench, AllSetsMatchAnswers) {
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

TEST(ClassBench, ParsesRuleLineAndRejectsBadOnes) {
  auto r =
      classbench::parse_rule("@10.1.2.3/24\t192.0.2.0/23\t0 : 65535\t80 : 443\t0x06/0xFF\t0x0/0x0");
  EXPECT_EQ(r.match.value.nw_src.host(), 0x0a010200u);  // host bits masked off
  EXPECT_EQ(r.match.mask.nw_dst.host(), 0xfffffe00u);
  EXPECT_EQ(r.match.value.nw_proto, 6);
  EXPECT_TRUE(r.ranges.tp_src.full());
  EXPECT_EQ(r.ranges.tp_dst, (PortRange{80, 443}));
  EXPECT_THROW(classbench::parse_rule("10.0.0.0/8 ..."), std::runtime_error);
  EXPECT_THROW(classbench::parse_rule("@10.0.0.0/33\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0xFF"),
               std::runtime_error);
  EXPECT_THROW(classbench::parse_rule("@10.0.0.0/8\t1.2.3.4/32\t5 : 1\t0 : 1\t0x06/0xFF"),
               std::runtime_error);
  EXPECT_THROW(classbench::load_rules("/nonexistent/rules.gz"), std::runtime_error);
}

TEST(ClassBench, ReadsPlainFiles) {
  auto dir = std::filesystem::temp_directory_path();
  auto rules = dir / "flowpath_cb_rules.txt";
  auto trace = dir / "flowpath_cb_trace.txt";
  std::ofstream(rules) << "@10.0.0.0/8\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0/0x0\n"
                       << "@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0/0x0\n";
  std::ofstream(trace) << "167772161 1 1000 80 6 0 0\n167772161 1 1000 81 6 0 1\n";
  auto rs = classbench::load_rules(rules.string());
  auto ks = classbench::load_trace(trace.string());
  Classifier<int> cls;
  for (size_t i = 0; i < rs.size(); ++i)
    cls.insert(rs[i].match, classbench::priority_of(i), int(i), rs[i].ranges);
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(cls.lookup(ks[0])->value, 0);
  EXPECT_EQ(cls.lookup(ks[1])->value, 1);
  std::filesystem::remove(rules);
  std::filesystem::remove(trace);
}

}  // namespace classbench_test
}  // namespace flowpath
