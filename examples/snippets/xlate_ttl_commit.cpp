// From flow text to datapath actions for a TTL decrement and an ECN
// rewrite, the way translation does it: parse and print the actions as
// ovs-ofctl does, apply them to the packet's logical key, pin what each
// writes in the megaflow mask (pin_rewrite, as Open vSwitch), and let the
// commit step emit the datapath actions (dpctl's syntax).  A packet that
// already carried the new values would get no rewrite, but the same mask:
// its megaflow can never catch a packet that needs one.
#include <cstdio>
#include <flowpath/bridge/xlate_commit.hpp>
#include <flowpath/datapath/dp_format.hpp>
#include <flowpath/flow/ofctl_text.hpp>

using namespace flowpath;

int main() {
  const OfctlFlow f = parse_flow("udp actions=dec_ttl(1,2),set_field:1->nw_ecn,output:2");
  std::printf("actions=%s\n", format_actions(f.actions).c_str());

  FlowKey pkt{};  // udp, TOS 0x20 (DSCP 8, ECN 0), TTL 64
  pkt.dl_type = Be16{kEthTypeIpv4}, pkt.nw_proto = kIpProtoUdp, pkt.nw_tos = 0x20, pkt.nw_ttl = 64;
  FlowKey flow = pkt, base = pkt;
  FlowMask wc{};
  FlowMask ttl{}, ecn{};
  ttl.nw_ttl = 0xff, ecn.nw_tos = 0x03;
  pin_rewrite(flow, ttl, wc);  // dec_ttl
  --flow.nw_ttl;
  pin_rewrite(flow, ecn, wc);  // set_field:1->nw_ecn
  apply_set_field(f.actions[1], flow);
  DpActionList out;
  commit_flow(flow, base, wc, out);
  out.push_back(DpAction::output(2));
  const std::string dp = format_dp_actions(out);
  std::printf("datapath actions: %s\nmegaflow pins nw_ttl 0x%02x, nw_tos 0x%02x, nw_proto 0x%02x\n",
              dp.c_str(), wc.nw_ttl, wc.nw_tos, wc.nw_proto);
  return dp == "set(ipv4(tos=0x1/0x3,ttl=63)),2" && wc.nw_proto == 0xff ? 0 : 1;
}
