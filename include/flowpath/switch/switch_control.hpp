// flowpath/switch/switch_control.hpp — the control commands of a running
// switch, registered on a UnixctlServer (control/unixctl_server.hpp).
//
//   UnixctlServer srv(path);
//   add_switch_commands(srv, sw, [&] { request_exit(); });
//   srv.set_periodic([&] { sw.ofproto().run_periodic(); }, 1000);
//   srv.start();
//
// Commands (flowpath names, then Open vSwitch's ovs-appctl names with the
// same output shapes):
//   show                              like `ovs-vsctl show`
//   dump-flows BRIDGE                 bridge/dump-flows BRIDGE
//   add-flow BRIDGE FLOW              FLOW may be split over arguments
//   del-flows BRIDGE [MATCH]          mod-flows BRIDGE FLOW
//   fdb/show BRIDGE                   fdb/flush [BRIDGE]
//   dpctl/dump-flows                  dpctl/show (ports with counters)
//   pmd-stats-show                    dpif-netdev/pmd-stats-show
//   pmd-stats-clear                   dpif-netdev/pmd-stats-clear
//   ofproto/trace BRIDGE FLOW         exit
//   dpctl/dump-conntrack [zone=N] [-m] [-s], dpctl/flush-conntrack [zone=N],
//   dpctl/ct-stats-show, dpctl/ct-set-limits, ct-get-limits, ct-del-limits
//                                     on the switch's tracker (conntrack/dpctl.hpp)
// plus the server's list-commands and version.  Flow changes go through
// Ofproto, whose generation moves, so every PMD revalidates its caches
// before its next batch.
// Thread-safety: handlers run on the control thread and lock what they
// read (Ofproto's mutex, the PMDs' mutexes), one at a time.
#pragma once

#include <functional>
#include <string>

#include "flowpath/bridge/trace.hpp"
#include "flowpath/bridge/views.hpp"
#include "flowpath/conntrack/dpctl.hpp"
#include "flowpath/control/unixctl_server.hpp"
#include "flowpath/switch/switch.hpp"

namespace flowpath {

namespace switch_control_detail {
inline std::string join(const UnixctlArgs& a, size_t from, const char* sep) {
  std::string out;
  for (size_t i = from; i < a.size(); ++i) out += (i > from ? sep : "") + a[i];
  return out;
}
}  // namespace switch_control_detail

inline void add_switch_commands(UnixctlServer& srv, Switch& sw, std::function<void()> on_exit) {
  using switch_control_detail::join;
  Ofproto& of = sw.ofproto();
  srv.add_command("show", 0, 0, "", [&of](const UnixctlArgs&) { return show(of); });
  auto dump = [&of](const UnixctlArgs& a) { return dump_flows(of, a[0]); };
  srv.add_command("dump-flows", 1, 1, "BRIDGE", dump);
  srv.add_command("bridge/dump-flows", 1, 1, "BRIDGE", dump);
  srv.add_command("add-flow", 2, -1, "BRIDGE FLOW", [&of](const UnixctlArgs& a) {
    of.add_flow(a[0], join(a, 1, " "));
    return std::string();
  });
  srv.add_command("del-flows", 1, -1, "BRIDGE [MATCH]", [&of](const UnixctlArgs& a) {
    of.del_flows(a[0], join(a, 1, " "));
    return std::string();
  });
  srv.add_command("mod-flows", 2, -1, "BRIDGE FLOW", [&of](const UnixctlArgs& a) {
    of.mod_flows(a[0], join(a, 1, " "));
    return std::string();
  });
  srv.add_command("fdb/show", 1, 1, "BRIDGE",
                  [&of](const UnixctlArgs& a) { return fdb_show(of, a[0]); });
  srv.add_command("fdb/flush", 0, 1, "[BRIDGE]", [&of](const UnixctlArgs& a) {
    if (!a.empty()) of.require_bridge(a[0]);
    of.fdb_flush(a.empty() ? "" : a[0]);
    return std::string("table successfully flushed\n");
  });
  srv.add_command("dpctl/dump-flows", 0, 3, "[DP]",
                  [&sw](const UnixctlArgs&) { return sw.dpctl_dump_flows(); });
  srv.add_command("dpctl/show", 0, 2, "[DP]",
                  [&sw](const UnixctlArgs&) { return sw.dpctl_show(); });
  auto stats = [&sw](const UnixctlArgs&) { return sw.pmd_stats_show(); };
  srv.add_command("pmd-stats-show", 0, 3, "", stats);
  srv.add_command("dpif-netdev/pmd-stats-show", 0, 3, "[-pmd core] [dp]", stats);
  auto clear = [&sw](const UnixctlArgs&) {
    sw.pmd_stats_clear();
    return std::string();
  };
  srv.add_command("pmd-stats-clear", 0, 3, "", clear);
  srv.add_command("dpif-netdev/pmd-stats-clear", 0, 3, "[-pmd core] [dp]", clear);
  srv.add_command("ofproto/trace", 2, -1, "BRIDGE FLOW [--ct-next STATES]...",
                  [&of](const UnixctlArgs& a) { return trace_args(of, a); });
  const Clock* clock = sw.options().datapath.clock;
  ct::register_dpctl_conntrack(srv, sw.conntrack(), [clock] { return clock->now_ms(); });
  srv.add_command("exit", 0, 0, "", [fn = std::move(on_exit)](const UnixctlArgs&) {
    if (fn) fn();
    return std::string();
  });
}

}  // namespace flowpath
