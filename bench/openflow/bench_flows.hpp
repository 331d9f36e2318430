// bench/openflow/bench_flows.hpp — N OpenFlow flows shaped like
// bench/openflow/gen_flows.py's (ACL 5-tuples, L2 in_port/dl_src/dl_dst,
// VLAN translation), for the in-process flow-table benchmarks.  The first
// `marked` get cookie 0x1, the rest 0x2.
#pragma once

#include <algorithm>
#include <cstdio>
#include <vector>

#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath_bench {

namespace fp = flowpath;

inline std::vector<fp::OfctlFlow> make_flows(size_t n, size_t marked) {
  std::vector<fp::OfctlFlow> out;
  out.reserve(n);
  char buf[256];
  for (size_t i = 0; i < n; ++i) {
    unsigned a = unsigned(i & 0xff), b = unsigned(i >> 8 & 0xff), c = unsigned(i >> 16);
    unsigned cookie = i < marked ? 1 : 2;
    switch (i % 3) {
      case 0:
        std::snprintf(buf, sizeof buf,
                      "cookie=%u,priority=%u,tcp,nw_src=198.51.100.%u,nw_dst=203.0.113.%u,"
                      "tp_dst=%u actions=output:%u",
                      cookie, 1000 + unsigned(i % 39000), a, b, 1 + c, 10 + a % 100);
        break;
      case 1:
        std::snprintf(buf, sizeof buf,
                      "cookie=%u,priority=%u,in_port=%u,dl_src=02:00:00:%02x:%02x:%02x,"
                      "dl_dst=02:00:01:00:00:%02x actions=output:%u",
                      cookie, 100 + unsigned(i % 900), 10 + a % 50, a, b, c, c, 10 + b % 100);
        break;
      default:
        std::snprintf(buf, sizeof buf,
                      "cookie=%u,priority=%u,in_port=%u,dl_vlan=%u,nw_dst=203.0.113.%u,ip "
                      "actions=mod_vlan_vid:%u,NORMAL",
                      cookie, 10 + unsigned(i % 90), 10 + c, 1 + (a * 16 + b) % 4000, a,
                      1 + b % 4000);
    }
    out.push_back(fp::parse_flow(buf));
  }
  return out;
}

}  // namespace flowpath_bench
