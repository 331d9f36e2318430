// flowpath trace --config FILE BRIDGE FLOW [--ct-next STATES]...
//   As `ovs-appctl ofproto/trace BRIDGE FLOW` on a switch fresh from FILE
//   (empty MAC table).  in_port may be any port of BRIDGE, a patch port
//   too (the packet then starts in BRIDGE, as in Open vSwitch); tracing a
//   flow learns nothing.
#include <cstdio>
#include <string>

#include "flowpath/bridge/trace.hpp"

namespace flowpath_cli {

int cmd_trace(int argc, char** argv) {
  std::string config;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config = argv[++i];
    else if (a.rfind("--config=", 0) == 0) config = a.substr(9);
    else rest.push_back(a);
  }
  if (config.empty() || rest.size() < 2) {
    std::fprintf(stderr,
                 "usage: flowpath trace --config FILE BRIDGE FLOW [--ct-next STATES]...\n"
                 "  prints, as ovs-appctl ofproto/trace, each bridge, table, rule and NORMAL\n"
                 "  decision for FLOW arriving on its in_port (any port of BRIDGE, patch ports\n"
                 "  included), then Megaflow: and Datapath actions: lines; after a ct(table=T)\n"
                 "  each recirculation, its packet back with the next --ct-next ct_state\n"
                 "  (e.g. trk,est; default trk,new)\n"
                 "  e.g. flowpath trace --config compute-node.conf br-eth2 \\\n"
                 "         in_port=phy-br-eth2,dl_vlan=1,dl_src=52:54:00:00:00:01,"
                 "dl_dst=ff:ff:ff:ff:ff:ff,arp\n");
    return 2;
  }
  try {
    flowpath::Ofproto of(flowpath::SwitchConfig::load(config));
    std::fputs(flowpath::trace_args(of, rest).c_str(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath trace: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace flowpath_cli
