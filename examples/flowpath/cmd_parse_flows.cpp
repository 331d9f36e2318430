// flowpath parse-flows FILE — parses ovs-ofctl flow text, one flow per
// line (`#` comments and blank lines ignored), and prints each flow as
// `ovs-ofctl parse-flows` does after its "OFPT_FLOW_MOD (xid=...): ADD "
// prefix.  A bad line prints "FILE:LINE: message" on stderr; the exit
// status is then 1 (all lines are still checked).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "flowpath/core/error.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath_cli {

int cmd_parse_flows(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: flowpath parse-flows FILE\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open file\n", argv[1]);
    return 1;
  }
  int status = 0;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    auto text = flowpath::ofctl::trim(line);
    if (text.empty() || text.front() == '#') continue;
    try {
      std::cout << flowpath::format_flow_mod(flowpath::parse_flow(text)) << '\n';
    } catch (const flowpath::Error& e) {
      std::fprintf(stderr, "%s:%d: %s\n", argv[1], lineno, e.what());
      status = 1;
    }
  }
  return status;
}

}  // namespace flowpath_cli
