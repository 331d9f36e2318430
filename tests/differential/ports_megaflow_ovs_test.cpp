// Megaflow port masks against the real Open vSwitch: a table with Neutron's
// DHCP rules (udp,tp_src=68,tp_dst=67 and the server's reverse), masked
// TCP port rules and lower-priority UDP/TCP rules, traced from many source
// ports with ofproto/trace in flowpath (Ofproto) and in a private
// ovs-vswitchd (dummy datapath, own run/db/log directory; skipped without
// Open vSwitch).  OVS narrows the ports with its per-subtable ports trie;
// flowpath's classifier does the same (classify/ports_trie.hpp).  Checked:
// the same actions; on every trace flowpath's megaflow has no more
// tp_src/tp_dst bits than OVS's (mostly the same bits or a subset: where
// not, ours stops at a different port bit that rules the table out); one
// megaflow covers every ephemeral source port in both.
#include <gtest/gtest.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "differential/normal_ovs.hpp"
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/bridge/trace.hpp"

namespace flowpath {
namespace ports_megaflow_ovs_test {

constexpr const char* kConfig = R"(add-br br
add-port br p1 ofport=1
add-port br p2 ofport=2
add-port br p3 ofport=3
add-flow br table=0,priority=95,udp,in_port=1,tp_src=68,tp_dst=67,actions=output:2
add-flow br table=0,priority=70,udp,in_port=1,tp_src=67,tp_dst=68,actions=drop
add-flow br table=0,priority=65,tcp,in_port=1,tp_dst=0x1000/0xf000,actions=drop
add-flow br table=0,priority=65,tcp,in_port=1,tp_dst=22,actions=output:2
add-flow br table=0,priority=60,udp,in_port=1,actions=output:2
add-flow br table=0,priority=60,tcp,in_port=1,actions=output:2
add-flow br table=0,priority=0,actions=drop
add-flow br table=0,priority=100,in_port=2,actions=load:1->NXM_NX_REG5[],resubmit(,1)
add-flow br table=1,priority=80,reg5=1,udp,tp_src=68,tp_dst=67,actions=output:3
add-flow br table=1,priority=70,reg5=1,udp,tp_src=67,tp_dst=68,actions=drop
add-flow br table=1,priority=10,reg5=1,actions=output:1
)";

struct PortMask {
  uint16_t src = 0, dst = 0;
};

uint16_t parse_num(const std::string& s) { return uint16_t(std::stoul(s, nullptr, 0)); }

// tp_src / tp_dst masks of the trace's "Megaflow:" line (absent: 0, no
// "/mask": exact).  OVS and flowpath print both as tp_src=V[/M].
PortMask megaflow_ports(const std::string& trace, std::string* line_out) {
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Megaflow: ", 0) == 0) break;
  if (line.rfind("Megaflow: ", 0) != 0) throw Error("no Megaflow line in trace:\n" + trace);
  *line_out = line;
  PortMask pm;
  std::regex field("(tp_src|tp_dst)=([0-9a-fx]+)(/([0-9a-fx]+))?");
  line = std::regex_replace(line, std::regex("(udp|tcp)_(src|dst)="), "tp_$2=");
  for (std::sregex_iterator it(line.begin(), line.end(), field), end; it != end; ++it) {
    uint16_t mask = (*it)[4].matched ? parse_num((*it)[4]) : 0xffff;
    ((*it)[1] == "tp_src" ? pm.src : pm.dst) = mask;
  }
  return pm;
}

std::string datapath_actions(const std::string& trace) {
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Datapath actions: ", 0) == 0)  // flowpath names ports, OVS numbers them
      return std::regex_replace(line, std::regex("\\bp([0-9])\\b"), "$1");
  throw Error("no Datapath actions line in trace:\n" + trace);
}

struct Probe {
  const char* proto;
  uint16_t tp_src, tp_dst;
  int in_port = 1;
};

TEST(PortsMegaflowOvs, PortMasksNoNarrowerThanOpenVswitch) {
  std::string why = difftest::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
  const SwitchConfig cfg = SwitchConfig::parse(kConfig);
  Ofproto of(cfg);
  difftest::OvsInstance ovs;
  ovs.configure(cfg);

  // in_port 1: table 0 (classifier); in_port 2: table 1, whose rules
  // match a register (flowpath keeps those in a side list).
  std::vector<Probe> probes;
  for (uint16_t p = 32768; p < 61000; p += 211) probes.push_back({"udp", p, 5001});  // ephemeral
  for (uint16_t p : {0, 1, 66, 67, 68, 69, 70, 100, 1023, 4000, 20000})
    for (uint16_t d : {67, 68, 5001}) probes.push_back({"udp", p, d});
  for (uint16_t p = 32768; p < 61000; p += 211) probes.push_back({"udp", p, 5001, 2});
  for (uint16_t p : {0, 67, 68, 1000, 1149, 1999})
    for (uint16_t d : {67, 68, 9}) probes.push_back({"udp", p, d, 2});
  for (uint16_t p = 32768; p < 61000; p += 1013)
    for (uint16_t d : {22, 23, 4096, 4097, 8000, 443}) probes.push_back({"tcp", p, d});

  std::set<std::string> ours_udp_eph[3], theirs_udp_eph[3];
  struct Seen {
    Probe pr;
    PortMask mask;
    std::string actions, megaflow;
  };
  std::vector<Seen> seen;
  size_t n_traces = 0, n_subset = 0, n_fewer = 0;
  for (const Probe& pr : probes) {
    std::string flow =
        std::string("in_port=1,") + pr.proto + ",nw_src=192.0.2.1,nw_dst=192.0.2.100," + pr.proto +
        "_src=" + std::to_string(pr.tp_src) + "," + pr.proto + "_dst=" + std::to_string(pr.tp_dst);
    SCOPED_TRACE(flow);
    const std::string ours = trace_args(of, {"br", flow});
    const std::string theirs = ovs.appctl("ofproto/trace", {"br", flow});
    ASSERT_EQ(datapath_actions(ours), datapath_actions(theirs));
    std::string ol, tl;
    PortMask o = megaflow_ports(ours, &ol), t = megaflow_ports(theirs, &tl);
    seen.push_back({pr, o, datapath_actions(ours), ol});
    int ob = std::popcount(o.src) + std::popcount(o.dst);
    int tb = std::popcount(t.src) + std::popcount(t.dst);
    EXPECT_LE(ob, tb) << "ours: " << ol << "\ntheirs: " << tl;
    ++n_traces;
    if ((o.src & ~t.src) == 0 && (o.dst & ~t.dst) == 0) ++n_subset;
    if (ob < tb) ++n_fewer;
    if (std::getenv("PORTS_MEGAFLOW_VERBOSE"))
      std::printf("%s\n  ours:   %s\n  theirs: %s\n", flow.c_str(), ol.c_str(), tl.c_str());
    if (std::string(pr.proto) == "udp" && pr.tp_src >= 32768 && pr.tp_dst == 5001) {
      ours_udp_eph[pr.in_port].insert(ol);
      theirs_udp_eph[pr.in_port].insert(tl);
    }
  }
  // The megaflow contract on what the probes vary (the ports): a probe
  // with other actions must not fall inside another probe's megaflow.
  for (const Seen& a : seen)
    for (const Seen& b : seen) {
      if (a.pr.in_port != b.pr.in_port || std::string(a.pr.proto) != b.pr.proto) continue;
      if (a.actions == b.actions) continue;
      bool inside = ((a.pr.tp_src ^ b.pr.tp_src) & a.mask.src) == 0 &&
                    ((a.pr.tp_dst ^ b.pr.tp_dst) & a.mask.dst) == 0;
      EXPECT_FALSE(inside) << a.megaflow << " (" << a.actions << ") covers " << b.pr.proto << " "
                           << b.pr.tp_src << "->" << b.pr.tp_dst << " (" << b.actions << ")";
    }
  // Every ephemeral source port: one megaflow in OVS, and in flowpath.
  for (int in_port : {1, 2}) {
    EXPECT_EQ(theirs_udp_eph[in_port].size(), 1u) << "in_port " << in_port;
    EXPECT_EQ(ours_udp_eph[in_port].size(), 1u) << "in_port " << in_port;
    for (const auto& l : ours_udp_eph[in_port])
      EXPECT_NE(l.find("tp_src=0x8000/0x8000"), std::string::npos) << l;
  }
  // Most traces: the same port bits as OVS or a subset of them.
  EXPECT_GE(n_subset * 10, n_traces * 9) << n_subset << " of " << n_traces;
  std::printf("%zu traces: port bits a subset of OVS's in %zu, fewer bits than OVS's in %zu\n",
              n_traces, n_subset, n_fewer);
}

}  // namespace ports_megaflow_ovs_test
}  // namespace flowpath
