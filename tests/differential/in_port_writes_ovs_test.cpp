// Writes of in_port against the real Open vSwitch: after `load:…->
// NXM_OF_IN_PORT[…]` or `set_field:N->in_port`, OVS's output, IN_PORT,
// FLOOD, ALL and NORMAL all take the packet's *current* in_port as the
// input port (output to it is skipped, IN_PORT goes to it, NORMAL learns
// and floods from it, or drops when no port has that number), and a
// resubmit(P,T) makes P the input port for the nested table.  Each probe
// is traced with ofproto/trace in flowpath (Ofproto) and in a private
// ovs-vswitchd (dummy datapath; skipped without Open vSwitch); the
// "Datapath actions:" lines must be the same.  The last probes write
// nothing: the controls.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "differential/normal_ovs.hpp"
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/bridge/trace.hpp"

namespace flowpath {
namespace in_port_writes_ovs_test {

constexpr const char* kConfig = R"(add-br br
add-port br p1 ofport=1
add-port br p2 ofport=2
add-port br p3 ofport=3
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.1,actions=load:0->NXM_OF_IN_PORT[],output:1
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.2,actions=set_field:2->in_port,output:2,output:3
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.3,actions=set_field:3->in_port,IN_PORT
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.4,actions=set_field:2->in_port,FLOOD
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.5,actions=set_field:2->in_port,ALL
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.6,actions=resubmit(2,1),output:2
add-flow br table=1,priority=10,actions=output:2,output:1,IN_PORT
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.7,actions=load:0->NXM_OF_IN_PORT[],NORMAL
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.8,actions=set_field:2->in_port,NORMAL
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.9,actions=load:1->NXM_OF_IN_PORT[1],output:3,output:1
add-flow br priority=50,in_port=1,ip,nw_dst=192.0.2.10,actions=load:7->NXM_OF_IN_PORT[],IN_PORT,output:2
add-flow br priority=40,in_port=1,ip,nw_dst=192.0.2.11,actions=output:1,output:2,IN_PORT
add-flow br priority=40,in_port=1,ip,nw_dst=192.0.2.12,actions=FLOOD
add-flow br priority=0,actions=NORMAL
)";

/// The "Datapath actions:" line's outputs as sorted port names (OVS prints
/// datapath port numbers, `names` maps them; flowpath prints names).
std::string datapath_outputs(const std::string& trace, const std::map<uint32_t, std::string>& names) {
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Datapath actions: ", 0) != 0) continue;
    std::vector<std::string> outs;
    std::string tok;
    std::istringstream list(line.substr(18));
    while (std::getline(list, tok, ',')) {
      bool num = !tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos;
      auto it = num ? names.find(uint32_t(std::stoul(tok))) : names.end();
      outs.push_back(it != names.end() ? it->second : tok);
    }
    std::sort(outs.begin(), outs.end());  // OVS floods in hash order
    std::string out;
    for (const auto& o : outs) out += (out.empty() ? "" : ",") + o;
    return out;
  }
  throw Error("no Datapath actions line in trace:\n" + trace);
}

TEST(InPortWritesOvs, OutputsTakeTheCurrentInPortAsOpenVswitch) {
  std::string why = difftest::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
  const SwitchConfig cfg = SwitchConfig::parse(kConfig);
  Ofproto of(cfg);
  difftest::OvsInstance ovs;
  ovs.configure(cfg);
  for (int host = 1; host <= 13; ++host) {
    const std::string flow = "in_port=1,ip,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,"
                             "nw_src=198.51.100.1,nw_dst=192.0.2." +
                             std::to_string(host);
    SCOPED_TRACE(flow);
    const std::string ours = trace_args(of, {"br", flow});
    const std::string theirs = ovs.appctl("ofproto/trace", {"br", flow});
    EXPECT_EQ(datapath_outputs(ours, {}), datapath_outputs(theirs, ovs.dp_names()))
        << "ours:\n"
        << ours << "\ntheirs:\n"
        << theirs;
  }
}

}  // namespace in_port_writes_ovs_test
}  // namespace flowpath
