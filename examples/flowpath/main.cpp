// flowpath: the command-line tool.  Each subcommand lives in its own
// cmd_<name>.cpp; see examples/CMakeLists.txt.
#include <cstdio>
#include <string_view>

#include "flowpath_cli/commands.hpp"

static void usage() {
  std::fprintf(stderr, "usage: flowpath COMMAND [ARGS...]\ncommands:\n");
  for (const auto& c : flowpath_cli::kCommands)
    std::fprintf(stderr, "  %.*s\n", int(c.name.size()), c.name.data());
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    usage();
    return 0;
  }
  for (const auto& c : flowpath_cli::kCommands)
    if (c.name == name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "flowpath: unknown command '%s'\n", argv[1]);
  usage();
  return 2;
}
