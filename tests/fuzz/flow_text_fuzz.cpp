// libFuzzer over the ovs-ofctl flow text parser: any input either throws
// flowpath::Error or parses into a flow whose printed form parses back to
// the same flow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "flowpath/flow/ofctl_text.hpp"

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
  return 0;
}
