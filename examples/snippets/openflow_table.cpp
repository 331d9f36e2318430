// OpenFlow tables: add rules, look up a packet, credit stats, dump-flows.
#include "flowpath/bridge/openflow_table.hpp"

#include <cstdio>

int main() {
  using namespace flowpath;
  ManualClock clock;
  OpenFlowTable<> tables(&clock);  // LinearClassifier; swap the classifier here
  tables.add(parse_flow("priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL"));
  tables.add(parse_flow("priority=0 actions=drop"));
  tables.add(parse_flow("idle_timeout=5,priority=1,in_port=2 actions=output:1"));

  FlowKey k;
  k.in_port = 1;
  k.vlans[0] = VlanHeader{Be16(kEthTypeVlan), Be16(uint16_t(kVlanCfi | 1000))};
  FlowMask wc{};
  const OfRule* r = tables.lookup(0, k, &wc);
  if (!r || r->priority != 3) return 1;
  r->stats->add(1, 64, clock.now_ms());  // what the datapath does per hit

  clock.advance_s(6);
  if (tables.expire() != 1) return 2;  // the idle rule timed out

  std::printf("%s", tables.dump_flows().c_str());
  return tables.size() == 2 ? 0 : 3;
}
