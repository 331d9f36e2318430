// flowpath: the command-line tool.  Each subcommand lives in its own
// cmd_<name>.cpp (see examples/CMakeLists.txt); its help text lives in
// help.hpp.  `flowpath --help` lists the commands with one line and an
// example each; `flowpath COMMAND --help` (or `flowpath help COMMAND`)
// prints that command's usage, what it prints where, and its exit status.
#include <cstdio>
#include <string_view>

#include "flowpath_cli/commands.hpp"
#include "help.hpp"

static void usage(FILE* f) {
  std::fprintf(f,
               "flowpath: flow classification and an Open vSwitch-style switch\n"
               "usage: flowpath COMMAND [ARGS...]\n"
               "       flowpath COMMAND --help   (what COMMAND takes and prints)\n\n"
               "Commands:\n");
  for (const auto& c : flowpath_cli::kCommands) {
    const auto* h = flowpath_cli::find_help(c.name);
    std::fprintf(f, "  %-12.*s %.*s\n", int(c.name.size()), c.name.data(),
                 h ? int(h->summary.size()) : 0, h ? h->summary.data() : "");
    if (h) std::fprintf(f, "  %-12s e.g. %.*s\n", "", int(h->example.size()), h->example.data());
  }
}

static int command_help(std::string_view name) {
  const auto* h = flowpath_cli::find_help(name);
  if (!h) {
    std::fprintf(stderr, "flowpath: no help for '%.*s'\n", int(name.size()), name.data());
    return 2;
  }
  std::printf("flowpath %.*s: %.*s\nusage: flowpath %.*s\n%.*sexample: %.*s\n", int(h->name.size()),
              h->name.data(), int(h->summary.size()), h->summary.data(), int(h->usage.size()),
              h->usage.data(), int(h->details.size()), h->details.data(), int(h->example.size()),
              h->example.data());
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    if (name == "help" && argc > 2) return command_help(argv[2]);
    usage(stdout);
    return 0;
  }
  for (const auto& c : flowpath_cli::kCommands) {
    if (c.name != name) continue;
    if (argc == 3 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h"))
      return command_help(name);
    return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "flowpath: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
