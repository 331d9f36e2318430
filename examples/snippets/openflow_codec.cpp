// The OpenFlow codec alone: negotiate a version from a peer's hello, frame
// a byte stream, decode a flow-mod into flowpath's Match and actions, and
// answer a malformed message with the OFPT_ERROR Open vSwitch would send;
// encode many matches of one shape through a TlvPlanCache (a flow dump's).
#include <cstdio>
#include <string>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/framing.hpp"
#include "flowpath/openflow/tlv_plan.hpp"

namespace of = flowpath::openflow;

int main() {
  // A controller offering OpenFlow 1.0 and 1.3 gets 1.3.
  auto n = of::negotiate_version(of::kOfp13, 1u << 1 | 1u << 4);
  std::printf("negotiated version 0x%02x\n", n.version);

  // A flow-mod as a controller would send it, from ovs-ofctl flow text.
  auto flow =
      flowpath::parse_flow("priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL");
  of::FlowMod fm;
  fm.match = flow.match;
  fm.priority = flow.priority;
  fm.instructions.actions = flow.actions;
  fm.match_format = of::MatchFormat::kOxm;
  std::vector<uint8_t> wire = of::encode(of::Message{n.version, 1, fm});
  wire.push_back(0x04);  // the first byte of the next message, split

  of::Framer framer;
  framer.feed(wire);
  while (auto frame = framer.next()) {
    auto r = of::decode_or_error(frame->bytes);
    if (r.error) return 1;
    const auto& got = std::get<of::FlowMod>(r.message.body);
    std::printf("flow-mod: %s\n", flowpath::format_match(got.match, got.priority).c_str());
    std::printf("actions: %s\n", flowpath::format_actions(got.instructions.actions).c_str());
  }

  // An unknown message type gets OFPET_BAD_REQUEST / OFPBRC_BAD_TYPE.
  std::vector<uint8_t> bad = {of::kOfp13, 99, 0, 8, 0, 0, 0, 7};
  auto r = of::decode_or_error(bad);
  auto err = std::get<of::ErrorMsg>(of::decode(*r.error).body);
  std::printf("error type=%u code=%u (%s)\n", err.type, err.code, r.what.c_str());

  // Matches of one shape: the field walk once, then the plan replayed.
  of::TlvPlanCache plans;
  std::vector<uint8_t> planned, walked;
  of::Writer pw(planned), ww(walked);
  for (int port : {10, 11, 12}) {
    auto m = flowpath::parse_match("tcp,in_port=" + std::to_string(port) + ",tp_dst=22");
    plans.encode(pw, m, of::TlvDialect::kNxm);
    of::encode_tlvs(ww, m, of::TlvDialect::kNxm);
  }
  std::printf("3 NXM matches: %zu bytes, %s\n", planned.size(),
              planned == walked ? "same as encode_tlvs" : "DIFFERENT");
  return err.type == 1 && err.code == 1 && planned == walked ? 0 : 1;
}
