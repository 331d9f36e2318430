// NORMAL, VLAN modes, patch ports and MAC learning against the real Open
// vSwitch: the same configuration file drives flowpath (in-process) and a
// private ovs-vswitchd (dummy datapath, normal_ovs.hpp); a seeded generator
// sends the same frames to both, and every frame's datapath actions must
// agree as a set of outputs with the VLAN tags each carries
// (normal_actions.hpp).  Megaflow masks are compared too, for information.
//
// A scenario flushes both MAC tables, sends learning frames (hosts left
// unknown, learned on one port, or learned then moved), then probes; every
// frame, learning ones included, is a case, and every frame learns on both
// switches (OVS: ofproto/trace with a packet learns, as a received packet
// does; flowpath: the translation of a real packet learns).
//
//   FLOWPATH_DIFF_SEED=N        another reproducible run (default 1)
//   FLOWPATH_DIFF_SCENARIOS=N   scenarios per configuration (default 120)
//   FLOWPATH_DIFF_VERBOSE=1     print every case
// Skips (with the reason) where Open vSwitch is not installed.
#include "differential/normal_ovs.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "differential/normal_actions.hpp"
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/bridge/trace.hpp"
#include "flowpath/bridge/views.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "flowpath/datapath/dp_format.hpp"
#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/parse/parser.hpp"

namespace flowpath::difftest {
namespace normal_ovs_test {

uint64_t env_u64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : dflt;
}

EthAddr mac_of(uint64_t v) {
  EthAddr a;
  for (int i = 5; i >= 0; --i, v >>= 8) a.b[size_t(i)] = uint8_t(v);
  return a;
}

struct PortRef {
  std::string bridge;
  const PortConfig* cfg;
};

/// One configuration on both switches.
struct SwitchPair {
  std::string name;
  SwitchConfig cfg;
  std::unique_ptr<Ofproto> of;
  std::unique_ptr<Datapath<Ofproto>> dp;  // EMC + megaflow cache in front of `of`
  std::vector<PortRef> ports;             // every port of every bridge, LOCAL and patch included
  std::vector<uint16_t> local, provider;
  std::map<std::string, EthAddr> bridge_mac;  // OVS's LOCAL MACs

  SwitchPair(std::string n, SwitchConfig c) : name(std::move(n)), cfg(std::move(c)) {
    of = std::make_unique<Ofproto>(cfg);
    dp = std::make_unique<Datapath<Ofproto>>(*of);
    std::set<uint16_t> loc, prov;
    for (const auto& b : cfg.bridges) {
      for (const auto& p : b.ports) {
        ports.push_back({b.name, &p});
        if (p.tag) loc.insert(*p.tag);
        for (uint16_t t : p.trunks)
          if (t) loc.insert(t);
      }
      static const std::regex vid(R"((dl_vlan=|mod_vlan_vid:)(\d+))");
      for (const auto& f : b.flows)
        for (std::sregex_iterator it(f.text.begin(), f.text.end(), vid), end; it != end; ++it)
          prov.insert(uint16_t(std::stoi((*it)[2])));
    }
    for (uint16_t v : prov)
      if (!loc.count(v)) provider.push_back(v);
    local.assign(loc.begin(), loc.end());
  }
};

struct Case {
  PortRef in;
  Frame frame;
  std::string labels;  // vid class, dst class, src class: for the mismatch histogram
};

/// The seeded generator of frames (see the file comment for the classes).
class Generator {
 public:
  Generator(uint64_t seed) : rng_(seed) {}

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return int(pick(100)) < percent; }

  /// Tags of a frame on `p`, with the VID class in `label`.
  std::vector<Tag> tags(const SwitchPair& s, const PortConfig& p, std::string& label) {
    auto vid_of_class = [&](std::string& cls) -> uint16_t {
      switch (pick(5)) {
        case 0:
          cls = "vid0";
          return 0;
        case 1:
          cls = "vid-port";
          return p.tag ? *p.tag : s.local[pick(s.local.size())];
        case 2:
          cls = "vid-local";
          return s.local[pick(s.local.size())];
        case 3:
          cls = "vid-provider";
          return s.provider.empty() ? 4000 : s.provider[pick(s.provider.size())];
        default: {
          cls = "vid-unknown";
          for (;;) {
            uint16_t v = uint16_t(2 + pick(4093));
            if (std::find(s.local.begin(), s.local.end(), v) == s.local.end() &&
                std::find(s.provider.begin(), s.provider.end(), v) == s.provider.end())
              return v;
          }
        }
      }
    };
    auto pcp = [&] { return uint8_t(chance(50) ? 0 : pick(8)); };
    int r = int(pick(100));
    if (r < 30) {
      label = "untagged";
      return {};
    }
    if (r < 75) {
      uint16_t v = vid_of_class(label);
      return {Tag{0x8100, v, pcp()}};
    }
    if (r < 88) {
      std::string c1, c2;
      Tag outer{uint16_t(chance(50) ? 0x88a8 : 0x8100), vid_of_class(c1), pcp()};
      Tag inner{0x8100, vid_of_class(c2), pcp()};
      label = "double(" + std::to_string(outer.tpid == 0x88a8 ? 0x88a8 : 0x8100) + ")-" + c1;
      return {outer, inner};
    }
    uint16_t v = vid_of_class(label);
    label = "stag-" + label;
    return {Tag{0x88a8, v, pcp()}};
  }

  EthAddr dst(const std::vector<EthAddr>& hosts, const EthAddr& bridge_mac, std::string& label) {
    switch (pick(10)) {
      case 0:
      case 1:
      case 2:
        label = "dst-host";
        return hosts[pick(hosts.size())];
      case 3:
        label = "dst-unknown";
        return mac_of(0x020000aa0000ull + pick(0xffff));
      case 4:
        label = "dst-bcast";
        return mac_of(0xffffffffffffull);
      case 5:
        label = "dst-mcast4";
        return mac_of(0x01005e000000ull + pick(0x7fffff));
      case 6:
        label = "dst-mcast6";
        return mac_of(0x333300000000ull + pick(0xffffffff));
      case 7:
        label = "dst-ieee";
        return mac_of(0x0180c2000000ull + pick(16));
      case 8: {
        label = "dst-vendor";
        static const uint64_t v[] = {0x01000cccccccull, 0x01000ccccccdull, 0x01000ccdcdcdull,
                                     0x01000c000000ull, 0x01000cccccc3ull, 0x00e02b000004ull,
                                     0x01000cccccc8ull};
        return mac_of(v[pick(7)]);
      }
      default:
        label = "dst-bridge";
        return bridge_mac;
    }
  }
  EthAddr src(const std::vector<EthAddr>& hosts, const EthAddr& bridge_mac, std::string& label) {
    switch (pick(10)) {
      case 0:
        label = "src-mcast";
        return chance(50) ? mac_of(0x01005e000001ull) : mac_of(0x0180c2000000ull);
      case 1:
        label = "src-bridge";
        return bridge_mac;
      case 2:
        label = "src-new";
        return mac_of(0x020000bb0000ull + pick(0xffff));
      default:
        label = "src-host";
        return hosts[pick(hosts.size())];
    }
  }

 private:
  std::mt19937_64 rng_;
};

/// Every frame a datapath sent for one packet.
struct FrameSink {
  const Ofproto* of;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> outs;
  void output(uint32_t port, Packet& p, bool) {
    outs.emplace_back(of->dp_port_name(port), std::vector<uint8_t>(p.data(), p.data() + p.size()));
  }
  void drop(Packet&) {}
};

struct Outcome {
  std::string actions, normalized, megaflow;
  std::string datapath;  // flowpath: what the real datapath sent, normalised ("" = not run)
  FlowMask mask{};
  bool mask_ok = false;
};

class NormalVsOvs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = OvsInstance::unavailable();
    if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
    ovs_ = std::make_unique<OvsInstance>();
    add_setup("compute-node", FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf");
    add_setup("vlans", FLOWPATH_SOURCE_DIR "/tests/differential/normal_trunks.conf");
    add_setup("actions", FLOWPATH_SOURCE_DIR "/tests/differential/xlate_actions.conf");
  }
  void add_setup(const std::string& name, const std::string& path) {
    auto s = std::make_unique<SwitchPair>(name, SwitchConfig::load(path));
    ovs_->configure(s->cfg);
    for (const auto& b : s->cfg.bridges) {
      std::string m = run("ovs-vsctl --db=unix:" + ovs_->dir() + "/db.sock get interface " +
                          b.name + " mac_in_use");
      unsigned v[6] = {};
      std::sscanf(m.c_str(), "\"%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
      EthAddr a;
      for (int i = 0; i < 6; ++i) a.b[size_t(i)] = uint8_t(v[i]);
      s->bridge_mac[b.name] = a;
    }
    setups_.push_back(std::move(s));
  }

  Outcome run_flowpath(SwitchPair& s, const Case& c) {
    Outcome o;
    auto bytes = c.frame.bytes();
    PacketBuffer buf(bytes);
    FlowKey key;
    parse_packet(buf.packet(), key);
    BridgePort* in = s.of->find_port(c.in.cfg->name);
    bool learn = true;
    if (!in->is_patch()) {
      // The real fast path learns (upcalls with the packet) and caches; the
      // translation below then only explains, without side effects.
      PacketBuffer pb(bytes, in->dp_port);
      Batch batch;
      batch.push(&pb.packet());
      FrameSink sink{s.of.get(), {}};
      s.dp->process(batch, sink);
      o.datapath = normalize_frames(sink.outs, c.frame.fields());
      learn = false;
    }
    XlateResult x;
    s.of->translate_at(*in, key, learn, x, nullptr);
    o.actions = format_dp_actions(x.actions, [&](uint32_t n) { return s.of->dp_port_name(n); });
    o.normalized = normalize_actions(o.actions, c.frame.tags, {}, c.frame.fields());
    o.mask = x.mask;
    o.mask_ok = true;
    return o;
  }

  Outcome run_ovs(SwitchPair& s, const Case& c) {
    Outcome o;
    std::string port = c.in.cfg->ofport == kOfPortLocal ? "LOCAL" : c.in.cfg->name;
    std::string out =
        ovs_->appctl("ofproto/trace", {c.in.bridge, "in_port=" + port, hex(c.frame.bytes())});
    auto line_after = [&](const std::string& head) {
      auto p = out.rfind("\n" + head);
      if (p == std::string::npos) return std::string();
      p += head.size() + 1;
      return out.substr(p, out.find('\n', p) - p);
    };
    o.actions = line_after("Datapath actions: ");
    o.megaflow = line_after("Megaflow: ");
    o.normalized = normalize_actions(o.actions, c.frame.tags, ovs_->dp_names(), c.frame.fields());
    try {
      std::string text;
      for (const auto& tok : split_actions(o.megaflow)) {
        if (tok == "eth" || tok.rfind("recirc_id=", 0) == 0 || tok.rfind("packet_type=", 0) == 0)
          continue;
        text += (text.empty() ? "" : ",") + tok;
      }
      o.mask = parse_match(text, s.of->require_bridge(c.in.bridge).resolver()).mask;
      o.mask_ok = true;
    } catch (const std::exception&) {
      o.mask_ok = false;
    }
    return o;
  }

  /// Megaflow mask of flowpath relative to OVS's (in_port aside), overall
  /// and per field ("dl_type+": flowpath pins bits OVS does not; "-": fewer).
  void compare_masks(const FlowMask& fp, const FlowMask& ovs) {
    static const struct {
      const char* name;
      size_t from, to;
    } kFields[] = {{"dl_dst", 8, 14},      {"dl_src", 14, 20},
                   {"dl_type", 20, 22},    {"vlan", 24, 28},
                   {"inner vlan", 28, 32}, {"nw_src/dst", 32, 40},
                   {"ipv6", 40, 72},       {"nw_proto/tos/ttl/frag", 72, 80},
                   {"nd_target", 80, 96},  {"arp_sha/tha", 96, 108},
                   {"l4", 112, 120}};
    const auto* a = reinterpret_cast<const uint8_t*>(&fp);
    const auto* b = reinterpret_cast<const uint8_t*>(&ovs);
    bool extra = false, fewer = false;
    for (const auto& f : kFields) {
      bool e = false, w = false;
      for (size_t i = f.from; i < f.to; ++i) {
        e |= (a[i] & ~b[i]) != 0;
        w |= (b[i] & ~a[i]) != 0;
      }
      if (e) ++mask_fields_[std::string(f.name) + " +"];
      if (w) ++mask_fields_[std::string(f.name) + " -"];
      // OVS tells a double-tagged frame by dl_type=0x8100 (vlan-limit=1),
      // flowpath by the inner tag's presence bit: the same information.
      if (std::string_view(f.name) == "inner vlan") continue;
      extra |= e;
      fewer |= w;
    }
    ++masks_[!extra && !fewer ? "equal"
             : extra && fewer ? "incomparable (some bits more, some fewer)"
             : extra          ? "flowpath narrower (more bits)"
                              : "flowpath wider (fewer bits)"];
  }

  /// The same case as flow text on both switches' ofproto/trace (no
  /// packet, no side effects): flowpath's trace() — what `flowpath trace`
  /// prints — against OVS's, patch-port in_ports included.
  void check_trace(SwitchPair& s, const Case& c) {
    PacketBuffer buf(c.frame.bytes());
    FlowKey key;
    parse_packet(buf.packet(), key);
    key.vlans[1] = VlanHeader{};  // flow text has one tag (OVS's vlan-limit)
    if (c.frame.tags.size() > 1) return;
    Bridge& b = s.of->require_bridge(c.in.bridge);
    key.in_port = c.in.cfg->ofport;
    PortNamer namer = b.namer();
    std::string text = format_key(key, &namer);
    // ofproto/trace's exact-flow syntax takes the protocol's own L4 names
    // (tp_src there means tcp_src, icmp_type means ICMPv4): use them, on
    // both sides.
    auto rename = [&](const std::string& from, const std::string& to) {
      for (size_t p; (p = text.find("," + from + "=")) != std::string::npos;)
        text.replace(p + 1, from.size(), to);
    };
    if (key.nw_proto == kIpProtoUdp) rename("tp_src", "udp_src"), rename("tp_dst", "udp_dst");
    if (key.nw_proto == kIpProtoTcp) rename("tp_src", "tcp_src"), rename("tp_dst", "tcp_dst");
    if (key.nw_proto == kIpProtoIcmpv6)
      rename("icmp_type", "icmpv6_type"), rename("icmp_code", "icmpv6_code");
    std::string fp, ov;
    try {
      fp = trace(*s.of, c.in.bridge, text);
    } catch (const std::exception& e) {
      fp = std::string("\nDatapath actions: error: ") + e.what() + "\n";
    }
    try {
      ov = ovs_->appctl("ofproto/trace", {c.in.bridge, text});
    } catch (const std::exception& e) {
      if (trace_rejected_++ < 3 && verbose_)
        std::printf("OVS rejected '%s': %s\n", text.c_str(), e.what());
      return;
    }
    auto actions = [](const std::string& t) {
      auto p = t.rfind("\nDatapath actions: ");
      return p == std::string::npos ? t : t.substr(p + 19, t.find('\n', p + 1) - p - 19);
    };
    // Flow text has no TPID: dl_vlan means an 802.1Q tag on both sides.
    std::vector<Tag> tags(c.frame.tags.begin(), c.frame.tags.end());
    for (Tag& t : tags) t.tpid = 0x8100;
    std::string nf = normalize_actions(actions(fp), tags, {}, c.frame.fields());
    std::string no = normalize_actions(actions(ov), tags, ovs_->dp_names(), c.frame.fields());
    ++traces_;
    if (nf == no) {
      ++traces_agree_;
    } else if (trace_printed_++ < 10) {
      std::printf(
          "TRACE MISMATCH config=%s\n  flowpath trace %s '%s'\n    %s\n    = %s\n"
          "  ovs-appctl ofproto/trace\n    %s\n    = %s\n\n",
          s.name.c_str(), c.in.bridge.c_str(), text.c_str(), actions(fp).c_str(), nf.c_str(),
          actions(ov).c_str(), no.c_str());
    }
  }

  /// The MAC tables at the end of a scenario: (port, VLAN, MAC) sets of
  /// `fdb/show` on both sides (ages aside).
  void check_fdb(SwitchPair& s, const std::string& history) {
    for (const auto& bc : s.cfg.bridges) {
      const Bridge& b = s.of->require_bridge(bc.name);
      auto entries = [&](const std::string& text, bool ovs) {
        std::vector<std::string> v;
        std::istringstream in(text);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
          std::istringstream ls(line);
          std::string port, vlan, mac;
          if (!(ls >> port >> vlan >> mac)) continue;
          if (ovs && port == "LOCAL") port = b.name();
          if (ovs && port.find_first_not_of("0123456789") == std::string::npos)
            port = b.port_name(uint32_t(std::stoul(port)));
          v.push_back(port + " " + vlan + " " + mac);
        }
        std::sort(v.begin(), v.end());
        std::string r;
        for (const auto& e : v) r += "    " + e + "\n";
        return r;
      };
      std::string fp = entries(fdb_show(*s.of, bc.name), false);
      std::string ov = entries(ovs_->appctl("fdb/show", {bc.name}), true);
      ++fdb_checks_;
      if (fp == ov) {
        ++fdb_agree_;
      } else if (fdb_printed_++ < 5) {
        std::printf("MAC TABLE MISMATCH config=%s bridge=%s after:\n%s  flowpath:\n%s  ovs:\n%s\n",
                    s.name.c_str(), bc.name.c_str(), history.c_str(), fp.c_str(), ov.c_str());
      }
    }
  }

  std::unique_ptr<OvsInstance> ovs_;
  size_t fdb_checks_ = 0, fdb_agree_ = 0, fdb_printed_ = 0;
  std::vector<std::unique_ptr<SwitchPair>> setups_;
  std::map<std::string, size_t> masks_, mask_fields_;
  bool verbose_ = env_u64("FLOWPATH_DIFF_VERBOSE", 0) != 0;
  size_t traces_ = 0, traces_agree_ = 0, trace_rejected_ = 0, trace_printed_ = 0;
};

std::string lines(const std::vector<std::string>& v) {
  if (v.empty()) return "    (none)\n";
  std::string h;
  for (const auto& l : v) h += "    " + l + "\n";
  return h;
}

/// A scenario's frames: learning frames (each host unknown, learned once,
/// or learned then moved), then probes, then the probes once more.
std::vector<Case> plan_scenario(Generator& gen, SwitchPair& s, const std::vector<EthAddr>& hosts) {
  constexpr int kProbes = 12;
  std::vector<Case> plan;
  for (const EthAddr& h : hosts) {
    size_t moves = gen.pick(3);
    for (size_t m = 0; m < moves; ++m) {
      Case c{s.ports[gen.pick(s.ports.size())], {}, "learn"};
      c.frame.src = h;
      c.frame.dst = mac_of(0xffffffffffffull);
      std::string l;
      if (gen.chance(60)) c.frame.tags = gen.tags(s, *c.in.cfg, l);
      c.frame.payload = Payload::kArp;
      plan.push_back(c);
    }
  }
  for (int i = 0; i < kProbes; ++i) {
    Case c{s.ports[gen.pick(s.ports.size())], {}, ""};
    std::string lt, ld, ls;
    const EthAddr& bmac = s.bridge_mac[c.in.bridge];
    c.frame.tags = gen.tags(s, *c.in.cfg, lt);
    c.frame.dst = gen.dst(hosts, bmac, ld);
    c.frame.src = gen.src(hosts, bmac, ls);
    c.frame.host = uint8_t(1 + gen.pick(100));
    c.frame.payload = Payload(gen.pick(kPayloadCount - 1));
    if (gen.chance(5)) {
      c.frame.payload = Payload::kBareTpid;
      c.frame.bare_tpid = gen.chance(50) ? 0x8100 : 0x88a8;
      lt += "+bare-tpid";
    }
    c.labels = lt + " " + ld + " " + ls;
    plan.push_back(c);
  }
  // The probes again, other L3 addresses: the EMC misses, megaflows that
  // ignore L3 answer (their masks are under test here, not only actions).
  for (size_t i = plan.size() - kProbes, n = plan.size(); i < n; ++i) {
    Case c = plan[i];
    c.frame.host = uint8_t(c.frame.host + 100);
    c.labels = "again " + c.labels;
    plan.push_back(c);
  }
  return plan;
}

TEST_F(NormalVsOvs, DatapathActionsAgree) {
  const uint64_t seed = env_u64("FLOWPATH_DIFF_SEED", 1);
  const uint64_t scenarios = env_u64("FLOWPATH_DIFF_SCENARIOS", 120);
  const bool verbose = env_u64("FLOWPATH_DIFF_VERBOSE", 0) != 0;
  Generator gen(seed);
  size_t cases = 0, agree = 0, printed = 0, dp_cases = 0, dp_agree = 0;
  std::map<std::string, size_t> bad_labels;
  auto t0 = std::chrono::steady_clock::now();

  for (uint64_t sc = 0; sc < scenarios; ++sc) {
    for (auto& sp : setups_) {
      SwitchPair& s = *sp;
      s.of->fdb_flush();
      ovs_->appctl("fdb/flush", {});
      std::vector<EthAddr> hosts;
      for (uint64_t h = 1; h <= 4; ++h) hosts.push_back(mac_of(0x020000000000ull | sc << 8 | h));
      std::vector<std::string> history;
      for (const Case& c : plan_scenario(gen, s, hosts)) {
        std::string fdb_before;
        for (const auto& b : s.cfg.bridges) fdb_before += b.name + ":\n" + fdb_show(*s.of, b.name);
        Outcome fp = run_flowpath(s, c);
        Outcome ov = run_ovs(s, c);
        ++cases;
        std::string where = c.in.bridge + " in_port=" + c.in.cfg->name;
        if (verbose)
          std::printf("[%s] %s %s\n  flowpath: %s\n  ovs:      %s\n", s.name.c_str(), where.c_str(),
                      c.frame.describe().c_str(), fp.actions.c_str(), ov.actions.c_str());
        if (!fp.datapath.empty()) {
          ++dp_cases;
          if (fp.datapath == ov.normalized) ++dp_agree;
        }
        if (fp.normalized == ov.normalized &&
            (fp.datapath.empty() || fp.datapath == ov.normalized)) {
          ++agree;
        } else if (++bad_labels[c.labels], printed++ < 25) {
          std::printf(
              "MISMATCH seed=%llu scenario=%llu config=%s\n  frame: %s %s\n"
              "  reproduce: ovs-appctl ofproto/trace %s in_port=%s %s\n"
              "  frames since the MAC tables were flushed:\n%s"
              "  flowpath MAC tables before:\n%s"
              "  flowpath: %s\n            = %s\n  datapath  = %s\n  ovs:      %s\n"
              "            = %s\n\n",
              (unsigned long long)seed, (unsigned long long)sc, s.name.c_str(), where.c_str(),
              c.frame.describe().c_str(), c.in.bridge.c_str(), c.in.cfg->name.c_str(),
              hex(c.frame.bytes()).c_str(), lines(history).c_str(), fdb_before.c_str(),
              fp.actions.c_str(), fp.normalized.c_str(),
              fp.datapath.empty() ? "(patch port: no datapath port)" : fp.datapath.c_str(),
              ov.actions.c_str(), ov.normalized.c_str());
        }
        if (ov.mask_ok)
          compare_masks(fp.mask, ov.mask);
        else
          ++masks_["OVS megaflow not parsed"];
        if (c.labels != "learn") check_trace(s, c);
        history.push_back(where + " " + c.frame.describe());
      }
      check_fdb(s, lines(history));
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("NORMAL vs Open vSwitch: seed %llu, %zu cases, %zu agree (%.2f%%), %.1f s\n",
              (unsigned long long)seed, cases, agree,
              cases ? 100.0 * double(agree) / double(cases) : 0.0, secs);
  PmdStats st;
  for (const auto& sp : setups_) {
    st.emc_hits += sp->dp->stats().emc_hits;
    st.megaflow_hits += sp->dp->stats().megaflow_hits;
    st.upcall_ok += sp->dp->stats().upcall_ok;
    st.revalidated_out += sp->dp->stats().revalidated_out;
  }
  std::printf(
      "  of which through flowpath's datapath: %zu, %zu agree (EMC hits %llu, megaflow "
      "hits %llu, upcalls %llu, megaflows revalidated away %llu)\n",
      dp_cases, dp_agree, (unsigned long long)st.emc_hits, (unsigned long long)st.megaflow_hits,
      (unsigned long long)st.upcall_ok, (unsigned long long)st.revalidated_out);
  std::printf(
      "ofproto/trace of the same flows as text: %zu traced, %zu agree, %zu texts OVS "
      "rejected\n",
      traces_, traces_agree_, trace_rejected_);
  std::printf("MAC tables at the end of each scenario: %zu compared, %zu agree\n", fdb_checks_,
              fdb_agree_);
  std::printf("megaflow masks vs OVS (informational):\n");
  for (const auto& [k, n] : masks_) std::printf("  %-44s %zu\n", k.c_str(), n);
  std::printf("  by field (+: flowpath pins bits OVS leaves wild, -: the reverse):\n");
  for (const auto& [k, n] : mask_fields_) std::printf("    %-42s %zu\n", k.c_str(), n);
  if (!bad_labels.empty()) {
    std::printf("mismatches by class:\n");
    std::vector<std::pair<size_t, std::string>> v;
    for (const auto& [k, n] : bad_labels) v.push_back({n, k});
    std::sort(v.rbegin(), v.rend());
    for (size_t i = 0; i < v.size() && i < 40; ++i)
      std::printf("  %5zu  %s\n", v[i].first, v[i].second.c_str());
  }
  EXPECT_EQ(agree, cases) << "flowpath and Open vSwitch disagree (cases above)";
  EXPECT_EQ(fdb_agree_, fdb_checks_) << "MAC tables disagree (above)";
  EXPECT_EQ(traces_agree_, traces_) << "ofproto/trace of flow text disagrees (cases above)";
}

}  // namespace normal_ovs_test
}  // namespace flowpath::difftest
