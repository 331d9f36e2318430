// tests/action/rewrite_ovs.hpp — one configuration and the same frames
// through flowpath's switch (memory ports) and a private ovs-vswitchd 3.1
// (dummy datapath, netdev-dummy/receive, the output port writing a pcap),
// frame after frame: what each sent on the output port, and each one's
// `dpctl/dump-flows` reduced to "megaflow match -> actions" lines (stats
// dropped, OVS's port numbers turned into names, sorted) so the masks and
// actions of the two can be compared.  Two differences of print, not of
// behaviour, are evened out: OVS prints a masked key field with the
// packet's unmasked value (tos=0x21/0xfc, vid=7/0x0), flowpath the masked
// one and nothing for a zero mask; and OVS's megaflows of IP always pin
// nw_frag (frag=no) where flowpath's pin it only when a rule reads it (a
// narrower mask, as tests/differential/dp_dump.hpp notes).  Used by the
// set_field*_ovs and dec_ttl_ovs tests.
// Needs no root; the caller skips when OvsInstance::unavailable().
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <thread>

#include "differential/normal_ovs.hpp"
#include "flowpath/switch/switch.hpp"
#include "support/packet_builder.hpp"

namespace flowpath::test {

using Bytes = std::vector<uint8_t>;

struct In {
  const char* port;
  Bytes frame;
};

struct RewriteRun {
  std::vector<Bytes> sent;         // on the output port, in order
  std::vector<std::string> flows;  // "match actions:..." per megaflow, sorted
};

inline std::string plain_hex(const Bytes& b) {
  std::string s = hex(b);
  std::erase(s, ' ');
  return s;
}

/// A dpctl/dump-flows reduced to match and actions, sorted (OVS prints
/// in hash order).  `ports`: datapath number -> name, for OVS's dump.
/// `name=VALUE/MASK` as VALUE & MASK, dropped when MASK is 0; no frag=no.
inline std::string masked_values(const std::string& match) {
  static const std::regex field(R"(([a-z_]+)=(0x[0-9a-f]+|\d+)/(0x[0-9a-f]+|\d+))");
  std::string out;
  auto at = match.cbegin();
  for (std::sregex_iterator it(match.begin(), match.end(), field), end; it != end; ++it) {
    const std::smatch& m = *it;
    out.append(at, m[0].first);
    at = m[0].second;
    const unsigned long long v = std::stoull(m[2], nullptr, 0), k = std::stoull(m[3], nullptr, 0);
    char b[96];
    std::snprintf(b, sizeof b, "%s=%#llx/%#llx", m.str(1).c_str(), v & k, k);
    if (k) out += b;
  }
  out.append(at, match.cend());
  for (const char* junk : {"frag=no"}) {
    for (size_t p; (p = out.find(junk)) != std::string::npos;) out.erase(p, std::strlen(junk));
  }
  for (auto [from, to] : {std::pair{",,", ","}, std::pair{"(,", "("}, std::pair{",)", ")"}})
    for (size_t p; (p = out.find(from)) != std::string::npos;) out.replace(p, 2, to);
  return out;
}

inline std::vector<std::string> megaflow_lines(const std::string& dump,
                                               const std::map<uint32_t, std::string>& ports = {}) {
  static const std::regex stats(R"(, packets:\d+, bytes:\d+, used:[^,]+,)");
  std::vector<std::string> out;
  std::istringstream in(dump);
  for (std::string l; std::getline(in, l);) {
    const size_t acts = l.find("actions:");
    if (acts == std::string::npos) continue;
    l = masked_values(l.substr(0, acts)) + l.substr(acts);
    l = std::regex_replace(l, stats, "");
    for (const auto& [n, name] : ports) {  // output ports only after "actions:"
      const std::string num = std::to_string(n);
      const size_t a = l.find("actions:");
      std::string match = l.substr(0, a), actions = l.substr(a);
      match = std::regex_replace(match, std::regex("in_port\\(" + num + "\\)"),
                                 "in_port(" + name + ")");
      actions =
          std::regex_replace(actions, std::regex("([:,])" + num + "(,|$)"), "$1" + name + "$2");
      l = match + actions;
    }
    out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline RewriteRun flowpath_run(const char* conf, const std::vector<In>& in,
                               const char* out_port = "p2") {
  Switch::Options o;
  o.memory_ports = true;
  o.pmd_cores = {-1};
  Switch sw(SwitchConfig::parse(conf), o);
  for (const In& f : in) {
    sw.port(f.port)->memory()->inject(f.frame);
    sw.poll_once();
  }
  RewriteRun r;
  const auto& sent = sw.port(out_port)->memory()->sent();
  for (size_t i = 0; i < sent.size(); ++i)
    r.sent.emplace_back(sent[i].bytes.begin(), sent[i].bytes.end());
  r.flows = megaflow_lines(sw.dpctl_dump_flows());
  return r;
}

/// The frames of a little-endian pcap file as far as it is complete (the
/// writer may be mid-record).  Not io/pcap_reader.hpp: libpcap's headers
/// and the kernel's linux/bpf.h (switch.hpp) cannot share a translation
/// unit (both define struct bpf_insn).
inline std::vector<Bytes> read_pcap_frames(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Bytes f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Bytes> out;
  auto le32 = [&](size_t at) {
    return uint32_t(f[at]) | uint32_t(f[at + 1]) << 8 | uint32_t(f[at + 2]) << 16 |
           uint32_t(f[at + 3]) << 24;
  };
  for (size_t at = 24; at + 16 <= f.size();) {  // 24-byte file header, 16-byte record headers
    const uint32_t caplen = le32(at + 8);
    if (caplen > f.size() - at - 16) break;
    out.emplace_back(f.begin() + long(at + 16), f.begin() + long(at + 16 + caplen));
    at += 16 + caplen;
  }
  return out;
}

/// The same through Open vSwitch.  Each frame is sent once the one before
/// has left (or after a second, for a frame that is dropped), so the first
/// frame's megaflow is in place when the second arrives, as in flowpath.
inline RewriteRun ovs_run(const char* conf, const std::vector<In>& in,
                          const char* out_port = "p2") {
  difftest::OvsInstance ovs;
  ovs.configure(SwitchConfig::parse(conf));
  const std::string pcap = ovs.dir() + "/out.pcap";
  ovs.vsctl("set interface " + std::string(out_port) + " options:tx_pcap=" + pcap);
  RewriteRun r;
  for (const In& f : in) {
    const size_t before = read_pcap_frames(pcap).size();
    ovs.appctl("netdev-dummy/receive", {f.port, plain_hex(f.frame)});
    for (int i = 0; i < 100 && read_pcap_frames(pcap).size() == before; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.sent = read_pcap_frames(pcap);
  r.flows = megaflow_lines(ovs.appctl("dpctl/dump-flows", {}), ovs.dp_names());
  return r;
}

}  // namespace flowpath::test
