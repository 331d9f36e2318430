// flowpath/conntrack/dpctl_commands.hpp — the dpctl/* conntrack commands
// over a Conntrack, and their unixctl registration (internal; include
// dpctl.hpp).  Thread-safety: as Conntrack's.
#pragma once

#include "flowpath/conntrack/dpctl.hpp"
#include "flowpath/control/unixctl_server.hpp"

namespace flowpath::ct {

/// dpctl/dump-conntrack [dp] [-m] [-s] [zone=N]
inline std::string dpctl_dump_conntrack(Conntrack& ct, int64_t now,
                                        const std::vector<std::string>& args) {
  const DpctlArgs a = parse_dpctl_args(args);
  std::vector<std::string> lines;
  for (const ConnEntry& e : ct.dump(now, a.zone))
    lines.push_back(format_entry(e, a.verbose, a.stats));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

/// dpctl/flush-conntrack [dp] [zone=N]
inline std::string dpctl_flush_conntrack(Conntrack& ct, const std::vector<std::string>& args) {
  const DpctlArgs a = parse_dpctl_args(args);
  if (!a.rest.empty()) throw std::invalid_argument("invalid argument " + a.rest[0]);
  ct.flush(a.zone);
  return "";
}

/// dpctl/ct-stats-show [dp] [-m] [zone=N]
inline std::string dpctl_ct_stats_show(Conntrack& ct, int64_t now,
                                       const std::vector<std::string>& args) {
  using namespace dpctl_detail;
  const DpctlArgs a = parse_dpctl_args(args);
  uint32_t total = 0, tcp = 0, udp = 0, udplite = 0, sctp = 0, icmp = 0, dccp = 0, igmp = 0,
           other = 0;
  uint32_t per_state[11] = {};
  for (const ConnEntry& e : ct.dump(now, a.zone)) {
    ++total;
    switch (e.orig.proto) {
      case 1:
        ++icmp;
        break;
      case 58:
        break;  // OVS counts ICMPv6 apart and never prints it (in Total only)
      case 6:
        ++tcp;
        ++per_state[coalesce(std::max(e.tcp_state[0], e.tcp_state[1])) % 11];
        break;
      case 17:
        ++udp;
        break;
      case 132:
        ++sctp;
        break;
      case 136:
        ++udplite;
        break;
      case 33:
        ++dccp;
        break;
      case 2:
        ++igmp;
        break;
      default:
        ++other;
    }
  }
  std::string s = "Connections Stats:\n    Total: " + std::to_string(total) + "\n";
  if (tcp) {
    s += "  TCP: " + std::to_string(tcp) + "\n";
    if (a.verbose) {
      s += "    Conn per TCP states:\n";
      for (int i = 0; i < 11; ++i)
        if (per_state[i])
          s += std::string("\t  [") + tcp_state_name(uint8_t(i)) +
               "]=" + std::to_string(per_state[i]) + "\n";
    }
  }
  auto line = [&](const char* name, uint32_t n) {
    if (n) s += std::string("  ") + name + ": " + std::to_string(n) + "\n";
  };
  line("UDP", udp);
  line("UDPLITE", udplite);
  line("SCTP", sctp);
  line("ICMP", icmp);
  line("DCCP", dccp);
  line("IGMP", igmp);
  line("Other", other);
  return s;
}

/// dpctl/ct-set-limits [dp] [default=L] [zone=N,limit=L]...
inline std::string dpctl_ct_set_limits(Conntrack& ct, const std::vector<std::string>& args) {
  using namespace dpctl_detail;
  std::vector<std::string> v = parse_dpctl_args(args).rest;
  if (v.empty())
    throw std::invalid_argument("'dpctl/ct-set-limits' command requires at least 1 arguments");
  size_t i = 0;
  std::optional<uint32_t> def;
  if (v[0].rfind("default=", 0) == 0) {
    def = parse_u32(v[0].substr(8), "invalid default limit");
    ++i;
  }
  std::vector<std::pair<uint16_t, uint32_t>> zones;
  for (; i < v.size(); ++i) {
    std::optional<uint16_t> zone;
    std::optional<uint32_t> limit;
    size_t pos = 0;
    const std::string& t = v[i];
    while (pos <= t.size()) {
      const size_t comma = std::min(t.find(',', pos), t.size());
      const std::string kv = t.substr(pos, comma - pos);
      const size_t eq = kv.find('=');
      const std::string k = kv.substr(0, eq),
                        val = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (val.empty()) throw std::invalid_argument("field " + k + " missing value");
      if (k == "zone")
        zone = parse_u16(val, "failed to parse field zone");
      else if (k == "limit")
        limit = parse_u32(val, "failed to parse field limit");
      else
        throw std::invalid_argument("invalid zone limit field: " + k);
      pos = comma + 1;
    }
    if (!zone || !limit) throw std::invalid_argument("failed to parse zone limit");
    zones.emplace_back(*zone, *limit);
  }
  if (def) ct.set_default_limit(*def);
  for (auto [z, l] : zones) ct.set_zone_limit(z, l);
  return "";
}

inline std::vector<uint16_t> parse_zone_list(const std::string& arg) {
  if (arg.rfind("zone=", 0) != 0) throw std::invalid_argument("invalid argument " + arg);
  std::vector<uint16_t> zones;
  size_t pos = 5;
  while (pos <= arg.size()) {
    const size_t comma = std::min(arg.find(',', pos), arg.size());
    zones.push_back(dpctl_detail::parse_u16(arg.substr(pos, comma - pos), "invalid zone"));
    pos = comma + 1;
  }
  return zones;
}

// The zone=N1,N2 list is left in `rest` (its comma keeps it out of the
// single-zone option).
inline std::string zone_list_arg(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a.rfind("zone=", 0) == 0) return a;
  const DpctlArgs d = parse_dpctl_args(args);
  return d.rest.empty() ? "" : d.rest[0];
}

/// dpctl/ct-get-limits [dp] [zone=N1[,N2]...]
inline std::string dpctl_ct_get_limits(Conntrack& ct, const std::vector<std::string>& args) {
  std::string s = "default limit=" + std::to_string(ct.default_limit());
  const std::string arg = zone_list_arg(args);
  const std::vector<uint16_t> zones = arg.empty() ? ct.zones_with_limits() : parse_zone_list(arg);
  for (uint16_t z : zones)
    s += "\nzone=" + std::to_string(z) +
         ",limit=" + std::to_string(ct.zone_limit(z).value_or(ct.default_limit())) +
         ",count=" + std::to_string(ct.zone_count(z));
  return s + "\n";
}

/// dpctl/ct-del-limits [dp] zone=N1[,N2]...
inline std::string dpctl_ct_del_limits(Conntrack& ct, const std::vector<std::string>& args) {
  const std::string arg = zone_list_arg(args);
  if (arg.empty())
    throw std::invalid_argument("'dpctl/ct-del-limits' command requires at least 1 arguments");
  for (uint16_t z : parse_zone_list(arg)) ct.del_zone_limit(z);
  return "";
}

/// Registers the six commands on a unixctl server (ovs-appctl dpctl/...).
/// `now` gives the tracker's clock in milliseconds.
inline void register_dpctl_conntrack(UnixctlServer& srv, Conntrack& ct,
                                     std::function<int64_t()> now) {
  srv.add_command("dpctl/dump-conntrack", 0, 4, "[dp] [-m] [-s] [zone=N]",
                  [&ct, now](const UnixctlArgs& a) { return dpctl_dump_conntrack(ct, now(), a); });
  srv.add_command("dpctl/flush-conntrack", 0, 3, "[dp] [zone=N]",
                  [&ct](const UnixctlArgs& a) { return dpctl_flush_conntrack(ct, a); });
  srv.add_command("dpctl/ct-stats-show", 0, 3, "[dp] [-m] [zone=N]",
                  [&ct, now](const UnixctlArgs& a) { return dpctl_ct_stats_show(ct, now(), a); });
  srv.add_command("dpctl/ct-set-limits", 1, INT32_MAX, "[dp] [default=L] [zone=N,limit=L]...",
                  [&ct](const UnixctlArgs& a) { return dpctl_ct_set_limits(ct, a); });
  srv.add_command("dpctl/ct-get-limits", 0, 2, "[dp] [zone=N1[,N2]...]",
                  [&ct](const UnixctlArgs& a) { return dpctl_ct_get_limits(ct, a); });
  srv.add_command("dpctl/ct-del-limits", 1, 2, "[dp] zone=N1[,N2]...",
                  [&ct](const UnixctlArgs& a) { return dpctl_ct_del_limits(ct, a); });
}

}  // namespace flowpath::ct
