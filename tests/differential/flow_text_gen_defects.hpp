// flow_text_gen_defects.hpp — FlowTextGen::defect (flow_text_gen.hpp): one
// valid flow with one defect of the named kind spliced in.  Kinds whose
// names start with "ovs_", and "empty_value", "conflict", are the kept
// differences of docs/flow-syntax.md; their base actions are kept simple so
// that OVS's verdict is about the defect.
#pragma once

namespace flowpath::difftest {

inline std::string FlowTextGen::defect(const std::string& kind) {
  FlowCase base = valid();
  std::string& t = base.text;
  size_t ap = t.find("actions=");
  std::string match = t.substr(0, ap), acts = t.substr(ap + 8);
  if (!match.empty() && match.back() == ' ') match.pop_back();
  // A defect that brings its own protocol replaces the match (else the
  // spliced shorthand would conflict with the base flow's one).
  auto with_match = [&](const std::string& extra) {
    bool own_proto = extra.find(',') != std::string::npos;
    std::string a = own_proto ? actions(Ctx{}) : acts;
    // Kept differences are about the match: give OVS actions it takes in any mode.
    if (kind.starts_with("ovs_") || kind == "empty_value" || kind == "missing_prereq")
      a = "output:" + std::to_string(1 + below(8));
    std::string m = own_proto || match.empty() ? extra : match + "," + extra;
    return m + " actions=" + (a.empty() ? "drop" : a);
  };
  auto with_action = [&](const std::string& extra) {
    std::string a = acts.empty() || acts == "drop" ? extra : acts + "," + extra;
    return (match.empty() ? "" : match + " ") + "actions=" + a;
  };
  if (kind == "ct_defect") return ct_defect();
  if (kind == "bad_number")
    return with_match(
        pick(std::vector<std::string>{"tcp,tp_src=abc", "ip,nw_ttl=1x", "priority=-1", "in_port=x",
                                      "dl_type=0xzz", "ip,nw_tos=four"}));
  if (kind == "out_of_range")
    return with_match(pick(std::vector<std::string>{
        "tcp,tp_dst=65536", "ip,nw_ttl=256", "icmp,icmp_type=256", "priority=65536",
        "idle_timeout=65536", "hard_timeout=99999", "table=256", "dl_type=0x10000", "ip,nw_tos=256",
        "vlan_tci=0x10000", "cookie=0x10000000000000000"}));
  if (kind == "bad_address")
    return with_match(pick(std::vector<std::string>{
        "dl_src=00:11:22:33:44", "dl_dst=00:11:22:33:44:gg", "ip,nw_src=1.2.3", "ipv6,ipv6_src=::g",
        "arp,arp_sha=1:2:3", "ip,nw_dst=a.b.c.d"}));
  if (kind == "missing_prereq")
    return with_match(pick(std::vector<std::string>{
        "tp_src=1", "nw_src=192.0.2.1", "ipv6_src=::1", "arp_op=1", "icmp_type=3", "nd_target=::1",
        "tcp_flags=+syn", "nw_ttl=3", "udp,tcp_flags=+syn", "ip,nd_sll=00:00:00:00:00:01"}));
  if (kind == "unknown_field")
    return with_match(
        pick(std::vector<std::string>{"foo=1", "nw_srcx=1.2.3.4", "vlan=5", "dl_vlanx=1"}));
  if (kind == "unknown_action")
    return with_action(
        pick(std::vector<std::string>{"foo", "mod_foo:1", "outputx:1", "set_vlan:3"}));
  if (kind == "unmaskable_mask")
    return with_match(pick(std::vector<std::string>{
        "in_port=1/1", "ip,nw_ttl=1/0xff", "icmp,icmp_type=1/0xf", "dl_vlan=5/0xfff",
        "arp,arp_op=1/1", "ip,nw_tos=4/0xfc", "dl_vlan_pcp=1/7"}));
  if (kind == "bad_keyword")
    return with_match(pick(std::vector<std::string>{"priority", "table=x", "cookie=zz",
                                                    "idle_timeout=-5", "table=", "hard_timeout"}));
  if (kind == "goto_backward") {
    std::string m = match;
    size_t tp = m.find("table=");
    if (tp == std::string::npos) m = m.empty() ? "table=3" : m + ",table=3";
    int t = 3;
    if (tp != std::string::npos) t = std::stoi(m.substr(tp + 6));
    return (m.empty() ? "" : m + " ") +
           "actions=goto_table:" + std::to_string(t - int(below(unsigned(t) + 1)));
  }
  if (kind == "readonly_set")
    return "tcp actions=" +
           pick(std::vector<std::string>{"set_field:0x800->eth_type", "set_field:6->nw_proto",
                                         "set_field:1->nw_frag", "set_field:0x2->tcp_flags"});
  if (kind == "set_prereq")
    return pick(std::vector<std::string>{"", "arp", "ipv6", "udp", "icmp"}) + " actions=" +
           pick(std::vector<std::string>{"set_field:1->tcp_src", "set_field:192.0.2.1->ip_src",
                                         "set_field:::1->ipv6_dst", "set_field:4097->vlan_vid",
                                         "set_field:3->vlan_pcp", "set_field:1->arp_op",
                                         "set_field:1->icmp_type"});
  if (kind == "no_actions") return match.empty() ? "priority=5" : match;
  if (kind == "drop_with_other") return with_action("drop");
  if (kind == "bad_push_vlan")
    return with_action("push_vlan:" +
                       pick(std::vector<std::string>{"0x1234", "0x800", "33024x", "0x10000"}));
  if (kind == "bad_action_arg")
    return with_action(pick(std::vector<std::string>{
        "mod_vlan_vid:4096", "mod_vlan_pcp:8", "mod_nw_tos:3", "mod_nw_tos:256", "mod_dl_src:1:2:3",
        "mod_tp_src:65536", "output:abc", "goto_table:x", "mod_nw_src:1.2.3", "output:0xff00",
        "set_field:5->ip_dscpx"}));
  if (kind == "bad_resubmit")
    return with_action(pick(std::vector<std::string>{"resubmit(,255)", "resubmit(x,1)",
                                                     "resubmit(1,256)", "resubmit:"}));
  if (kind == "ovs_truncates")  // OVS keeps the bits that fit: kept difference
    return with_match(pick(
        std::vector<std::string>{"arp,arp_op=256", "ip,ip_dscp=64", "ip,nw_ecn=4", "ip,nw_tos=3",
                                 "ip,nw_tos=253", "dl_vlan=4096", "dl_vlan_pcp=8", "vlan_pcp=9"}));
  if (kind == "ovs_garbles")  // OVS accepts and prints nonsense: kept difference
    return pick(std::vector<std::string>{"ipv6,ipv6_label=0x100000 actions=drop",
                                         "actions=goto_table:255",
                                         "ipv6,ipv6_label=0x1fffff/0xfffff actions=drop"});
  if (kind == "goto_order")
    return with_action(chance(2) ? "goto_table:9,output:1" : "goto_table:9,goto_table:10");
  if (kind == "empty_value")  // OVS reads a match field's empty value as 0/0: kept difference
    return with_match(pick(
        std::vector<std::string>{"in_port=", "dl_src=", "ip,nw_ttl=", "tcp,tp_dst=", "dl_vlan="}));
  if (kind == "conflict")  // OVS lets the last setting win: kept difference
    return pick(std::vector<std::string>{"tcp,udp", "dl_type=0x0800,dl_type=0x0806",
                                         "ip,nw_ttl=1,nw_ttl=2", "icmp6,arp_op=1",
                                         "tcp,tp_src=1,tcp_src=2", "dl_vlan=5,vlan_tci=0x1006"}) +
           " actions=output:1";
  if (kind == "cookie_mask_add") return with_match("cookie=0x1/0xff");
  return with_match(pick(std::vector<std::string>{"ip,nw_src=10.0.0.0/33", "ipv6,ipv6_src=::1/129",
                                                  "ip,nw_dst=1.2.3.4/255.255.0.x"}));
}

}  // namespace flowpath::difftest
