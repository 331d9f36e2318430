// flow_text_gen_ct.hpp — FlowTextGen's pipeline part (flow_text_gen.hpp):
// match fields ct_state/ct_zone/ct_mark/ct_label, reg0..15, xreg0..7,
// conj_id, recirc_id; actions load/move on registers and header fields,
// set_field to registers, ct(...) with commit/zone/table/exec/nat,
// ct_clear, and conjunction(ID,K/N) (alone, as OVS requires); and their
// defects (kind "ct_defect").
#pragma once

namespace flowpath::difftest {

inline std::string FlowTextGen::pipeline_field(const Ctx&) {
  switch (below(8)) {
    case 0:
      return "ct_state=" + pick(std::vector<std::string>{
                               "+trk", "-trk", "+est-rel-rpl", "+new-est", "-new-est+rel-inv",
                               "+trk+inv", "+est-rel+rpl", "-est", "new|trk", "0x21/0x3f", "0x22",
                               "0", "+snat-dnat", "trk|est|rpl", "0x80/0x80"});
    case 1:
      return "ct_zone=" + num(65535);
    case 2:
      return "ct_mark=" + num(0xffffffff) + (chance(3) ? "/" + hex(rng_() & 0xffffffff) : "");
    case 3:
      return "ct_label=" + hex(rng_() >> below(64)) +
             pick(std::vector<std::string>{"", "", "/0x1", "/0xffff0000ffff0000ffff",
                                           "0000000000000000",
                                           "/0xffffffffffffffffffffffffffffffff"});
    case 4:
    case 5: {
      unsigned r = unsigned(below(16));
      return "reg" + std::to_string(r) + "=" + num(0xffffffff) +
             (chance(3) ? "/" + hex(rng_() & 0xffffffff) : "");
    }
    case 6:
      return "xreg" + std::to_string(below(8)) + "=" + hex(rng_() >> below(64)) +
             (chance(3) ? "/" + hex(rng_()) : "");
    default:
      return chance(2) ? "conj_id=" + num(0xffffffff) : "recirc_id=" + num(0xffffffff);
  }
}

// A register subfield: NXM or short name, whole field or a bit range.
inline std::string FlowTextGen::reg_subfield(unsigned& bits) {
  unsigned r = unsigned(below(16));
  std::string name = chance(2) ? "NXM_NX_REG" + std::to_string(r) : "reg" + std::to_string(r);
  if (bits == 0 && chance(3)) {
    bits = 32;
    return name + (chance(2) ? "[]" : "");
  }
  if (bits == 0) bits = 1 + unsigned(below(32));
  unsigned ofs = unsigned(below(33 - bits));
  return name + "[" + std::to_string(ofs) +
         (bits == 1 ? "" : ".." + std::to_string(ofs + bits - 1)) + "]";
}

// A source field the context makes readable, with its width.
inline std::string FlowTextGen::readable_field(const Ctx& c, unsigned& bits) {
  std::vector<std::pair<std::string, unsigned>> opts = {
      {"NXM_OF_IN_PORT[]", 16},  {"NXM_OF_ETH_SRC[0..31]", 32}, {"NXM_OF_ETH_DST[16..47]", 32},
      {"NXM_NX_CT_ZONE[]", 16},  {"NXM_NX_CT_MARK[]", 32},      {"NXM_NX_CT_STATE[]", 32},
      {"NXM_OF_VLAN_TCI[]", 16}, {"NXM_OF_ETH_TYPE[]", 16},     {"NXM_NX_CT_LABEL[0..31]", 32}};
  if (c.ip4) opts.insert(opts.end(), {{"NXM_OF_IP_SRC[]", 32}, {"NXM_OF_IP_DST[0..15]", 16}});
  if (c.tcp && c.ip4) opts.push_back({"NXM_OF_TCP_DST[]", 16});
  if (c.udp && c.ip4) opts.push_back({"NXM_OF_UDP_SRC[]", 16});
  auto [name, w] = pick(opts);
  bits = w;
  return name;
}

inline std::string FlowTextGen::ct_action(const Ctx& c) {
  bool commit = chance(3) != 0;
  std::vector<std::string> args;
  if (commit) args.push_back("commit");
  if (chance(2)) args.push_back("table=" + std::to_string(below(255)));
  switch (below(4)) {
    case 0:
      args.push_back("zone=" + num(65535));
      break;
    case 1:
      args.push_back("zone=NXM_NX_REG" + std::to_string(below(16)) +
                     (chance(2) ? "[0..15]" : "[16..31]"));
      break;
    default:
      break;
  }
  std::vector<std::string> ex;
  if (commit && chance(3)) {
    for (unsigned n = 1 + unsigned(below(2)), i = 0; i < n; ++i) switch (below(4)) {
        case 0:
          ex.push_back("set_field:" + num(0xffffffff) + "->ct_mark");
          break;
        case 1:
          ex.push_back("set_field:" + hex(below(256)) + "/" + hex(below(256)) + "->ct_mark");
          break;
        case 2:
          ex.push_back("load:" + hex(below(2)) + "->NXM_NX_CT_LABEL[" + std::to_string(below(128)) +
                       "]");
          break;
        default:
          ex.push_back("set_field:" + hex(rng_() >> below(64)) + "->ct_label");
      }
  }
  std::string nat;
  if (commit && chance(3)) {
    std::string kind = chance(2) ? "src" : "dst";
    std::string range;
    if (c.ip4)
      range = pick(std::vector<std::string>{"=192.0.2.1", "=192.0.2.1-192.0.2.9",
                                            "=198.51.100.1:1000-2000", "=203.0.113.5:80", ""});
    else
      range = pick(std::vector<std::string>{"=2001:db8::1", "=[2001:db8::1]-[2001:db8::9]:80-90",
                                            "=[2001:db8::5]:443", ""});
    std::string flags =
        pick(std::vector<std::string>{"", ",persistent", ",hash", ",random", ",persistent,random"});
    nat = "nat(" + kind + range + flags + ")";
  } else if (chance(4)) {
    nat = "nat";
  }
  // nat anywhere among the nested actions, as ovs-ofctl takes it: its own
  // argument (before or after exec(...)), inside exec(...) at any place,
  // or between two exec(...) groups.
  if (!nat.empty() && !ex.empty() && chance(2)) {
    const size_t at = size_t(below(ex.size() + 1));
    if (chance(2)) {
      ex.insert(ex.begin() + ptrdiff_t(at), nat);
      args.push_back("exec(" + join(ex, ",") + ")");
    } else {
      std::vector<std::string> a(ex.begin(), ex.begin() + ptrdiff_t(at));
      std::vector<std::string> b(ex.begin() + ptrdiff_t(at), ex.end());
      std::string seq = (a.empty() ? "" : "exec(" + join(a, ",") + "),") + nat +
                        (b.empty() ? "" : ",exec(" + join(b, ",") + ")");
      args.push_back(seq);  // kept in order by the shuffle: one argument
    }
  } else {
    if (!ex.empty()) args.push_back("exec(" + join(ex, ",") + ")");
    if (!nat.empty()) args.push_back(nat);
  }
  shuffle(args);
  return "ct(" + join(args, ",") + ")";
}

inline std::string FlowTextGen::nx_action(const Ctx& c) {
  bool ip = c.ip4 || c.ip6;
  switch (below(7)) {
    case 0: {
      unsigned bits = 0;
      std::string dst = reg_subfield(bits);
      uint64_t max = bits >= 64 ? ~0ull : (1ull << bits) - 1;
      return "load:" + num(max) + "->" + dst;
    }
    case 1: {
      unsigned bits = 0;
      std::string src = chance(2) ? readable_field(c, bits) : reg_subfield(bits);
      std::string dst = reg_subfield(bits);
      return "move:" + src + "->" + dst;
    }
    case 2:
      if (chance(2)) return "set_field:" + num(0xffffffff) + "->reg" + std::to_string(below(16));
      return "set_field:" + hex(rng_() >> below(64)) + (chance(3) ? "/" + hex(rng_()) : "") +
             "->xreg" + std::to_string(below(8));
    case 3:
    case 4:
      return ip ? ct_action(c) : "ct_clear";
    case 5:
      return "ct_clear";
    default:
      return c.ip4 ? "load:" + hex(below(256)) + "->NXM_OF_IP_DST[0..7]"
                   : "load:" + num(0xfff) + "->NXM_OF_VLAN_TCI[0..11]";
  }
}

inline std::string FlowTextGen::conjunctions() {
  std::vector<std::string> acts;
  for (unsigned n = 1 + unsigned(below(3)), i = 0; i < n; ++i) {
    unsigned clauses = 2 + unsigned(below(chance(4) ? 63 : 3));
    acts.push_back("conjunction(" + num(0xffffffff) + "," + std::to_string(1 + below(clauses)) +
                   "/" + std::to_string(clauses) + ")");
  }
  return join(acts, ",");
}

// Defects of the new syntax; `match`/`acts` are a valid base flow's.
inline std::string FlowTextGen::ct_defect() {
  return pick(std::vector<std::string>{
      "ct_state=+foo actions=drop",
      "ct_state=+new+new actions=drop",
      "ct_state=0x100 actions=drop",
      "ct_zone=1/1 actions=drop",
      "conj_id=3/3 actions=drop",
      "reg16=1 actions=drop",
      "reg3=4294967296 actions=drop",
      "ct_label=0x123456789abcdef0123456789abcdef01 actions=drop",
      "actions=ct(commit)",
      "arp actions=ct(commit)",
      "ip actions=ct(zone=70000)",
      "ip actions=ct(table=255)",
      "ip actions=ct(foo)",
      "ip actions=ct(commit,exec(output:1))",
      "ip actions=ct(commit,exec(set_field:1->reg1))",
      "ip actions=ct(commit,nat(src=10.0.0.1-10.0.0.0))",
      "ip actions=ct(commit,nat(dst=10.0.0.1,random,hash))",
      "ip actions=ct(commit,nat(persistent))",
      "ipv6 actions=ct(commit,nat(src=10.0.0.1))",
      "ip actions=set_field:1->ct_mark",
      "ip actions=load:1->NXM_NX_CT_MARK[]",
      "ip actions=set_field:1->ct_state",
      "ip actions=set_field:1->conj_id",
      "ip actions=move:reg1[0..15]->reg2[0..14]",
      "ip actions=move:reg1[0..32]->reg2",
      "ip actions=load:0x10000->NXM_NX_REG1[0..15]",
      "ip actions=load:1->NXM_NX_REG1[16..15]",
      "actions=move:NXM_OF_IP_SRC[]->reg1",
      "ip actions=conjunction(1,1/1)",
      "ip actions=conjunction(1,0/2)",
      "ip actions=conjunction(1,3/2)",
      "ip actions=conjunction(1,1/65)",
      "ip actions=conjunction(1)",
      "ip actions=conjunction(1,1/2),output:1",
      "ip actions=output:1,conjunction(1,1/2)",
      "ip actions=load:1->NXM_NX_REG1[0..15],conjunction(1,1/2)",
  });
}

}  // namespace flowpath::difftest
