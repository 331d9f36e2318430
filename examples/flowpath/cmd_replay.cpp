// flowpath replay --config FILE --in PORT=FILE.pcap [--in ...] --out-dir DIR
//   Runs the configuration's bridges over pcap files (no root needed):
//   every non-patch port becomes pcap-backed, inputs are injected in
//   timestamp order, DIR/PORT.pcap receives what left each port.  Prints
//   per-port rx/tx/drop counts, dump-flows of every bridge and the
//   datapath's pmd-stats-show.
#include <cstdio>
#include <string>

#include "flowpath/bridge/replay.hpp"
#include "flowpath/bridge/views.hpp"

namespace flowpath_cli {

int cmd_replay(int argc, char** argv) {
  std::string config, out_dir;
  std::vector<flowpath::Replay::Input> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--config" && i + 1 < argc) config = argv[++i];
    else if (a == "--out-dir" && i + 1 < argc) out_dir = argv[++i];
    else if (a == "--in" && i + 1 < argc) {
      ++i;
      auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
        std::fprintf(stderr, "flowpath replay: bad --in '%s' (expected PORT=FILE.pcap)\n",
                     v.c_str());
        return 2;
      }
      inputs.push_back({v.substr(0, eq), v.substr(eq + 1)});
    } else {
      std::fprintf(stderr, "flowpath replay: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (config.empty() || out_dir.empty() || inputs.empty()) {
    std::fprintf(stderr,
                 "usage: flowpath replay --config FILE --in PORT=FILE.pcap [--in ...] "
                 "--out-dir DIR\n");
    return 2;
  }
  try {
    flowpath::Ofproto of(flowpath::SwitchConfig::load(config));
    flowpath::Replay replay(of, inputs, out_dir);
    uint64_t n = replay.run();
    std::printf("replayed %llu packets\n\n", static_cast<unsigned long long>(n));
    std::printf("%s\n", replay.port_stats().c_str());
    for (const auto& b : of.bridges())
      std::printf("%s:\n%s\n", b->name().c_str(), flowpath::dump_flows(of, b->name()).c_str());
    std::printf("%s", replay.datapath().pmd_stats_show().c_str());
    for (const auto& e : replay.errors()) std::fprintf(stderr, "flowpath replay: %s\n", e.c_str());
    return replay.errors().empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath replay: %s\n", e.what());
    return 1;
  }
}

}  // namespace flowpath_cli
