// flow_text_gen_impl.hpp — the bodies of FlowTextGen (flow_text_gen.hpp):
// valid flows.  The defects are in flow_text_gen_defects.hpp.
#pragma once

namespace flowpath::difftest {

inline FlowTextGen::Ctx FlowTextGen::context() {
  Ctx c;
  static const char* kShort[] = {"",     "ip",   "ipv6", "arp",  "rarp",  "tcp",   "udp",
                                 "sctp", "icmp", "tcp6", "udp6", "sctp6", "icmp6", "icmp6"};
  c.shorthand = kShort[below(std::size(kShort))];
  const std::string& s = c.shorthand;
  c.ip4 = s == "ip" || s == "tcp" || s == "udp" || s == "sctp" || s == "icmp";
  c.ip6 = s == "ipv6" || s == "tcp6" || s == "udp6" || s == "sctp6" || s == "icmp6";
  c.arp = s == "arp" || s == "rarp";
  c.tcp = s == "tcp" || s == "tcp6";
  c.udp = s == "udp" || s == "udp6";
  c.sctp = s == "sctp" || s == "sctp6";
  c.icmp4 = s == "icmp";
  c.icmp6 = s == "icmp6";
  if (c.icmp6 && chance(2)) {
    bool ns = chance(2);
    c.shorthand += ns ? ",icmp_type=135" : ",icmp_type=136";
    c.nd_ns = ns, c.nd_na = !ns;
  }
  if (s.empty() && chance(4)) c.shorthand = "dl_type=" + hex(0x0800 + below(0x8000));
  return c;
}

// One match field that the context allows (empty when none fits this draw).
inline std::string FlowTextGen::match_field(const Ctx& c) {
  bool ip = c.ip4 || c.ip6, l4 = c.tcp || c.udp || c.sctp;
  switch (below(22)) {
    case 0:
      return "in_port=" + (chance(6) ? std::string("LOCAL") : std::to_string(1 + below(0xfeff)));
    case 1:
      return std::string(chance(2) ? "dl_src=" : "eth_src=") + mac() +
             (chance(3) ? "/" + mac_mask() : "");
    case 2:
      return std::string(chance(2) ? "dl_dst=" : "eth_dst=") + mac() +
             (chance(3) ? "/" + mac_mask() : "");
    case 3:
      return "dl_vlan=" + (chance(8) ? std::string("0xffff") : num(4095));
    case 4:
      return "dl_vlan_pcp=" + num(7);
    case 5:
      switch (below(4)) {
        case 0:
          return "vlan_tci=" + num(0xffff);
        case 1:
          return "vlan_tci=" + hex(below(0x10000)) + "/" + hex(below(0x10000));
        case 2:
          return "vlan_tci=0x1000/0x1000";
        default:
          return "vlan_tci=0";
      }
    case 6:
      return c.ip4   ? std::string(chance(2) ? "nw_src=" : "ip_src=") + ipv4_masked()
             : c.arp ? "arp_spa=" + ipv4_masked()
                     : "";
    case 7:
      return c.ip4   ? std::string(chance(2) ? "nw_dst=" : "ip_dst=") + ipv4_masked()
             : c.arp ? "arp_tpa=" + ipv4_masked()
                     : "";
    case 8:
      return ip && !l4 && !c.icmp4 && !c.icmp6 ? "nw_proto=" + num(255)
             : c.arp                           ? "arp_op=" + num(255)
                                               : "";
    case 9:
      return ip ? (chance(2) ? "nw_tos=" + std::to_string(4 * below(64)) : "ip_dscp=" + num(63))
                : "";
    case 10:
      return ip ? std::string(chance(2) ? "nw_ecn=" : "ip_ecn=") + num(3) : "";
    case 11:
      return ip ? "nw_ttl=" + num(255) : "";
    case 12:
      return ip ? "nw_frag=" +
                      pick(std::vector<std::string>{"no", "yes", "first", "later", "not_later"})
                : "";
    case 13: {
      if (!l4) return "";
      std::string p = c.tcp ? "tcp" : c.udp ? "udp" : "sctp";
      return (chance(2) ? std::string("tp_src=") : p + "_src=") + l4_port(true);
    }
    case 14: {
      if (!l4) return "";
      std::string p = c.tcp ? "tcp" : c.udp ? "udp" : "sctp";
      return (chance(2) ? std::string("tp_dst=") : p + "_dst=") + l4_port(true);
    }
    case 15:
      if (!c.tcp) return "";
      switch (below(3)) {
        case 0:
          return "tcp_flags=" +
                 pick(std::vector<std::string>{"+syn", "+syn-ack", "-rst+fin", "+ece+cwr+ns"});
        case 1:
          return "tcp_flags=" + hex(below(0x1000)) + (chance(2) ? "/" + hex(below(0x1000)) : "");
        default:
          return "tcp_flags=" + pick(std::vector<std::string>{"syn", "syn|ack", "0"});
      }
    case 16:
      if (c.icmp4) return std::string(chance(2) ? "icmp_type=" : "icmp_code=") + num(255);
      if (c.icmp6 && !c.nd_ns && !c.nd_na)
        return std::string(chance(2) ? "icmpv6_type=" : "icmpv6_code=") + num(255);
      if (c.icmp6) return chance(3) ? "icmp_code=" + num(255) : "icmp_code=0";  // ND needs code 0
      return "";
    case 17:
      if (c.arp)
        return std::string(chance(2) ? "arp_sha=" : "arp_tha=") + mac() +
               (chance(3) ? "/" + mac_mask() : "");
      return "";
    case 18:
      return c.ip6 ? std::string(chance(2) ? "ipv6_src=" : "ipv6_dst=") + ipv6_masked() : "";
    case 19:
      return c.ip6 ? "ipv6_label=" + hex(below(0x100000)) +
                         (chance(3) ? "/" + hex(below(0x100000)) : "")
                   : "";
    case 20:
      return c.nd_ns || c.nd_na ? "nd_target=" + ipv6_masked() : "";
    default:
      if (c.nd_ns) return "nd_sll=" + mac() + (chance(3) ? "/" + mac_mask() : "");
      if (c.nd_na) return "nd_tll=" + mac() + (chance(3) ? "/" + mac_mask() : "");
      return "";
  }
}

// set_field on a field the context makes settable; `vlan`: a tag is known present.
inline std::string FlowTextGen::set_field(const Ctx& c, bool& vlan) {
  bool ip = c.ip4 || c.ip6;
  std::vector<std::string> opts = {"in_port", "eth_src", "eth_dst", "vlan_tci"};
  if (vlan) opts.insert(opts.end(), {"vlan_vid", "vlan_pcp", "dl_vlan", "dl_vlan_pcp"});
  if (c.ip4) opts.insert(opts.end(), {"ip_src", "ip_dst", "nw_src", "nw_dst"});
  if (ip) opts.insert(opts.end(), {"nw_tos", "ip_dscp", "nw_ecn", "ip_ecn", "nw_ttl"});
  if (c.tcp) opts.insert(opts.end(), {"tcp_src", "tcp_dst", "tp_src", "tp_dst"});
  if (c.udp) opts.insert(opts.end(), {"udp_src", "udp_dst"});
  if (c.sctp) opts.insert(opts.end(), {"sctp_src", "sctp_dst"});
  if (c.icmp4) opts.insert(opts.end(), {"icmp_type", "icmp_code"});
  if (c.icmp6) opts.insert(opts.end(), {"icmpv6_type", "icmpv6_code"});
  if (c.arp) opts.insert(opts.end(), {"arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha"});
  if (c.ip6) opts.insert(opts.end(), {"ipv6_src", "ipv6_dst", "ipv6_label"});
  if (c.nd_ns || c.nd_na) opts.push_back("nd_target");
  if (c.nd_ns) opts.push_back("nd_sll");
  if (c.nd_na) opts.push_back("nd_tll");
  std::string f = pick(opts), v;
  if (f == "in_port")
    v = std::to_string(1 + below(100));
  else if (f == "eth_src" || f == "eth_dst" || f == "arp_sha" || f == "arp_tha" || f == "nd_sll" ||
           f == "nd_tll")
    v = mac();
  else if (f == "vlan_tci")
    v = hex(chance(2) ? 0x1000 | below(0x10000) : 0), vlan = v != "0x0";
  else if (f == "vlan_vid")
    v = std::to_string(0x1000 | below(4096));
  else if (f == "vlan_pcp" || f == "dl_vlan_pcp")
    v = num(7);
  else if (f == "dl_vlan")
    v = num(4095);
  else if (f == "ip_src" || f == "ip_dst" || f == "nw_src" || f == "nw_dst" || f == "arp_spa" ||
           f == "arp_tpa")
    v = ipv4();
  else if (f == "nw_tos")
    v = std::to_string(4 * below(64));
  else if (f == "ip_dscp")
    v = num(63);
  else if (f == "nw_ecn" || f == "ip_ecn")
    v = num(3);
  else if (f == "nw_ttl" || f == "arp_op" || f.starts_with("icmp"))
    v = num(255);
  else if (f == "ipv6_src" || f == "ipv6_dst" || f == "nd_target")
    v = ipv6();
  else if (f == "ipv6_label")
    v = hex(below(0x100000));
  else
    v = num(65535);
  return "set_field:" + v + "->" + f;
}

inline std::string FlowTextGen::actions(const Ctx& c) {
  if (chance(8)) return chance(2) ? "drop" : "";
  if (chance(16)) return conjunctions();  // alone, as OVS requires
  bool vlan = false, ip = c.ip4 || c.ip6, l4 = c.tcp || c.udp || c.sctp;
  std::vector<std::string> acts;
  for (unsigned n = 1 + unsigned(below(5)), i = 0; i < n; ++i) {
    if (chance(4)) {
      acts.push_back(nx_action(c));
      continue;
    }
    switch (below(16)) {
      case 0:
        acts.push_back("output:" + std::to_string(1 + below(0xfeff)));
        break;
      case 1:
        acts.push_back(std::to_string(1 + below(64)));
        break;
      case 2:
        acts.push_back(pick(std::vector<std::string>{"NORMAL", "FLOOD", "ALL", "IN_PORT", "LOCAL",
                                                     "CONTROLLER", "normal", "output:LOCAL"}));
        break;
      case 3:
        acts.push_back("mod_vlan_vid:" + num(4095)), vlan = true;
        break;
      case 4:
        acts.push_back("mod_vlan_pcp:" + num(7)), vlan = true;
        break;
      case 5:
        acts.push_back(chance(2) ? "strip_vlan" : "pop_vlan"), vlan = false;
        break;
      case 6:
        acts.push_back(std::string("push_vlan:") + (chance(3) ? "0x88a8" : "0x8100"));
        acts.push_back(chance(2)
                           ? "mod_vlan_vid:" + num(4095)
                           : "set_field:" + std::to_string(0x1000 | below(4096)) + "->vlan_vid");
        vlan = true;
        break;
      case 7:
        acts.push_back(std::string(chance(2) ? "mod_dl_src:" : "mod_dl_dst:") + mac());
        break;
      case 8:
        if (c.ip4) acts.push_back(std::string(chance(2) ? "mod_nw_src:" : "mod_nw_dst:") + ipv4());
        break;
      case 9:
        if (ip) acts.push_back("mod_nw_tos:" + std::to_string(4 * below(64)));
        break;
      case 10:
        if (l4) acts.push_back(std::string(chance(2) ? "mod_tp_src:" : "mod_tp_dst:") + num(65535));
        break;
      case 11:
      case 12:
        acts.push_back(set_field(c, vlan));
        break;
      case 13:
        switch (below(3)) {
          case 0:
            acts.push_back("resubmit:" + std::to_string(1 + below(100)));
            break;
          case 1:
            acts.push_back("resubmit(," + std::to_string(below(255)) + ")");
            break;
          default:
            acts.push_back("resubmit(" + std::to_string(1 + below(100)) + "," +
                           std::to_string(below(255)) + ")");
        }
        break;
      case 14:
        break;  // goto_table: below, last
      default:
        acts.push_back("output:" + std::to_string(1 + below(8)));
        break;
    }
  }
  // goto_table is an instruction: once, after the actions (a later action
  // or a second goto_table is the "goto_order" defect).
  if (chance(4))
    acts.push_back("goto_table:" + std::to_string(table_ < 0 ? below(8) : table_ + 1 + below(4)));
  return join(acts, ",");
}

}  // namespace flowpath::difftest

#include "flow_text_gen_defects.hpp"
