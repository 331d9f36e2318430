// Building the seed's compute node from a configuration and asking it, as
// the datapath's upcall would, what a packet from vm1 does.  Shown in
// docs/bridges.md.
#include <cstdio>
#include <string>

#include "flowpath/bridge/trace.hpp"
#include "flowpath/bridge/views.hpp"

int main() {
  using namespace flowpath;
  SwitchConfig cfg = SwitchConfig::parse(R"(
add-br br-int
add-port br-int vm1 tag=1
add-port br-int vm2 tag=1
add-port br-int int-br-eth2 type=patch peer=phy-br-eth2
add-br br-eth2
add-port br-eth2 eth2
add-port br-eth2 phy-br-eth2 type=patch peer=int-br-eth2
add-flow br-int priority=3,in_port=int-br-eth2,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL
add-flow br-int priority=2,in_port=int-br-eth2 actions=drop
add-flow br-int priority=1 actions=NORMAL
add-flow br-eth2 priority=4,in_port=phy-br-eth2,dl_vlan=1 actions=mod_vlan_vid:1000,NORMAL
add-flow br-eth2 priority=2,in_port=phy-br-eth2 actions=drop
add-flow br-eth2 priority=1 actions=NORMAL
)",
                                         "snippet.conf");
  Ofproto of(cfg);
  std::fputs(show(of).c_str(), stdout);

  // ofproto/trace: explanation plus the datapath actions.
  std::string t = trace(of, "br-int",
                        "in_port=vm1,dl_src=52:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp");
  std::fputs(t.c_str(), stdout);

  // The upcall itself: datapath actions + megaflow mask for a key.
  FlowKey key = trace_key(of, "br-int", "in_port=vm1,dl_src=52:54:00:00:00:01,"
                                        "dl_dst=52:54:00:00:00:64,ip");
  UpcallResult r;
  of.upcall(key, nullptr, r);  // nullptr packet: no MAC learning side effects
  std::string acts = format_dp_actions(r.actions, [&](uint32_t n) { return of.dp_port_name(n); });
  std::printf("upcall: %s\n", acts.c_str());
  std::fputs(dump_flows(of, "br-eth2").c_str(), stdout);
  return t.find("Datapath actions: vm2,push_vlan(vid=1000,pcp=0),eth2") != std::string::npos ? 0
                                                                                             : 1;
}
