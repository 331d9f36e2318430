// libFuzzer over the ovs-ofctl flow text parser: any input either throws
// flowpath::Error or parses into a flow whose printed form parses back to
// the same flow; the parse-flows layer (protocol checks and per-protocol
// printing, flow/ofctl_parse_flows.hpp) never crashes and, when it takes a
// flow, names a usable protocol set and an ADD message for each -O.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "flowpath/flow/ofctl_parse_flows.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (auto mode : {flowpath::FlowTextMode::kAdd, flowpath::FlowTextMode::kFilter}) {
    try {
      flowpath::OfctlFlow f = flowpath::parse_flow(text, {}, mode);
      if (mode != flowpath::FlowTextMode::kAdd) continue;
      std::string printed = flowpath::format_flow(f);
      flowpath::OfctlFlow g = flowpath::parse_flow(printed);
      if (!(g.match == f.match) || flowpath::format_flow(g) != printed) std::abort();
    } catch (const flowpath::Error&) {
    }
  }
  for (auto set : {flowpath::OfProtocolSet::kOpenFlow10, flowpath::OfProtocolSet::kOpenFlow13}) {
    auto t = flowpath::parse_flow_mod_text(text, set);
    if (t.ok && (t.usable.empty() || t.message.find(": ADD ") == std::string::npos)) std::abort();
    // (An input with a NUL byte can cut the C-string message short.)
    if (!t.ok && t.error.empty() && text.find('\0') == std::string::npos) std::abort();
  }
  // The same text as a file of lines.
  std::vector<std::string> lines;
  for (size_t p = 0, q; p <= text.size(); p = q + 1) {
    q = text.find('\n', p);
    if (q == std::string::npos) q = text.size();
    lines.push_back(text.substr(p, q - p));
  }
  auto r = flowpath::parse_flows_file(lines, flowpath::ofproto::kOf10Any | flowpath::ofproto::kOf13,
                                      "fuzz");
  if (r.status == 0 && r.out.rfind("usable protocols: ", 0) != 0) std::abort();
  return 0;
}
