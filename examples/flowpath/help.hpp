// flowpath CLI help: one entry per subcommand, shown by `flowpath --help`
// (one line and an example each, as `ovs-vsctl --help` does) and by
// `flowpath COMMAND --help` (usage, what it prints where, exit status).
// tests/cli/help_test.sh checks that every command has an entry.
#pragma once
#include <string_view>

namespace flowpath_cli {

struct CommandHelp {
  std::string_view name;
  std::string_view summary;  // one line for `flowpath --help`
  std::string_view usage;    // after "usage: flowpath "
  std::string_view example;  // one runnable command line
  std::string_view details;  // options, output (stdout/stderr), exit status
};

inline constexpr CommandHelp kHelp[] = {
    {"classify", "classify a ClassBench trace against its rule set",
     "classify --rules RULES --trace TRACE",
     "flowpath classify --rules acl1_1k.gz --trace acl1_1k_cb.trace.gz",
     "  RULES, TRACE  a ClassBench rule set and trace (plain or .gz)\n"
     "prints: on stdout one answer per trace line, the 0-based index of the\n"
     "  matching rule (-1: none; the first rule has the highest priority);\n"
     "  on stderr rules, tables, build time, memory and ns per lookup.\n"
     "exit: 0 ok, 1 unreadable or malformed input, 2 bad usage.\n"},
    {"ctl", "send a command to a running switch (as ovs-appctl -t SOCKET)",
     "ctl [--socket PATH] COMMAND [ARGS...]",
     "flowpath ctl --socket /run/flowpath/flowpath.1234.ctl dpif-netdev/pmd-stats-show",
     "  --socket PATH  the switch's control socket (default: the only *.ctl in\n"
     "                 /run/flowpath)\n"
     "  COMMAND        e.g. show, bridge/dump-flows BR, fdb/show BR,\n"
     "                 ofproto/trace BR FLOW, add-flow BR FLOW; list-commands\n"
     "                 lists them all\n"
     "prints: the switch's reply on stdout, an error reply on stderr.\n"
     "exit: 0 ok, 2 the command failed (as ovs-appctl), 1 no switch there.\n"},
    {"flows", "print each packet's flow key in ovs-ofctl match syntax",
     "flows [--in-port N] FILE.pcap", "flowpath flows --in-port 1 trace.pcap",
     "  --in-port N  the in_port to report (default 0)\n"
     "prints: on stdout one line per packet (every field it has, e.g.\n"
     "  udp,in_port=1,dl_vlan=1000,...,tp_dst=53; a malformed frame ends in\n"
     "  \"  # malformed\"), then a count of packets and malformed ones.\n"
     "exit: 0 ok, 1 missing/non-pcap/damaged file (message on stderr), 2 usage.\n"},
    {"parse-flows", "check and normalise ovs-ofctl flow text (as ovs-ofctl parse-flows)",
     "parse-flows FILE", "flowpath parse-flows tests/flow/data/flows.txt",
     "  FILE  one flow per line in ovs-ofctl syntax; # comments, blank lines\n"
     "prints: on stdout each flow normalised as ovs-ofctl parse-flows prints\n"
     "  it; on stderr FILE:LINE: reason for each bad line.\n"
     "exit: 0 all lines good, 1 some line bad (all lines are still checked).\n"},
    {"replay", "run a configuration's bridges over pcap files (no root needed)",
     "replay --config FILE --in PORT=FILE.pcap [--in ...] --out-dir DIR",
     "flowpath replay --config examples/compute_node/compute-node.conf "
     "--in vm1=vm1.pcap --out-dir out",
     "  --config FILE         bridges, ports and flows (docs/bridges.md)\n"
     "  --in PORT=FILE.pcap   frames received on PORT (repeatable)\n"
     "  --out-dir DIR         DIR/PORT.pcap receives what left each port\n"
     "prints: on stdout per-port rx/tx/drop counts, each bridge's\n"
     "  dump-flows and the datapath's pmd-stats-show.\n"
     "exit: 0 ok, 1 bad config or unreadable input, 2 bad usage.\n"},
    {"switch", "run the bridges over AF_XDP/TAP ports with a control socket (root)",
     "switch (--config FILE | --db REMOTE) [--pmd-cores LIST] [--ctl PATH] [--generic]",
     "flowpath switch --config examples/compute_node/compute-node.conf --pmd-cores 1",
     "  --config FILE     bridges, ports and flows from a file, read once\n"
     "  --db REMOTE       follow an Open_vSwitch database (ovsdb-server at\n"
     "                    unix:PATH or tcp:IP:PORT) live, as ovs-vswitchd:\n"
     "                    ovs-vsctl add-br/add-port/set/del-port take effect\n"
     "                    at once; writes back ofport (-1 and error for an\n"
     "                    interface it cannot open), link_state, mac_in_use,\n"
     "                    datapath_id and cur_cfg.  Types: afxdp, \"\" and\n"
     "                    system -> AF_XDP; internal -> TAP; patch.\n"
     "  --pmd-cores LIST  cores of the polling threads, e.g. 1 or 1,2 (default:\n"
     "                    the last CPU, one thread)\n"
     "  --ctl PATH        control socket (default /run/flowpath/flowpath.<pid>.ctl)\n"
     "  --generic         attach XDP in generic (SKB) mode\n"
     "prints: on stdout the ports and PMD threads once started; runs until\n"
     "  SIGINT/SIGTERM or `flowpath ctl exit`, then detaches everything.\n"
     "exit: 0 clean stop, 1 bad config or a port that cannot be opened\n"
     "  (--config; with --db such a port is an error in the database),\n"
     "  2 bad usage.\n"},
    {"trace", "show how a bridge handles a packet (as ovs-appctl ofproto/trace)",
     "trace --config FILE BRIDGE FLOW",
     "flowpath trace --config examples/compute_node/compute-node.conf br-int "
     "in_port=vm1,dl_dst=ff:ff:ff:ff:ff:ff",
     "  FLOW  the packet in ovs-ofctl match syntax; in_port may be any port,\n"
     "        patch ports included\n"
     "prints: on stdout each table and rule consulted, the actions, the\n"
     "  megaflow and the final \"Datapath actions:\" line, on a switch fresh\n"
     "  from FILE (empty MAC table).\n"
     "exit: 0 ok, 1 bad config, bridge or flow text (message on stderr),\n"
     "  2 bad usage.\n"},
};

inline const CommandHelp* find_help(std::string_view name) {
  for (const auto& h : kHelp)
    if (h.name == name) return &h;
  return nullptr;
}

}  // namespace flowpath_cli
