// DPDK rte_acl on the ClassBench files, as a peer for bench/classify:
//   peers_rte_acl RULES TRACE [ANSWERS]
// Builds an rte_acl context (5 fields: proto, src, dst, sport range, dport
// range; first rule = highest priority), checks the answers when given, and
// prints one line per classify method and burst size:
//   rte_acl <method> burst=<n> ns_per_lookup=<x> build_ms=<y> memory_MB=<z>
// Runs EAL with --no-huge --no-pci --no-shconf (no hugepages, no devices).
// Times are thread CPU time (best of 3 passes over the trace).
#define ALLOW_EXPERIMENTAL_API 1
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_vect.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

#include "flowpath/classify/classbench.hpp"

namespace {
using namespace flowpath;

struct alignas(4) AclInput {  // network byte order, as in a packet
  uint8_t proto;
  uint8_t pad[3];
  uint32_t src, dst;
  uint16_t sport, dport;
};

enum { kProto, kSrc, kDst, kSport, kDport, kFields };
RTE_ACL_RULE_DEF(AclRule, kFields);

rte_acl_field_def field_defs[kFields] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, 1, kProto, 0, offsetof(AclInput, proto)},
    {RTE_ACL_FIELD_TYPE_MASK, 4, kSrc, 1, offsetof(AclInput, src)},
    {RTE_ACL_FIELD_TYPE_MASK, 4, kDst, 2, offsetof(AclInput, dst)},
    {RTE_ACL_FIELD_TYPE_RANGE, 2, kSport, 3, offsetof(AclInput, sport)},
    {RTE_ACL_FIELD_TYPE_RANGE, 2, kDport, 3, offsetof(AclInput, dport)},
};

/// Resident set size in bytes (the EAL heap grows on first touch).
double rss_bytes() {
  long pages = 0, rss = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return double(rss) * 4096.0;
}

/// Thread CPU time: the benchmark machines are shared, and CPU time is what
/// Google benchmark reports for flowpath too.
double now_ns() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e9 + double(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s RULES TRACE [ANSWERS]\n", argv[0]);
    return 2;
  }
  // EAL without hugepages or devices; FLOWPATH_EAL_ARGS overrides.
  std::string eal_line = "--no-huge -m 4096 --no-pci --no-shconf -l 0 --log-level=1";
  if (const char* e = std::getenv("FLOWPATH_EAL_ARGS")) eal_line = e;
  std::vector<std::string> eal_words{"peers_rte_acl"};
  for (size_t p = 0, q; p < eal_line.size(); p = q + 1) {
    q = eal_line.find(' ', p);
    if (q == std::string::npos) q = eal_line.size();
    if (q > p) eal_words.push_back(eal_line.substr(p, q - p));
  }
  std::vector<char*> eal_argv;
  for (auto& w : eal_words) eal_argv.push_back(w.data());
  if (rte_eal_init(int(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed (EAL args: %s)\n", eal_line.c_str());
    return 1;
  }
  rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
  try {
    auto rules = classbench::load_rules(argv[1]);
    auto keys = classbench::load_trace(argv[2]);
    std::vector<int> ans;
    if (argc > 3) ans = classbench::load_answers(argv[3]);
    double rss0 = rss_bytes();
    double t0 = now_ns();
    rte_acl_param prm{};
    prm.name = "flowpath_peer";
    prm.socket_id = SOCKET_ID_ANY;
    prm.rule_size = RTE_ACL_RULE_SZ(kFields);
    prm.max_rule_num = uint32_t(rules.size());
    rte_acl_ctx* ctx = rte_acl_create(&prm);
    if (!ctx) throw std::runtime_error("rte_acl_create failed");
    std::vector<AclRule> ar(rules.size());
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules[i];
      AclRule& a = ar[i];
      std::memset(&a, 0, sizeof a);
      a.data.category_mask = 1;
      a.data.priority = int32_t(rules.size() - i);
      a.data.userdata = uint32_t(i + 1);
      a.field[kProto].value.u8 = r.match.value.nw_proto;
      a.field[kProto].mask_range.u8 = r.match.mask.nw_proto;
      a.field[kSrc].value.u32 = r.match.value.nw_src.host();
      a.field[kSrc].mask_range.u32 = uint32_t(std::popcount(r.match.mask.nw_src.host()));
      a.field[kDst].value.u32 = r.match.value.nw_dst.host();
      a.field[kDst].mask_range.u32 = uint32_t(std::popcount(r.match.mask.nw_dst.host()));
      a.field[kSport].value.u16 = r.ranges.tp_src.lo;
      a.field[kSport].mask_range.u16 = r.ranges.tp_src.hi;
      a.field[kDport].value.u16 = r.ranges.tp_dst.lo;
      a.field[kDport].mask_range.u16 = r.ranges.tp_dst.hi;
    }
    if (rte_acl_add_rules(ctx, reinterpret_cast<rte_acl_rule*>(ar.data()), uint32_t(ar.size())))
      throw std::runtime_error("rte_acl_add_rules failed");
    rte_acl_config cfg{};
    cfg.num_categories = 1;
    cfg.num_fields = kFields;
    std::memcpy(cfg.defs, field_defs, sizeof field_defs);
    if (rte_acl_build(ctx, &cfg)) throw std::runtime_error("rte_acl_build failed");
    double build_ms = (now_ns() - t0) / 1e6;
    double mem_mb = (rss_bytes() - rss0) / 1048576.0;  // RSS growth while building

    std::vector<AclInput> in(keys.size());
    std::vector<const uint8_t*> ptrs(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      in[i] = AclInput{keys[i].nw_proto,   {},
                       keys[i].nw_src.raw, keys[i].nw_dst.raw,
                       keys[i].tp_src.raw, keys[i].tp_dst.raw};
      ptrs[i] = reinterpret_cast<const uint8_t*>(&in[i]);
    }
    std::vector<uint32_t> res(keys.size());
    struct Method {
      const char* name;
      enum rte_acl_classify_alg alg;
    } methods[] = {{"scalar", RTE_ACL_CLASSIFY_SCALAR},
                   {"avx2", RTE_ACL_CLASSIFY_AVX2},
                   {"avx512x16", RTE_ACL_CLASSIFY_AVX512X16},
                   {"avx512x32", RTE_ACL_CLASSIFY_AVX512X32}};
    for (const auto& m : methods) {
      if (rte_acl_set_ctx_classify(ctx, m.alg) != 0) continue;
      for (uint32_t burst : {1u, 64u}) {
        double best = 1e18;
        for (int rep = 0; rep < 3; ++rep) {
          double s = now_ns();
          for (size_t i = 0; i < keys.size(); i += burst) {
            uint32_t n = uint32_t(std::min<size_t>(burst, keys.size() - i));
            rte_acl_classify(ctx, ptrs.data() + i, res.data() + i, n, 1);
          }
          best = std::min(best, (now_ns() - s) / double(keys.size()));
        }
        size_t bad = 0;
        for (size_t i = 0; i < ans.size() && i < res.size(); ++i) bad += int(res[i]) - 1 != ans[i];
        std::printf("rte_acl %s burst=%u ns_per_lookup=%.1f build_ms=%.1f memory_MB=%.1f%s\n",
                    m.name, burst, best, build_ms, mem_mb,
                    ans.empty() ? ""
                    : bad       ? " ANSWERS_DIFFER"
                                : " answers_ok");
      }
    }
    rte_acl_free(ctx);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peers_rte_acl: %s\n", e.what());
    return 1;
  }
  rte_eal_cleanup();
  return 0;
}
