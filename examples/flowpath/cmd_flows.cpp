// flowpath flows [--in-port N] FILE.pcap — parses every frame of a pcap
// file and prints its flow key, one line per packet, in ovs-ofctl match
// syntax (every field the packet has, e.g. `udp,in_port=0,dl_vlan=1000,
// dl_src=...,nw_src=...,tp_dst=53`).  A malformed frame's line ends in
// "  # malformed" and shows the layers that were complete.  The last line
// counts packets and malformed ones.
//
// Packets go the way the datapath takes them: PcapPort::rx_burst into a
// Batch of up to 32, then parse_batch.  Exit status: 0; 1 when the file is
// missing, not pcap, not Ethernet, or damaged (the packets before the
// damage are printed first; the message goes to stderr); 2 for bad usage.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "flowpath/core/error.hpp"
#include "flowpath/flow/ofctl_match_format.hpp"
#include "flowpath/io/pcap_port.hpp"
#include "flowpath/parse/parser.hpp"

namespace flowpath_cli {

namespace {
int flows_usage() {
  std::fprintf(stderr, "usage: flowpath flows [--in-port N] FILE.pcap\n");
  return 2;
}
}  // namespace

int cmd_flows(int argc, char** argv) {
  uint32_t in_port = 0;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--in-port" && i + 1 < argc) {
      char* end = nullptr;
      unsigned long v = std::strtoul(argv[++i], &end, 10);
      if (*end || end == argv[i] || v > 0xffffffffu) return flows_usage();
      in_port = uint32_t(v);
    } else if (a == "-h" || a == "--help" || path || a.starts_with("-")) {
      return flows_usage();
    } else {
      path = argv[i];
    }
  }
  if (!path) return flows_usage();

  try {
    flowpath::PcapPort port({.port_no = in_port, .in_path = path});
    flowpath::Batch batch;
    flowpath::ParseStats stats;
    std::string out;
    while (port.rx_burst(batch)) {
      flowpath::parse_batch(batch, stats);
      out.clear();
      for (uint32_t i = 0; i < batch.size(); ++i) {
        out += flowpath::format_key(batch.keys[i]);
        out += batch[i].meta.malformed ? "  # malformed\n" : "\n";
      }
      std::fputs(out.c_str(), stdout);
      batch.clear();
    }
    std::printf("%llu packets, %llu malformed\n", (unsigned long long)stats.packets,
                (unsigned long long)stats.malformed);
    if (!port.error().empty()) {
      std::fflush(stdout);
      std::fprintf(stderr, "flowpath flows: %s\n", port.error().c_str());
      return 1;
    }
  } catch (const flowpath::Error& e) {
    std::fprintf(stderr, "flowpath flows: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace flowpath_cli
