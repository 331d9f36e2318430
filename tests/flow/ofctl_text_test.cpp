// Round trips, normalization and error messages of the ovs-ofctl flow text.
#include "flowpath/flow/ofctl_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace flowpath {
namespace ofctl_text_test {

std::string norm(const std::string& text) { return format_flow(parse_flow(text)); }
std::string mod(const std::string& text) { return format_flow_mod(parse_flow(text)); }

std::string error_of(const std::string& text) {
  try {
    parse_flow(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(OfctlText, RoundTripsCanonicalFlows) {
  const char* flows[] = {
      "priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL",
      "priority=10,ip,nw_src=10.0.0.0/8 actions=output:2",
      "ip,nw_src=10.0.0.0/16,nw_dst=1.0.3.0/255.0.255.0 actions=drop",
      "in_port=LOCAL,dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00,dl_dst=01:00:00:00:00:00/"
      "01:00:00:00:00:00 actions=LOCAL,IN_PORT,FLOOD,ALL",
      "dl_vlan=5,dl_vlan_pcp=2 actions=drop",
      "dl_vlan_pcp=3 actions=drop",
      "vlan_tci=0x0000 actions=drop",
      "vlan_tci=0x1000/0x1000 actions=drop",
      "dl_type=0x1234 actions=drop",
      "arp,arp_spa=1.2.3.4,arp_op=1 actions=drop",
      "rarp,arp_spa=1.2.3.4,arp_op=2,arp_tha=00:00:00:00:00:01 "
      "actions=mod_dl_src:00:00:00:00:00:01,mod_nw_src:1.2.3.4,mod_nw_tos:8,mod_tp_dst:9",
      "arp,arp_op=1,arp_sha=00:00:00:00:00:00/ff:ff:ff:ff:ff:00 actions=drop",
      "tcp,tp_src=80 actions=drop",
      "udp,tp_src=80 actions=drop",
      "tcp,tp_src=0x100/0xff00,tp_dst=80 actions=drop",
      "sctp6,tp_src=1 actions=drop",
      "udp6,tp_dst=53 actions=resubmit:3,resubmit(,2),resubmit(1,2)",
      "icmp,icmp_type=8,icmp_code=0 actions=goto_table:1",
      "icmp6,icmp_type=135,nd_target=::1,nd_sll=00:11:22:33:44:55 actions=strip_vlan",
      "icmp6,icmp_type=136,nd_target=fe80::/64,nd_tll=00:00:00:00:00:02 actions=drop",
      "ip,nw_proto=99 actions=drop",
      "ip,nw_tos=4,nw_ecn=3,nw_ttl=6 actions=drop",
      "ip,nw_frag=first actions=drop",
      "ip,nw_frag=later actions=drop",
      "ip,nw_frag=not_later actions=drop",
      "ip,nw_frag=yes actions=drop",
      "ip,nw_frag=no actions=drop",
      "tcp,tcp_flags=syn|ack actions=drop",
      "tcp,tcp_flags=0 actions=drop",
      "tcp,tcp_flags=-syn actions=drop",
      "tcp,tcp_flags=+ece+cwr+ns-[200]-[400]-[800] actions=drop",
      "tcp,tcp_flags=[800] actions=drop",
      "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345 actions=drop",
      "ipv6,ipv6_label=0x00012/0x000ff actions=drop",
      "tcp6 actions=drop",
      "priority=0 actions=drop",
      "priority=65535 actions=drop",
      "actions=drop",
      "actions=output:1,LOCAL,CONTROLLER:65535,mod_vlan_pcp:3,mod_dl_dst:00:00:00:00:00:01,mod_nw_"
      "dst:1.1.1.1,mod_tp_src:1",
      "actions=strip_vlan,push_vlan:0x88a8",
      "ip actions=set_field:5->nw_ttl,set_field:3->ip_ecn",
      "ipv6 actions=set_field:::1->ipv6_src",
      "table=1,cookie=0x123,idle_timeout=10,hard_timeout=20,priority=10,ip actions=output:2",
  };
  for (const char* f : flows) {
    EXPECT_EQ(norm(f), f) << f;
    EXPECT_EQ(norm(norm(f)), norm(f)) << f;
  }
}

TEST(OfctlText, NormalizesAliasesAndShorthands) {
  EXPECT_EQ(norm("eth_src=00:00:00:00:00:01,eth_dst=00:00:00:00:00:02,eth_type=0x0806 actions=1"),
            "arp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02 actions=output:1");
  EXPECT_EQ(norm("vlan_vid=7,vlan_pcp=1 actions=drop"), "dl_vlan=7,dl_vlan_pcp=1 actions=drop");
  EXPECT_EQ(norm("dl_type=0x0800,ip_src=1.2.3.4,ip_dst=5.6.7.8/24,ip_proto=6,tcp_src=1,tcp_dst=2 "
                 "actions=drop"),
            "tcp,nw_src=1.2.3.4,nw_dst=5.6.7.0/24,tp_src=1,tp_dst=2 actions=drop");
  EXPECT_EQ(norm("udp,udp_src=1,udp_dst=2 actions=drop"), "udp,tp_src=1,tp_dst=2 actions=drop");
  EXPECT_EQ(norm("sctp,sctp_src=1,sctp_dst=2 actions=drop"), "sctp,tp_src=1,tp_dst=2 actions=drop");
  EXPECT_EQ(norm("icmp6,icmpv6_type=1,icmpv6_code=2 actions=drop"),
            "icmp6,icmp_type=1,icmp_code=2 actions=drop");
  EXPECT_EQ(norm("ip,ip_dscp=1 actions=drop"), "ip,nw_tos=4 actions=drop");
  EXPECT_EQ(norm("arp,nw_src=1.2.3.4,nw_proto=1 actions=drop"),
            "arp,arp_spa=1.2.3.4,arp_op=1 actions=drop");
  EXPECT_EQ(norm("tcp6,tcp_flags=+syn-ack actions=drop"), "tcp6,tcp_flags=+syn-ack actions=drop");
  EXPECT_EQ(norm("tcp,tcp_flags=0x012/0x0ff actions=drop"),
            "tcp,tcp_flags=-fin+syn-rst-psh+ack-urg-ece-cwr actions=drop");
  EXPECT_EQ(norm("dl_vlan=0xffff actions=drop"), "vlan_tci=0x0000 actions=drop");
  EXPECT_EQ(norm("in_port=65534 actions=drop"), "in_port=LOCAL actions=drop");
  EXPECT_EQ(norm("priority=32768, tcp   actions=drop"), "tcp actions=drop");
  EXPECT_EQ(norm("tcp,actions=drop"), "tcp actions=drop");
  EXPECT_EQ(norm("actions="), "actions=drop");
  EXPECT_EQ(norm("actions=output:in_port,normal,flood,all,local,3"),
            "actions=IN_PORT,NORMAL,FLOOD,ALL,LOCAL,output:3");
  EXPECT_EQ(norm("tcp actions=set_field:1->tp_src,set_field:2->tcp_dst,set_field:1.2.3.4->ip_src"),
            "tcp actions=mod_tp_src:1,mod_tp_dst:2,mod_nw_src:1.2.3.4");
  EXPECT_EQ(norm("actions=pop_vlan,resubmit(IN_PORT,4),resubmit(1,)"),
            "actions=strip_vlan,resubmit(,4),resubmit:1");
  EXPECT_EQ(norm("actions=mod_vlan_vid:0x10"), "actions=mod_vlan_vid:16");
}

TEST(OfctlText, FlowModFormatLikeOvsOfctlParseFlows) {
  EXPECT_EQ(
      mod("table=1,priority=10,cookie=0x123,idle_timeout=10,hard_timeout=20,ip,nw_src=10.0.0.0/8 "
          "actions=2"),
      "table:1 priority=10,ip,nw_src=10.0.0.0/8 cookie:0x123 idle:10 hard:20 actions=output:2");
  EXPECT_EQ(mod("cookie=18 actions=drop"), "cookie:0x12 actions=drop");
  EXPECT_EQ(mod("idle_timeout=0,hard_timeout=0,table=0,priority=0 actions=drop"),
            "priority=0 actions=drop");
}

TEST(OfctlText, PortNamesThroughResolver) {
  PortNameResolver r = [](std::string_view n) -> std::optional<uint32_t> {
    if (n == "eth0") return 5;
    return std::nullopt;
  };
  PortNamer namer = [](uint32_t p) -> std::optional<std::string> {
    if (p == 5) return "eth0";
    return std::nullopt;
  };
  OfctlFlow f = parse_flow("in_port=eth0 actions=output:eth0,resubmit(eth0,1)", r);
  EXPECT_EQ(get_field(f.match.value, FieldId::kInPort), 5u);
  EXPECT_EQ(format_flow(f), "in_port=5 actions=output:5,resubmit(5,1)");
  EXPECT_EQ(format_flow(f, &namer), "in_port=eth0 actions=output:eth0,resubmit(eth0,1)");
  EXPECT_NE(error_of("in_port=eth1 actions=drop"), "<no error>");
}

TEST(OfctlText, ErrorsNameTheTokenAndTheProblem) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"foo=1 actions=drop", "foo=1: unknown keyword foo"},
      {"bogus actions=drop", "unknown keyword bogus"},
      {"tcp,udp actions=drop", "udp: conflicts"},
      {"dl_type=0x800,dl_type=0x806 actions=drop", "dl_type=0x806: conflicts"},
      {"tp_src=1 actions=drop", "tp_src: missing prerequisite"},
      {"nw_src=1.2.3.4 actions=drop", "nw_src: missing prerequisite"},
      {"udp,tcp_flags=+syn actions=drop", "tcp_flags: missing prerequisite"},
      {"icmp6,nd_target=::1 actions=drop", "nd_target: missing prerequisite"},
      {"ipv6,icmp_type=1 actions=drop", "icmp_type: missing prerequisite"},
      {"arp,ipv6_src=::1 actions=drop", "ipv6_src: missing prerequisite"},
      {"ip,nw_src=1.2.3 actions=drop", "nw_src=1.2.3: 1.2.3: invalid IP address"},
      {"ip,nw_src=1.2.3.4/33 actions=drop",
       "nw_src=1.2.3.4/33: 1.2.3.4/33: IPv4 network prefix bits"},
      {"ipv6,ipv6_src=::g actions=drop", "ipv6_src=::g: ::g: invalid IPv6 address"},
      {"dl_src=00:11:22:33:44 actions=drop",
       "dl_src=00:11:22:33:44: 00:11:22:33:44: invalid Ethernet"},
      {"dl_vlan=4096 actions=drop", "dl_vlan=4096: bad value"},
      {"dl_vlan_pcp=8 actions=drop", "dl_vlan_pcp=8: bad value"},
      {"ip,nw_tos=3 actions=drop", "nw_tos=3: bad value"},
      {"ip,nw_ecn=4 actions=drop", "nw_ecn=4: bad value"},
      {"ip,nw_frag=maybe actions=drop", "nw_frag=maybe: bad value"},
      {"tcp,tcp_flags=+foo actions=drop", "unknown TCP flag"},
      {"tcp,tp_src=65536 actions=drop",
       "tp_src=65536: 65536: value too large for 2-byte field tcp_src"},
      {"dl_type=0x800/0xff00 actions=drop", "0x800/0xff00: invalid mask for field dl_type"},
      {"priority=65536 actions=drop", "priority=65536: invalid priority \"65536\""},
      {"table=256 actions=drop", "table=256: unknown table \"256\""},
      {"cookie=0x1/0xff actions=drop", "cookie mask"},
      {"in_port=0xfff8 actions=drop", "0xfff8: invalid or unknown port for in_port"},
      {"in_port= actions=drop", "in_port=: missing value"},
      {"tcp", "must specify an action"},
      {"ip,tcp=1 actions=drop", "shorthand takes no value"},
      {"actions=drop,output:1", "\"drop\" must not be accompanied by any other action"},
      {"actions=frobnicate", "frobnicate: unknown action frobnicate"},
      {"actions=mod_vlan_vid:4096", "mod_vlan_vid:4096: 4096: not a valid VLAN VID"},
      {"actions=mod_nw_tos:3", "mod_nw_tos:3: 3: not a valid TOS"},
      {"actions=push_vlan:0x800", "push_vlan:0x800: 0x800: not a valid VLAN ethertype"},
      {"actions=output:0xff00", "0xff00: output to unknown port"},
      {"actions=resubmit(,)", "at least one \"in_port\" or \"table\" must be specified"},
      {"actions=resubmit(1,256)", "256: resubmit to unknown table"},
      {"actions=goto_table:255", "bad value"},
      {"actions=set_field:1->nw_ttl", "(OFPBAC_MATCH_INCONSISTENT): the match lacks ip"},
      {"actions=set_field:1->bogus", "bogus is not a valid OXM field name"},
      {"ip actions=set_field:1->nw_frag", "read-only"},
      {"actions=output:1,,output:2", "empty action"},
  };
  for (const auto& c : cases) {
    std::string e = error_of(c.text);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.text << " -> " << e;
  }
}

TEST(OfctlText, FiltersAcceptCookieMaskOutPortAndNoActions) {
  OfctlFlow f = parse_flow("cookie=0x10/0xf0,out_port=3,tcp", {}, FlowTextMode::kFilter);
  EXPECT_EQ(f.cookie, 0x10u);
  EXPECT_EQ(f.cookie_mask, 0xf0u);
  EXPECT_EQ(f.out_port, 3u);
  EXPECT_EQ(f.table, kOfTableAll);
  EXPECT_FALSE(f.has_actions);
  EXPECT_EQ(format_match(parse_match("tcp,tp_dst=80")), "tcp,tp_dst=80");
}

// ovs-ofctl reads cookies with strtoull: "-N" is 2^64 - N, so `del-flows
// BR cookie=0x1/-1` selects cookie 0x1 exactly (ovs-ofctl parse-flow
// "cookie=-2,actions=drop" prints cookie:0xfffffffffffffffe).
TEST(OfctlText, CookieTakesNegativeNumbersAsStrtoullDoes) {
  OfctlFlow f = parse_flow("cookie=0x1/-1", {}, FlowTextMode::kFilter);
  EXPECT_EQ(f.cookie, 0x1u);
  EXPECT_EQ(f.cookie_mask, ~uint64_t(0));
  EXPECT_EQ(parse_flow("cookie=-0x10 actions=drop").cookie, 0xfffffffffffffff0u);
  EXPECT_EQ(mod("cookie=-2 actions=drop"), "cookie:0xfffffffffffffffe actions=drop");
  EXPECT_NE(error_of("cookie=0x1/- actions=drop").find("invalid numeric format"),
            std::string::npos);
  EXPECT_NE(error_of("cookie=-x actions=drop").find("invalid numeric format"), std::string::npos);
}

TEST(OfctlText, FormatKeyShowsPresentFields) {
  FlowKey k;
  k.in_port = 0;
  k.dl_src = EthAddr{{0, 1, 2, 3, 4, 5}};
  k.dl_dst = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  k.vlans[0] = VlanHeader{Be16(kEthTypeVlan), Be16(uint16_t(kVlanCfi | 1000))};
  k.dl_type = Be16(kEthTypeIpv4);
  k.nw_src = Be32(0x0a000001);
  k.nw_dst = Be32(0x0a000002);
  k.nw_proto = kIpProtoUdp;
  k.nw_ttl = 64;
  k.tp_src = Be16(1234);
  k.tp_dst = Be16(53);
  EXPECT_EQ(
      format_key(k),
      "udp,in_port=0,dl_vlan=1000,dl_vlan_pcp=0,dl_src=00:01:02:03:04:05,dl_dst=ff:ff:ff:ff:ff:ff,"
      "nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst="
      "53");
  FlowKey a;
  a.dl_type = Be16(kEthTypeArp);
  a.nw_proto = 1;
  EXPECT_EQ(format_key(a),
            "arp,in_port=0,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,arp_spa=0.0.0.0,"
            "arp_tpa=0.0.0.0,arp_op=1,arp_sha=00:00:00:00:00:00,arp_tha=00:00:00:00:00:00");
  // The printed key parses back to a match that the key satisfies.
  OfctlFlow back = parse_flow(format_key(k) + " actions=drop");
  EXPECT_TRUE(back.match.matches(k));
}

TEST(OfctlText, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz_=,:/.0123456789xX()->+-| [];";
  const char* seeds[] = {"tcp,tp_src=80 actions=output:1", "ipv6,ipv6_src=::1/64 actions=drop",
                         "arp,arp_sha=00:11:22:33:44:55 actions=resubmit(1,2)",
                         "tcp,tcp_flags=+syn-ack actions=set_field:1->tp_src"};
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[i % 4];
    int edits = 1 + int(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (s.size() + 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          s.insert(pos, 1, c);
          break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        default:
          if (pos < s.size()) s[pos] = c;
          break;
      }
    }
    try {
      OfctlFlow f = parse_flow(s);
      ++parsed;
      // Whatever parses prints to something that parses to the same flow.
      std::string t = format_flow(f);
      OfctlFlow g = parse_flow(t);
      EXPECT_EQ(g.match, f.match) << s << " -> " << t;
      EXPECT_EQ(format_flow(g), t) << s;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace ofctl_text_test
}  // namespace flowpath
