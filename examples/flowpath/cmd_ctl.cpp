// flowpath ctl [--socket PATH] COMMAND [ARGS...]
//   Sends COMMAND to a running `flowpath switch` over its control socket
//   (Open vSwitch's unixctl protocol; `ovs-appctl -t PATH` works too) and
//   prints the reply.  Without --socket: the only *.ctl in /run/flowpath.
//   `flowpath ctl list-commands` lists what the switch understands.
//   Exit status: 0 ok, 2 the command failed (as ovs-appctl), 1 no switch.
#include <cstdio>
#include <string>
#include <vector>

#include "flowpath/control/unixctl_client.hpp"

namespace flowpath_cli {

int cmd_ctl(int argc, char** argv) {
  std::string sock;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--socket" || a == "-t" || a == "--target") && i + 1 < argc) {
      sock = argv[++i];
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: flowpath ctl [--socket PATH] COMMAND [ARGS...]\n"
          "  e.g. flowpath ctl show | dump-flows br-int | pmd-stats-show | "
          "list-commands\n");
      return 0;
    } else {
      break;
    }
  }
  if (i >= argc) {
    std::fprintf(stderr, "usage: flowpath ctl [--socket PATH] COMMAND [ARGS...]\n");
    return 2;
  }
  std::string cmd = argv[i++];
  std::vector<std::string> args(argv + i, argv + argc);
  try {
    if (sock.empty()) sock = flowpath::find_control_socket();
    flowpath::UnixctlReply r = flowpath::unixctl_call(sock, cmd, args);
    if (!r.ok) {
      std::fprintf(stderr, "%s\nflowpath ctl: %s: command failed\n", r.error.c_str(), sock.c_str());
      return 2;
    }
    std::fputs(r.result.c_str(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath ctl: %s\n", e.what());
    return 1;
  }
}

}  // namespace flowpath_cli
