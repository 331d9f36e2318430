// Neutron-style firewall flows: ct_state/registers in the match, ct(),
// load/move and conjunction in the actions; printed back as ovs-ofctl does.
#include <cstdio>
#include <string>

#include "flowpath/flow/ofctl_text.hpp"

int main() {
  using namespace flowpath;
  OfctlFlow f = parse_flow(
      "table=82,priority=40,dl_type=0x0800,reg5=0x5,ct_state=+est,"
      "actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))");
  std::printf("%s\n", format_flow(f).c_str());
  // -> table=82,priority=40,ct_state=+est,ip,reg5=0x5
  //    actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))

  // Registers live in the pipeline metadata, ct_state in the datapath key.
  FlowKey k;
  k.dl_type = Be16(kEthTypeIpv4);
  k.ct_state = kCsTracked | kCsEstablished;
  PipelineMeta regs;
  regs.regs[5] = Be32(5);
  if (!f.match.matches(k, regs)) return 1;
  regs.regs[5] = Be32(6);
  if (f.match.matches(k, regs)) return 2;

  try {
    parse_flow("ip actions=move:NXM_OF_IP_SRC[]->reg1,conjunction(1,1/2)");
    return 3;  // conjunction goes alone, as in OVS
  } catch (const Error& e) {
    std::printf("error: %s\n", e.what());
  }
  return format_flow(f) ==
                 "table=82,priority=40,ct_state=+est,ip,reg5=0x5 "
                 "actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))"
             ? 0
             : 4;
}
