// The XDP fast path against the userspace datapath, frame by frame.
//
// A switch with memory ports and the fast path on runs each frame through
// the userspace datapath (the PMD's offload then writes the kernel map);
// the same frame then runs through the real program, loaded as the port's
// copy would be, with BPF_PROG_RUN.  Compared: the verdict (forwarded,
// dropped, or to the PMD), the bytes out, the output port (kernel port
// counters), and the counters that come back (dump-flows, dpctl).  Then
// revalidation: a flow change, a MAC move and a port removal must leave no
// kernel entry that forwards by the removed decision.  Needs root (BPF
// maps and programs); skips otherwise.
#include "flowpath/io/xdp_fast_path.hpp"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>

#include <atomic>
#include <functional>
#include <thread>

#include "flowpath/action/checksum.hpp"
#include "flowpath/bridge/views.hpp"
#include "flowpath/switch/switch.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace xdp_fast_path_test {

using namespace flowpath::test;
using Bytes = std::vector<uint8_t>;

constexpr const char* kConf = R"(
add-br br0
add-port br0 p1
add-port br0 p2
add-port br0 p3
add-flow br0 priority=10,in_port=p1,udp,actions=mod_vlan_vid:1000,output:p2
add-flow br0 priority=10,in_port=p2,dl_vlan=1000,actions=strip_vlan,output:p1
add-flow br0 priority=9,in_port=p1,tcp,actions=mod_vlan_pcp:5,output:p3
add-flow br0 priority=9,in_port=p1,ipv6,actions=output:p2
add-flow br0 priority=8,in_port=p1,ip,nw_proto=132,actions=drop
add-flow br0 priority=8,in_port=p3,udp,actions=mod_nw_src:192.0.2.99,output:p1
add-flow br0 priority=11,in_port=p1,udp,tp_dst=53,actions=mod_dl_src:02:00:00:00:00:99,mod_dl_dst:02:00:00:00:00:98,mod_nw_src:198.51.100.1,mod_nw_dst:198.51.100.7,set_field:7->nw_ttl,mod_tp_src:4000,mod_tp_dst:5353,output:p2
add-flow br0 priority=11,in_port=p1,udp,tp_dst=56,actions=mod_dl_src:02:00:00:00:00:99,mod_dl_dst:02:00:00:00:00:98,mod_nw_src:198.51.100.1,mod_nw_dst:198.51.100.7,mod_nw_tos:40,set_field:7->nw_ttl,mod_tp_src:4000,mod_tp_dst:5353,output:p2
add-flow br0 priority=11,in_port=p1,tcp,tp_dst=443,actions=mod_vlan_vid:10,mod_nw_dst:203.0.113.5,mod_tp_dst:8443,mod_tp_src:1,output:p3
add-flow br0 priority=11,in_port=p1,udp6,tp_dst=53,actions=mod_dl_dst:02:00:00:00:00:97,mod_tp_dst:99,output:p2
add-flow br0 priority=11,in_port=p1,tcp6,tp_dst=443,actions=mod_vlan_vid:10,mod_tp_dst:8443,mod_tp_src:1,output:p3
add-flow br0 priority=12,in_port=p2,dl_vlan=1000,tcp6,actions=strip_vlan,mod_tp_dst:8080,output:p1
add-flow br0 priority=12,in_port=p2,dl_vlan=1000,udp6,actions=push_vlan:0x88a8,mod_tp_src:1,set_field:2->udp_dst,output:p3
add-flow br0 priority=11,in_port=p2,dl_vlan=1000,tcp,actions=strip_vlan,mod_nw_dst:203.0.113.6,mod_tp_dst:8080,output:p1
add-flow br0 priority=11,in_port=p2,dl_vlan=1000,udp,tp_dst=53,actions=mod_nw_src:203.0.113.9,mod_nw_tos:4,mod_vlan_vid:7,output:p3
add-flow br0 priority=12,in_port=p2,dl_vlan=1000,udp,tp_dst=54,actions=push_vlan:0x88a8,set_field:9->nw_ttl,mod_tp_src:1,output:p3
add-flow br0 priority=12,in_port=p2,dl_vlan=1000,udp,tp_dst=55,actions=mod_nw_src:203.0.113.10,output:p3,mod_tp_dst:1
add-flow br0 priority=1,actions=NORMAL
)";

constexpr const char* kA = "02:00:00:00:00:0a";
constexpr const char* kB = "02:00:00:00:00:0b";

Bytes udp4(uint16_t sport, std::optional<uint16_t> vid = {}) {
  IPv4 ip{.src = "192.0.2.1", .dst = "192.0.2.2"};
  UDP udp{.sport = sport, .dport = 9};
  if (vid)
    return (Eth{mac(kB), mac(kA)} / Dot1Q{.vid = *vid, .pcp = 2} / ip / udp / Payload{.n = 18})
        .bytes();
  return (Eth{mac(kB), mac(kA)} / ip / udp / Payload{.n = 18}).bytes();
}

struct KernelRun {
  uint32_t verdict = 0;
  Bytes out;
};

class XdpFastPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!XdpFastPath::available()) GTEST_SKIP() << "built without clang -target bpf";
    Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    o.xdp_fast = true;
    o.datapath.emc.insert_inv_prob = 1;
    try {
      sw_ = std::make_unique<Switch>(SwitchConfig::parse(kConf), o);
    } catch (const Error& e) {
      GTEST_SKIP() << "no BPF here (needs root): " << e.what();
    }
    fp_ = sw_->xdp_fast_path();
    ASSERT_NE(fp_, nullptr);
    // Memory ports have no interfaces: the devmap slots name loopback
    // (BPF_PROG_RUN does not transmit; the slot only has to be full).
    for (SwitchPort* p : sw_->ports()) fp_->set_port(p->dp_port(), int(if_nametoindex("lo")));
  }
  void TearDown() override {
    for (auto& [dp, fds] : progs_) close(fds.first), close(fds.second);
  }

  uint32_t dp(const char* port) { return sw_->port(port)->dp_port(); }
  int prog_for(const char* port) {
    auto it = progs_.find(dp(port));
    if (it == progs_.end()) it = progs_.emplace(dp(port), fp_->load(port, dp(port), 1)).first;
    return it->second.first;
  }
  KernelRun kernel(const char* port, const Bytes& frame) {
    KernelRun r;
    r.out.resize(frame.size() + 64);
    LIBBPF_OPTS(bpf_test_run_opts, t);
    t.data_in = frame.data();
    t.data_size_in = uint32_t(frame.size());
    t.data_out = r.out.data();
    t.data_size_out = uint32_t(r.out.size());
    t.repeat = 1;
    EXPECT_EQ(bpf_prog_test_run_opts(prog_for(port), &t), 0) << std::strerror(errno);
    r.verdict = t.retval;
    r.out.resize(t.data_size_out);
    return r;
  }
  /// Userspace: injects on `port`, polls; returns (port that sent, bytes)
  /// for the single output, or ("", {}) when the frame was dropped.
  std::pair<std::string, Bytes> userspace(const char* port, const Bytes& frame) {
    std::map<std::string, size_t> before;
    for (SwitchPort* p : sw_->ports()) before[p->name()] = p->memory()->sent().size();
    sw_->port(port)->memory()->inject(frame);
    sw_->poll_once();
    std::pair<std::string, Bytes> got;
    int outputs = 0;
    for (SwitchPort* p : sw_->ports()) {
      const auto& s = p->memory()->sent();
      for (size_t i = before[p->name()]; i < s.size(); ++i, ++outputs)
        got = {p->name(), Bytes(s[i].bytes.begin(), s[i].bytes.end())};
    }
    if (outputs > 1) got = {"<flood>", {}};
    return got;
  }
  size_t entries() { return sw_->pmd(0).xdp_offload()->size(); }

  /// The differential check for one frame: userspace first (that inserts),
  /// then the kernel must do the same or hand the frame to the PMD.
  void same_decision(const char* in, const Bytes& frame, bool cacheable, bool rewrites = false) {
    SCOPED_TRACE(std::string("frame from ") + in);
    auto [out_port, out_bytes] = userspace(in, frame);
    XdpFastStats s0 = fp_->stats();
    KernelRun k = kernel(in, frame);
    XdpFastStats s1 = fp_->stats();
    if (!cacheable) {
      EXPECT_EQ(k.verdict, uint32_t(XDP_PASS)) << "must go to the PMD (empty XSKMAP: pass)";
      EXPECT_EQ(s1.hit, s0.hit);
      return;
    }
    ASSERT_EQ(s1.hit, s0.hit + 1) << "expected a kernel hit";
    if (out_port.empty()) {
      EXPECT_EQ(k.verdict, uint32_t(XDP_DROP));
      return;
    }
    EXPECT_EQ(k.verdict, uint32_t(XDP_REDIRECT));
    EXPECT_EQ(k.out, out_bytes) << "kernel bytes differ from userspace";
    if (rewrites) {
      EXPECT_NE(k.out, frame) << "the flow's rewrites did not happen";
    }
    uint64_t tx0 = sw_->pmd(0).xdp_port_counts(dp(out_port.c_str())).tx;
    sw_->collect_xdp_counters();
    EXPECT_EQ(sw_->pmd(0).xdp_port_counts(dp(out_port.c_str())).tx, tx0 + 1)
        << "kernel output went elsewhere than " << out_port;
  }

  std::unique_ptr<Switch> sw_;
  XdpFastPath* fp_ = nullptr;
  std::map<uint32_t, std::pair<int, int>> progs_;
};

TEST_F(XdpFastPathTest, VerifierAcceptsTheProgram) {
  int fd = prog_for("p1");
  ASSERT_GE(fd, 0);
  // Kernel 6.1 has the same 1M processed-instruction limit as this one but
  // prunes less well: the program must stay far below it here.
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
  std::printf("verifier: %u instructions processed, %u in the program\n", info.verified_insns,
              info.xlated_prog_len / 8);
  EXPECT_LT(info.verified_insns, 200000u);
}

TEST_F(XdpFastPathTest, KernelMatchesUserspaceFrameByFrame) {
  // Push a tag / pop it, PCP rewrite on an untagged frame (pushes a tag),
  // IPv6, an IPv4 header with options, a drop, a learned unicast (NORMAL).
  same_decision("p1", udp4(1000), true);
  same_decision("p2", udp4(1000, 1000), true);
  auto tcp = (Eth{mac(kB), mac(kA)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
              TCP{.sport = 80, .dport = 5000, .flags = 0x010} / Payload{.n = 10})
                 .bytes();
  same_decision("p1", tcp, true);
  auto v6 = (Eth{mac(kB), mac(kA)} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2", .flow = 7} /
             UDP{.sport = 5, .dport = 6} / Payload{.n = 12})
                .bytes();
  same_decision("p1", v6, true);
  auto opts = (Eth{mac(kB), mac(kA)} /
               IPv4{.src = "192.0.2.1", .dst = "192.0.2.3", .options = {1, 1, 1, 1}} /
               UDP{.sport = 7, .dport = 8} / Payload{.n = 4})
                  .bytes();
  same_decision("p1", opts, true);
  auto sctp = (Eth{mac(kB), mac(kA)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
               SCTP{.sport = 1, .dport = 2} / Payload{.n = 4})
                  .bytes();
  same_decision("p1", sctp, false);  // SCTP: not parsed by the program, the PMD drops it
  // Set-field (mod_nw_src with the IP and UDP checksums) is offloaded.
  same_decision("p3", udp4(3000), true);
  // A SYN is punted (tcp_flags are credited in userspace).
  auto syn = (Eth{mac(kB), mac(kA)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
              TCP{.sport = 80, .dport = 5000} / Payload{.n = 10})
                 .bytes();
  same_decision("p1", syn, false);
  // A fragment is punted.
  auto frag =
      (Eth{mac(kB), mac(kA)} /
       IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .proto = 17, .frag = 0x2000} / Payload{.n = 20})
          .bytes();
  same_decision("p1", frag, false);
}

/// A UDP/TCP frame from kA to kB over the IP header `ip` (l3_len bytes);
/// `vid`: one 802.1Q tag; `udp_csum0`: the UDP checksum zeroed (no
/// checksum: must stay zero).
template <class Ip>
Bytes l4_frame(const Ip& ip, size_t l3_len, bool tcp, uint16_t sport, uint16_t dport,
               std::optional<uint16_t> vid, bool udp_csum0) {
  Eth eth{mac(kB), mac(kA)};
  Bytes b;
  if (tcp) {
    TCP t{.sport = sport, .dport = dport, .flags = 0x018};
    b = vid ? (eth / Dot1Q{.vid = *vid} / ip / t / Payload{.n = 22}).bytes()
            : (eth / ip / t / Payload{.n = 22}).bytes();
  } else {
    UDP u{.sport = sport, .dport = dport};
    b = vid ? (eth / Dot1Q{.vid = *vid} / ip / u / Payload{.n = 22}).bytes()
            : (eth / ip / u / Payload{.n = 22}).bytes();
  }
  if (udp_csum0) {
    size_t l4 = 14 + (vid ? 4 : 0) + l3_len;
    b[l4 + 6] = b[l4 + 7] = 0;
  }
  return b;
}

Bytes frame4(bool tcp, uint16_t sport, uint16_t dport, std::optional<uint16_t> vid = {},
             std::vector<uint8_t> options = {}, bool udp_csum0 = false) {
  IPv4 ip{.src = "192.0.2.1", .dst = "192.0.2.2", .ttl = 33, .tos = 0x03, .options = options};
  return l4_frame(ip, 20 + options.size(), tcp, sport, dport, vid, udp_csum0);
}

/// The same over IPv6 (2001:db8::1 -> 2001:db8::2).
Bytes frame6(bool tcp, uint16_t sport, uint16_t dport, std::optional<uint16_t> vid = {},
             bool udp_csum0 = false) {
  IPv6 ip{.src = "2001:db8::1", .dst = "2001:db8::2", .hlim = 33, .tc = 0x03, .flow = 5};
  return l4_frame(ip, 40, tcp, sport, dport, vid, udp_csum0);
}

/// Whether the TCP/UDP checksum of an IPv6 frame (L4 right after the
/// 40-byte header at `ip`) verifies: a from-scratch sum over the
/// pseudo-header and the segment.
bool v6_l4_ok(const Bytes& f, size_t ip) {
  const uint8_t* h = f.data() + ip;
  size_t len = size_t(h[4] << 8 | h[5]);
  uint32_t sum = csum_add_bytes(0, h + 8, 32);
  sum = csum_add_bytes(sum, h + 40, len);
  return csum_fold(sum + uint32_t(len) + h[6]) == 0xffff;
}

TEST_F(XdpFastPathTest, SetFieldWithChecksumsMatchesUserspace) {
  // Every set-field the program knows, with the IPv4 and L4 checksums
  // updated as action/set_field.hpp does, after and before VLAN ops (the
  // IPv4 header at 14, 18 and 22 bytes), over IPv4 options, a zero UDP
  // checksum, ports already at their value (sport 4000), IPv6 (IPv4
  // rewrites are skipped there, port rewrites are not), and actions after
  // the output (not run).
  for (uint16_t sport : {1000, 4000, 0xffff}) {
    same_decision("p1", frame4(false, sport, 53), true, true);
    same_decision("p1", frame4(false, sport, 53, {}, {1, 1, 1, 1}), true, true);
    same_decision("p1", frame4(false, sport, 53, {}, {}, true), true, true);
    same_decision("p1", frame4(true, sport, 443), true, true);
    same_decision("p2", frame4(true, sport, 443, 1000), true, true);
    same_decision("p2", frame4(false, sport, 53, 1000), true, true);
    same_decision("p2", frame4(false, sport, 53, 1000, {}, true), true, true);
    same_decision("p2", frame4(false, sport, 54, 1000), true, true);
    same_decision("p2", frame4(false, sport, 55, 1000), true, true);
    // Nine actions: more ops than an entry holds, so the PMD keeps the flow;
    // with sport already 4000 the megaflow pins tp_src (as OVS's) and has no
    // tp_src rewrite: eight ops, which fit.
    same_decision("p1", frame4(false, sport, 56), sport == 4000, sport == 4000);
    // IPv6 ports (the TCP/UDP checksum covers the IPv6 pseudo-header, which
    // holds no ports): untagged, a tag pushed before (IPv6 header at 18),
    // popped before (at 14), pushed on a tag (at 22), a zero UDP checksum.
    same_decision("p1", frame6(false, sport, 53), true, true);
    same_decision("p1", frame6(false, sport, 53, {}, true), true, true);
    same_decision("p1", frame6(true, sport, 443), true, true);
    same_decision("p2", frame6(true, sport, 80, 1000), true, true);
    same_decision("p2", frame6(false, sport, 7, 1000), true, true);
    same_decision("p2", frame6(false, sport, 7, 1000, true), true, true);
  }
  auto v6 = (Eth{mac(kB), mac(kA)} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
             UDP{.sport = 5, .dport = 53} / Payload{.n = 12})
                .bytes();
  same_decision("p1", v6, true, true);
  // The IPv6 port rewrites happened, with valid checksums (the kernel's
  // bytes equal these, checked above).
  for (auto [in, f, ip, dport] : {std::tuple{"p1", frame6(false, 1, 53), size_t(14), 99},
                                  std::tuple{"p1", frame6(true, 1, 443), size_t(18), 8443},
                                  std::tuple{"p2", frame6(true, 1, 80, 1000), size_t(14), 8080},
                                  std::tuple{"p2", frame6(false, 1, 7, 1000), size_t(22), 2}}) {
    auto [port, out6] = userspace(in, f);
    ASSERT_GT(out6.size(), ip + 44);
    EXPECT_EQ(out6[ip + 42] << 8 | out6[ip + 43], dport) << in << " -> " << port;
    EXPECT_TRUE(v6_l4_ok(out6, ip)) << in << " -> " << port;
  }
  // The rewritten frames carry valid checksums (the userspace executor's
  // result, which the kernel's equals byte for byte).
  auto [port, out] = userspace("p1", frame4(false, 1234, 53));
  ASSERT_EQ(port, "p2");
  EXPECT_EQ(inet_checksum(out.data() + 14, 20), 0) << "IPv4 header checksum";
}

TEST_F(XdpFastPathTest, KernelHitsReachFlowAndRuleCounters) {
  same_decision("p1", udp4(1000), true);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(kernel("p1", udp4(1000)).verdict, uint32_t(XDP_REDIRECT));
  sw_->collect_xdp_counters();
  // 1 packet in userspace + 5 in the kernel (one in same_decision).
  std::string of = dump_flows(sw_->ofproto(), "br0");
  EXPECT_NE(of.find("n_packets=6, n_bytes=360, idle_age=0, priority=10,udp,in_port=p1"),
            std::string::npos)
      << of;
  std::string dp_flows = sw_->dpctl_dump_flows();
  EXPECT_NE(dp_flows.find("packets:6, bytes:360"), std::string::npos) << dp_flows;
  EXPECT_NE(dp_flows.find("offloaded:yes"), std::string::npos) << dp_flows;
  EXPECT_NE(sw_->pmd_stats_show().find("xdp fast path hits: 5"), std::string::npos)
      << sw_->pmd_stats_show();
  EXPECT_NE(sw_->dpctl_show().find("port 1: p1 (memory, pmd 0)\n    RX packets:6"),
            std::string::npos)
      << sw_->dpctl_show();
}

// The program counts in per-CPU slots with plain adds: hits made on every
// CPU (BPF_PROG_RUN runs on the calling thread's CPU) must all reach the
// rule counters, for an IPv4 flow (fp_flows4) and an IPv6 one (fp_flows).
TEST_F(XdpFastPathTest, KernelHitsOnEveryCpuAreSummedExactly) {
  auto v6 = (Eth{mac(kB), mac(kA)} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2", .flow = 7} /
             UDP{.sport = 5, .dport = 6} / Payload{.n = 12})
                .bytes();
  same_decision("p1", udp4(1000), true);
  same_decision("p1", v6, true);
  cpu_set_t old;
  ASSERT_EQ(sched_getaffinity(0, sizeof old, &old), 0);
  int hits = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &old)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    for (int i = 0; i < 3; ++i, ++hits) {
      EXPECT_EQ(kernel("p1", udp4(1000)).verdict, uint32_t(XDP_REDIRECT));
      EXPECT_EQ(kernel("p1", v6).verdict, uint32_t(XDP_REDIRECT));
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof old, &old), 0);
  sw_->collect_xdp_counters();
  // udp4(1000): 60 bytes; each flow: 1 packet in userspace, 1 in
  // same_decision's kernel run, `hits` more.
  std::string dp_flows = sw_->dpctl_dump_flows();
  EXPECT_NE(dp_flows.find("packets:" + std::to_string(hits + 2) +
                          ", bytes:" + std::to_string(60 * (hits + 2))),
            std::string::npos)
      << dp_flows;
  EXPECT_NE(sw_->pmd_stats_show().find("xdp fast path hits: " + std::to_string(2 * hits + 2)),
            std::string::npos)
      << sw_->pmd_stats_show();
}

// A deleted entry's counter slot is not handed to the next flow (a packet
// that found the old entry may still be counting); one key has one owner.
TEST_F(XdpFastPathTest, CounterSlotsAreQuarantinedAndKeysHaveOneOwner) {
  fp_xdp_key k{};
  k.in_port = 999, k.dl_type = kEthTypeIpv4, k.nw_proto = kIpProtoUdp, k.tp_src = 1;
  fp_xdp_flow f{};
  uint32_t s1 = 0, s2 = 0;
  ASSERT_TRUE(fp_->insert(k, f, &s1));
  EXPECT_FALSE(fp_->insert(k, f)) << "a second owner for one key";
  fp_xdp_flow got{};
  ASSERT_TRUE(fp_->read(k, got));
  EXPECT_EQ(got.slot, s1);
  EXPECT_EQ(got.packets, 0u);
  ASSERT_TRUE(fp_->take(k, got));
  EXPECT_FALSE(fp_->read(k, got));
  k.dl_type = kEthTypeIpv6;  // the other map
  ASSERT_TRUE(fp_->insert(k, f, &s2));
  EXPECT_NE(s2, s1) << "a freed slot came back at once";
  fp_->erase(k);
  EXPECT_FALSE(fp_->read(k, got));
}

// The kernel key of an untagged IPv4/UDP frame from udp4() entering on
// in_port, read off the frame's bytes (as the program parses it).
fp_xdp_key key_of_udp4(const Bytes& f, uint32_t in_port) {
  fp_xdp_key k{};
  k.in_port = in_port;
  std::memcpy(k.dl_dst, &f[0], 6);
  std::memcpy(k.dl_src, &f[6], 6);
  k.dl_type = kEthTypeIpv4;
  k.nw_tos = f[15], k.nw_ttl = f[22], k.nw_proto = f[23];
  std::memcpy(k.src, &f[26], 4);
  std::memcpy(k.dst, &f[30], 4);
  k.tp_src = uint16_t(f[34] << 8 | f[35]), k.tp_dst = uint16_t(f[36] << 8 | f[37]);
  return k;
}

uint32_t emc_index_of(const fp_xdp_key& k) { return XdpFastCache::index(XdpFastPath::key4_of(k)); }

// Two source ports whose udp4() frames from in_port share a cache index.
std::pair<uint16_t, uint16_t> colliding_sports(uint32_t in_port) {
  std::map<uint32_t, uint16_t> seen;  // index -> sport
  for (uint16_t sport = 1; sport < 60000; ++sport) {
    auto [it, fresh] = seen.emplace(emc_index_of(key_of_udp4(udp4(sport), in_port)), sport);
    if (!fresh) return {it->second, sport};
  }
  return {0, 0};
}

// An entry that sets the source MAC to 02:00:00:00:00:<last> and outputs.
fp_xdp_flow flow_setting_src(uint8_t last, uint32_t port) {
  fp_xdp_flow f{};
  f.n_ops = 2;
  f.ops[0].type = FP_XDP_OP_SET_ETH, f.ops[0].field = 6;
  const uint8_t m[6] = {2, 0, 0, 0, 0, last};
  std::memcpy(f.ops[0].mac, m, 6);
  f.ops[1].type = FP_XDP_OP_OUTPUT, f.ops[1].port = port;
  return f;
}

// Two IPv4 entries on one index of the exact-match cache (the later one
// holds it): each frame still gets its own entry's actions and counts,
// and deleting either leaves the other's decision and no trace of its own.
TEST_F(XdpFastPathTest, CacheCollisionsKeepEveryEntryExact) {
  const uint32_t in = dp("p1");
  auto [sa, sb] = colliding_sports(in);
  ASSERT_NE(sb, 0) << "no two ports share a cache index";
  const Bytes fa = udp4(sa), fb = udp4(sb);
  const fp_xdp_key ka = key_of_udp4(fa, in), kb = key_of_udp4(fb, in);
  auto expect_src = [&](const Bytes& frame, int last) {  // -1: to the PMD
    KernelRun r = kernel("p1", frame);
    if (last < 0) {
      EXPECT_EQ(r.verdict, uint32_t(XDP_PASS));
      EXPECT_EQ(r.out, frame);
      return;
    }
    EXPECT_EQ(r.verdict, uint32_t(XDP_REDIRECT));
    Bytes want = frame;
    want[11] = uint8_t(last);
    std::fill(want.begin() + 6, want.begin() + 11, 0), want[6] = 2;
    EXPECT_EQ(r.out, want);
  };
  ASSERT_TRUE(fp_->insert(ka, flow_setting_src(0xaa, dp("p2"))));
  ASSERT_TRUE(fp_->insert(kb, flow_setting_src(0xbb, dp("p3"))));
  expect_src(fa, 0xaa);  // from the hash map: the cache holds kb's slot
  expect_src(fb, 0xbb);
  expect_src(fb, 0xbb);
  fp_xdp_flow got{};
  ASSERT_TRUE(fp_->read(ka, got));
  EXPECT_EQ(got.packets, 1u);
  ASSERT_TRUE(fp_->read(kb, got));
  EXPECT_EQ(got.packets, 2u);
  fp_->erase(ka);  // not the cached one: kb keeps its place
  expect_src(fa, -1);
  expect_src(fb, 0xbb);
  ASSERT_TRUE(fp_->insert(ka, flow_setting_src(0xcc, dp("p2"))));  // takes the index back
  fp_->erase(kb);
  expect_src(fb, -1);
  expect_src(fa, 0xcc);
  fp_->erase(ka);
  expect_src(fa, -1);
}

// The kernel key of an untagged IPv6/UDP frame entering on in_port, read
// off the frame's bytes (as the program parses it).
fp_xdp_key key_of_udp6(const Bytes& f, uint32_t in_port) {
  fp_xdp_key k{};
  k.in_port = in_port;
  std::memcpy(k.dl_dst, &f[0], 6);
  std::memcpy(k.dl_src, &f[6], 6);
  k.dl_type = kEthTypeIpv6;
  const uint32_t vtf = uint32_t(f[14]) << 24 | uint32_t(f[15]) << 16 | uint32_t(f[16]) << 8 | f[17];
  k.ipv6_label = vtf & 0xfffff, k.nw_tos = uint8_t(vtf >> 20);
  k.nw_proto = f[20], k.nw_ttl = f[21];
  std::memcpy(k.src, &f[22], 16);
  std::memcpy(k.dst, &f[38], 16);
  k.tp_src = uint16_t(f[54] << 8 | f[55]), k.tp_dst = uint16_t(f[56] << 8 | f[57]);
  return k;
}

// Entries under churn: another thread inserts and deletes A (the frame
// fa's key ka) and another entry B, in both orders, past the point where
// counter slots (and so fp_slots entries) are reused, while this thread
// runs fa through the program: every run gets A's actions or goes to the
// PMD, never B's and never a mix.  The kernel reuses a deleted hash
// element at once, so a run that found A's element may read it after it
// became B's: it must not take B's entry for A's (xdp_fast_abi.h).
void churn_never_applies_another_entrys_actions(XdpFastPath& fp, const Bytes& fa,
                                                const fp_xdp_key& ka, const fp_xdp_key& kb,
                                                uint32_t out_a, uint32_t out_b,
                                                const std::function<KernelRun()>& run_a) {
  const fp_xdp_flow a = flow_setting_src(0xaa, out_a), b = flow_setting_src(0xbb, out_b);
  std::atomic<bool> done{false};
  std::atomic<int> failed_inserts{0};
  std::thread writer([&] {
    for (int i = 0; i < 36000; ++i) {  // 72,000 inserts > FP_XDP_MAX_FLOWS slots
      bool a_first = i % 2 == 0;
      if (!fp.insert(a_first ? ka : kb, a_first ? a : b)) ++failed_inserts;
      if (!fp.insert(a_first ? kb : ka, a_first ? b : a)) ++failed_inserts;
      fp.erase(i % 3 == 0 ? ka : kb);
      fp.erase(i % 3 == 0 ? kb : ka);
    }
    done = true;
  });
  Bytes want_a = fa;
  std::fill(want_a.begin() + 6, want_a.begin() + 11, 0), want_a[6] = 2, want_a[11] = 0xaa;
  uint64_t hits = 0, to_pmd = 0, wrong = 0;
  while (!done) {
    KernelRun r = run_a();
    if (r.verdict == XDP_REDIRECT && r.out == want_a)
      ++hits;
    else if (r.verdict == XDP_PASS && r.out == fa)
      ++to_pmd;
    else
      ++wrong;
  }
  writer.join();
  EXPECT_EQ(failed_inserts.load(), 0);
  EXPECT_EQ(wrong, 0u) << hits << " hits, " << to_pmd << " to the PMD";
  EXPECT_GT(hits, 0u) << "A's entry was never found: the test raced nothing";
  EXPECT_GT(to_pmd, 0u) << "A's entry was never missing: the test raced nothing";
}

// IPv4, A and B on one cache index: A is found through the cache or,
// while B holds the index, through fp_flows4.
TEST_F(XdpFastPathTest, CacheChurnNeverAppliesAnotherEntrysActions) {
  const uint32_t in = dp("p1");
  auto [sa, sb] = colliding_sports(in);
  ASSERT_NE(sb, 0) << "no two ports share a cache index";
  const Bytes fa = udp4(sa);
  churn_never_applies_another_entrys_actions(*fp_, fa, key_of_udp4(fa, in),
                                             key_of_udp4(udp4(sb), in), dp("p2"), dp("p3"),
                                             [&] { return kernel("p1", fa); });
}

// IPv6 (fp_flows only, no cache).
TEST_F(XdpFastPathTest, Ipv6ChurnNeverAppliesAnotherEntrysActions) {
  const uint32_t in = dp("p1");
  auto v6 = [](uint16_t sport) {
    return (Eth{mac(kB), mac(kA)} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
            UDP{.sport = sport, .dport = 9} / Payload{.n = 12})
        .bytes();
  };
  const Bytes fa = v6(1), fb = v6(2);
  churn_never_applies_another_entrys_actions(*fp_, fa, key_of_udp6(fa, in), key_of_udp6(fb, in),
                                             dp("p2"), dp("p3"), [&] { return kernel("p1", fa); });
}

TEST_F(XdpFastPathTest, FlowChangeRemovesTheKernelEntryBeforeTheFence) {
  same_decision("p1", udp4(1000), true);
  ASSERT_EQ(entries(), 1u);
  sw_->ofproto().add_flow("br0", "priority=20,in_port=p1,udp,actions=output:p3");
  ASSERT_TRUE(sw_->wait_pmds_past(sw_->ofproto().generation()));  // the fence
  EXPECT_EQ(kernel("p1", udp4(1000)).verdict, uint32_t(XDP_PASS)) << "stale kernel entry";
  EXPECT_EQ(entries(), 0u);
  auto [port, bytes] = userspace("p1", udp4(1000));
  EXPECT_EQ(port, "p3");
  same_decision("p1", udp4(1000), true);  // the new decision, offloaded again
}

TEST_F(XdpFastPathTest, MacMoveRemovesTheKernelEntry) {
  // kB learned on p2; a TCP unicast kA -> kB from p3 (NORMAL: p3 has a
  // rule for UDP only) goes to p2 alone, a single output: offloaded.
  auto from_b = (Eth{mac(kA), mac(kB)} / IPv4{.src = "192.0.2.2", .dst = "192.0.2.1"} /
                 TCP{.sport = 1, .dport = 2, .flags = 0x010} / Payload{.n = 4})
                    .bytes();
  userspace("p2", from_b);  // learns kB on p2 (NORMAL)
  auto to_b = (Eth{mac(kB), mac(kA)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
               TCP{.sport = 2, .dport = 1, .flags = 0x010} / Payload{.n = 4})
                  .bytes();
  auto [port, bytes] = userspace("p3", to_b);
  ASSERT_EQ(port, "p2");
  same_decision("p3", to_b, true);
  // kB moves to p1 (an ICMP frame: p1's rules send it to NORMAL, which
  // learns): the entry that sends p3's frames to p2 must go.
  userspace(
      "p1",
      (Eth{mac(kA), mac(kB)} / IPv4{.src = "192.0.2.2", .dst = "192.0.2.1"} / ICMP{}).bytes());
  sw_->wait_pmds_past(sw_->ofproto().generation());
  EXPECT_EQ(kernel("p3", to_b).verdict, uint32_t(XDP_PASS)) << "stale entry after a MAC move";
  auto [port2, bytes2] = userspace("p3", to_b);
  EXPECT_EQ(port2, "p1");
  same_decision("p3", to_b, true);
}

TEST_F(XdpFastPathTest, PortRemovalPuntsAndRemoves) {
  // The flows naming p2 go first (they stop parsing once p2 is gone); then
  // NORMAL sends p3's TCP to kB, learned on p2, from the kernel; then p2 goes.
  auto cfg = sw_->config();
  std::erase_if(cfg.bridges[0].flows,
                [](const FlowLine& f) { return f.text.find("p2") != std::string::npos; });
  ASSERT_TRUE(sw_->apply(cfg).errors.empty());
  userspace(
      "p2",
      (Eth{mac(kA), mac(kB)} / IPv4{.src = "192.0.2.2", .dst = "192.0.2.1"} / ICMP{}).bytes());
  auto to_b = (Eth{mac(kB), mac(kA)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
               TCP{.sport = 2, .dport = 1, .flags = 0x010} / Payload{.n = 4})
                  .bytes();
  same_decision("p3", to_b, true);
  std::erase_if(cfg.bridges[0].ports, [](const PortConfig& p) { return p.name == "p2"; });
  ApplyResult r = sw_->apply(cfg);
  ASSERT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.in_effect);
  EXPECT_EQ(entries(), 0u);
  EXPECT_EQ(kernel("p3", to_b).verdict, uint32_t(XDP_PASS)) << "stale entry to a removed port";
}

// Connection tracking never goes to the kernel, wherever it stands in the
// list: a ct() after the last output still commits in the PMD, and a
// recirculation is another pass through the PMD's caches.
TEST(XdpFastEncode, RefusesConnectionTrackingAnywhereInTheList) {
  fp_xdp_key k{};
  k.dl_type = kEthTypeIpv4;
  fp_xdp_flow f{};
  static const DpCtSpec spec{};
  ASSERT_TRUE(xdp_flow_from({DpAction::output(2)}, k, f));
  EXPECT_FALSE(xdp_flow_from({DpAction::output(2), DpAction::conntrack(&spec)}, k, f));
  EXPECT_FALSE(xdp_flow_from({DpAction::conntrack(&spec), DpAction::output(2)}, k, f));
  EXPECT_FALSE(xdp_flow_from({DpAction::conntrack(&spec)}, k, f));
  EXPECT_FALSE(xdp_flow_from({DpAction::conntrack(&spec), DpAction::recirc(1)}, k, f));
  EXPECT_FALSE(xdp_flow_from({DpAction::ct_clear(), DpAction::output(2)}, k, f));
}

// The program has no IPv6 traffic class or hop limit op: a flow with one
// stays in userspace, on an IPv6 key (where the executor rewrites) and on
// an IPv4 one alike; a port rewrite on IPv6 (which it has) is the control.
TEST(XdpFastEncode, RefusesIpv6TclassAndHlimit) {
  fp_xdp_flow f{};
  for (uint16_t type : {kEthTypeIpv6, kEthTypeIpv4}) {
    fp_xdp_key k{};
    k.dl_type = type;
    ASSERT_TRUE(xdp_flow_from({DpAction::set_tp_src(7), DpAction::output(2)}, k, f));
    EXPECT_FALSE(xdp_flow_from({DpAction::set_ipv6_hlimit(9), DpAction::output(2)}, k, f));
    EXPECT_FALSE(xdp_flow_from({DpAction::set_ipv6_tclass(0xb8, 0xfc), DpAction::output(2)}, k, f));
    EXPECT_FALSE(xdp_flow_from(
        {DpAction::set_tp_src(7), DpAction::set_ipv6_tclass(1, 3), DpAction::output(2)}, k, f));
  }
}

}  // namespace xdp_fast_path_test

}  // namespace flowpath
