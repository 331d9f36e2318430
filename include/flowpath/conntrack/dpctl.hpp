// flowpath/conntrack/dpctl.hpp — OVS's conntrack control commands as text:
// dpctl/dump-conntrack, flush-conntrack, ct-stats-show, ct-set-limits,
// ct-get-limits, ct-del-limits (formats of OVS 3.1's lib/ct-dpif.c and
// lib/dpctl.c), and their unixctl registration.
//
// The formatting functions are pure (entries in, text out) and the command
// functions take the argument vector as ovs-appctl passes it (an optional
// datapath name first, options such as -m/-s anywhere), so each is testable
// without a socket.  Errors throw std::invalid_argument with OVS's wording.
// Entries are printed sorted (OVS prints them in hash order; its own tests
// sort them).
// Thread-safety: as Conntrack's (dump/flush/limits may run beside PMDs).
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowpath/conntrack/conntrack.hpp"

namespace flowpath::ct {

namespace dpctl_detail {

inline std::string addr(const CtAddr& a, bool v6) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof buf);
  return buf;
}

inline const char* proto_name(uint8_t p) {
  switch (p) {
    case 1:
      return "icmp";
    case 58:
      return "icmpv6";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 132:
      return "sctp";
    case 136:
      return "udplite";
    case 33:
      return "dccp";
    case 2:
      return "igmp";
    default:
      return nullptr;
  }
}

inline const char* tcp_state_name(uint8_t s) {
  static const char* names[] = {"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECV",
                                "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1", "CLOSING",
                                "LAST_ACK",    "FIN_WAIT_2", "TIME_WAIT"};
  return s < 11 ? names[s] : "MAX_NUM";
}

// The single state the non-verbose dump prints (OVS's coalesce_tcp_state).
inline uint8_t coalesce(uint8_t s) {
  if (s == kTcpFinWait2) return kTcpTimeWait;
  return s == kTcpSynRecv ? uint8_t(kTcpEstablished) : s;
}

inline std::string tcp_flags(uint8_t f) {
  static const char* names[] = {"WINDOW_SCALE", "SACK_PERM",           "CLOSE_INIT",
                                "BE_LIBERAL",   "DATA_UNACKNOWLEDGED", "MAXACK_SET"};
  if (!f) return "0";
  std::string s;
  for (int i = 0; i < 6; ++i)
    if (f & (1 << i)) s += std::string(s.empty() ? "" : "|") + names[i];
  return s;
}

inline std::string tuple(const ConnKey& k) {
  std::string s = "src=" + addr(k.src, k.v6) + ",dst=" + addr(k.dst, k.v6);
  if (k.icmp())
    s += ",id=" + std::to_string(k.sport) + ",type=" + std::to_string(k.stype) +
         ",code=" + std::to_string(k.code);
  else
    s += ",sport=" + std::to_string(k.sport) + ",dport=" + std::to_string(k.dport);
  return s;
}

inline std::string hex_label(const CtLabel& l) {
  char buf[40];
  if (l.hi)
    std::snprintf(buf, sizeof buf, "0x%llx%016llx", (unsigned long long)l.hi,
                  (unsigned long long)l.lo);
  else
    std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)l.lo);
  return buf;
}

inline uint16_t parse_u16(const std::string& s, const char* what) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(s.c_str(), &end, 0);
  if (s.empty() || *end || v > 0xffff) throw std::invalid_argument(what);
  return uint16_t(v);
}
inline uint32_t parse_u32(const std::string& s, const char* what) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || *end || v > 0xffffffffull) throw std::invalid_argument(what);
  return uint32_t(v);
}

}  // namespace dpctl_detail

/// One line of dpctl/dump-conntrack (without the newline).
inline std::string format_entry(const ConnEntry& e, bool verbose, bool stats) {
  using namespace dpctl_detail;
  std::string s;
  const char* pn = proto_name(e.orig.proto);
  s += pn ? pn : std::to_string(e.orig.proto);
  s += ",orig=(" + tuple(e.orig) + "),reply=(" + tuple(e.reply) + ")";
  if (verbose) s += ",id=0";  // OVS's userspace datapath numbers no entries
  if (e.orig.zone) s += ",zone=" + std::to_string(e.orig.zone);
  if (verbose) s += ",status=0";  // the userspace datapath reports no status bits
  if (stats) s += ",timeout=" + std::to_string(e.timeout_s);
  if (e.mark) s += ",mark=" + std::to_string(e.mark);
  if (!e.label.zero()) s += ",labels=" + hex_label(e.label);
  if (e.orig.proto == 6) {
    if (verbose) {
      s += std::string(",protoinfo=(state_orig=") + tcp_state_name(e.tcp_state[0]) +
           ",state_reply=" + tcp_state_name(e.tcp_state[1]);
      if (e.tcp_wscale[0] || e.tcp_wscale[1])
        s += ",wscale_orig=" + std::to_string(e.tcp_wscale[0]) +
             ",wscale_reply=" + std::to_string(e.tcp_wscale[1]);
      s += ",flags_orig=" + tcp_flags(e.tcp_flags[0]) +
           ",flags_reply=" + tcp_flags(e.tcp_flags[1]) + ")";
    } else {
      s += std::string(",protoinfo=(state=") +
           tcp_state_name(coalesce(std::max(e.tcp_state[0], e.tcp_state[1]))) + ")";
    }
  }
  return s;
}

/// Options common to the dpctl commands: [dp] [zone=N] [-m] [-s].
struct DpctlArgs {
  std::optional<uint16_t> zone;
  bool verbose = false, stats = false;
  std::vector<std::string> rest;  // other arguments, datapath name dropped
};
inline DpctlArgs parse_dpctl_args(const std::vector<std::string>& args) {
  DpctlArgs a;
  for (const std::string& x : args) {
    if (x == "-m" || x == "--more")
      a.verbose = true;
    else if (x == "-s" || x == "--statistics")
      a.stats = true;
    else if (x.rfind("zone=", 0) == 0 && x.find(',') == std::string::npos && !a.zone)
      a.zone = dpctl_detail::parse_u16(x.substr(5), "invalid zone");
    else if (x.find('@') != std::string::npos || x.rfind("ovs-", 0) == 0)
      continue;  // a datapath name (netdev@ovs-netdev, ovs-system): one datapath here
    else
      a.rest.push_back(x);
  }
  return a;
}

}  // namespace flowpath::ct

#include "flowpath/conntrack/dpctl_commands.hpp"
