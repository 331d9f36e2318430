// flowpath parse-flows [-O VERSIONS | --protocols=VERSIONS] FILE — reads
// ovs-ofctl flow text, one flow per line (`#` comments and blank lines
// ignored), and prints what `ovs-ofctl parse-flows FILE` prints: "usable
// protocols: ...", "chosen protocol: ..." and one flow-mod message per flow
// ("OFPT_FLOW_MOD (xid=0x1): ADD ...", NXT_FLOW_MOD when Nicira extensions
// are needed, "(OF1.3)" with -O OpenFlow13).  VERSIONS: OpenFlow10
// (default), OpenFlow13, or both, comma-separated.  The first bad line
// stops it: "flowpath: FILE:LINE: message" on stderr, nothing on stdout,
// exit status 1; "no usable protocol" when the flows need a protocol
// VERSIONS does not allow.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "flowpath/flow/ofctl_parse_flows.hpp"

namespace flowpath_cli {

int cmd_parse_flows(int argc, char** argv) {
  const char* usage =
      "usage: flowpath parse-flows [-O VERSIONS | --protocols=VERSIONS] FILE\n"
      "  prints each flow of FILE as `ovs-ofctl parse-flows` does (usable protocols,\n"
      "  chosen protocol, one flow-mod per flow); VERSIONS: OpenFlow10 (default),\n"
      "  OpenFlow13 or OpenFlow10,OpenFlow13\n";
  std::string versions = "OpenFlow10";
  const char* file = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(usage, stdout);
      return 0;
    } else if ((a == "-O" || a == "--protocols") && i + 1 < argc) {
      versions = argv[++i];
    } else if (a.starts_with("-O") && a.size() > 2) {
      versions = std::string(a.substr(2));
    } else if (a.starts_with("--protocols=")) {
      versions = std::string(a.substr(12));
    } else if (!file && !a.starts_with("-")) {
      file = argv[i];
    } else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (!file) {
    std::fputs(usage, stderr);
    return 2;
  }
  uint32_t allowed = flowpath::protocols_from_versions(versions);
  if (!allowed) {
    std::fprintf(stderr, "flowpath: %s: unsupported OpenFlow versions (OpenFlow10, OpenFlow13)\n",
                 versions.c_str());
    return 2;
  }
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "flowpath: %s: open failed (%s)\n", file, std::strerror(errno));
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto r = flowpath::parse_flows_file(lines, allowed, file);
  std::cout << r.out << std::flush;
  if (r.status) std::fprintf(stderr, "flowpath: %s\n", r.error.c_str());
  return r.status;
}

}  // namespace flowpath_cli
