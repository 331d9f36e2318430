// Parse ovs-ofctl flow text, inspect the match, print it back normalized.
#include <cstdio>
#include <string>

#include "flowpath/flow/ofctl_text.hpp"

int main() {
  using namespace flowpath;
  OfctlFlow f =
      parse_flow("priority=10,tcp,nw_dst=10.0.0.0/8,tcp_dst=80 actions=mod_vlan_vid:5,output:2");
  std::printf("%s\n", format_flow(f).c_str());
  // -> priority=10,tcp,nw_dst=10.0.0.0/8,tp_dst=80 actions=mod_vlan_vid:5,output:2

  FlowKey k;
  k.dl_type = Be16(kEthTypeIpv4);
  k.nw_proto = kIpProtoTcp;
  k.nw_dst = Be32(0x0a010203);
  k.tp_dst = Be16(80);
  if (!f.match.matches(k)) return 1;

  // The same match built in code.
  Match m = MatchBuilder()
                .proto(kEthTypeIpv4, kIpProtoTcp)
                .set(FieldId::kNwDst, 0x0a000000, 0xff000000)
                .set(FieldId::kTpDst, 80)
                .build();
  if (!(m == f.match)) return 2;

  try {
    parse_flow("tcp,udp actions=drop");
    return 3;  // conflicting shorthands must be rejected
  } catch (const Error& e) {
    std::printf("error: %s\n", e.what());
  }
  return format_flow(f) ==
                 "priority=10,tcp,nw_dst=10.0.0.0/8,tp_dst=80 actions=mod_vlan_vid:5,output:2"
             ? 0
             : 4;
}
