// flowpath/flow/ofctl_parse_flows.hpp — `ovs-ofctl parse-flows` in a
// library: each flow parsed as a flow-mod ADD, the OpenFlow protocols that
// can carry it, and the text ovs-ofctl prints for it.
#pragma once

#include <string>
#include <string_view>

#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath {

/// The protocols `-O` allows: OpenFlow 1.0 (ovs-ofctl's default: OpenFlow
/// 1.0 with or without Nicira extensions) or OpenFlow 1.3.
enum class OfProtocolSet { kOpenFlow10, kOpenFlow13 };

/// One flow as `ovs-ofctl parse-flows` prints it alone.
struct FlowModText {
  bool ok = false;
  std::string usable;   // "usable protocols: " line, without the prefix
  std::string message;  // "OFPT_FLOW_MOD (xid=0x1): ADD ..."
  std::string error;    // when !ok
};

inline FlowModText parse_flow_mod_text(std::string_view text, OfProtocolSet allowed,
                                       unsigned xid = 1) {
  FlowModText r;
  try {
    OfctlFlow f = parse_flow(text);
    r.ok = true;
    r.usable = "any";
    char b[64];
    std::snprintf(b, sizeof b, "OFPT_FLOW_MOD%s (xid=0x%x): ADD ",
                  allowed == OfProtocolSet::kOpenFlow13 ? " (OF1.3)" : "", xid);
    r.message = b + format_flow_mod(f);
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace flowpath
