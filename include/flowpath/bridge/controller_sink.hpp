// flowpath/bridge/controller_sink.hpp — where packets for an OpenFlow
// controller leave the slow path: the hook between translation
// (bridge/xlate.hpp) and the OpenFlow channel (switch/openflow_service.hpp).
//
// Translation records every `output:CONTROLLER` it runs (and a table miss,
// when the bridge's sink asks for misses) as a ControllerOutput in its
// XlateResult.  Ofproto::upcall marks such a result uncacheable — every
// packet of the flow comes back to the slow path, as OVS's
// slow_path(controller) — and, for a real packet, hands one PacketInEvent
// per output to the bridge's ControllerSink: the frame as the actions
// before the controller output made it (controller_packet_in()).
//
// A sink is called from datapath threads with the Ofproto's lock held: it
// must not block (OpenFlowService's queues are bounded and count drops).
//
// Reasons: kAction (an explicit CONTROLLER action), kExplicitMiss (the
// action of a table-miss flow, priority 0 matching everything: OpenFlow
// 1.3 reports it as "no_match", 1.0 as "action", as OVS does) and
// kNoMatch (an implicit table miss, which OVS sends only to connections
// older than OpenFlow 1.3).
//
// Each ControllerOutput also carries the pipeline fields at that point
// (registers, ct_state/zone/mark/label, the connection's original tuple)
// for the packet-in's match.
//
// Thread-safety: a ControllerOutput is a plain value; sinks document their own.
#pragma once

#include <cstdint>
#include <vector>

#include "flowpath/action/executor.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/flow/ct_tuple.hpp"
#include "flowpath/flow/pipeline_meta.hpp"

namespace flowpath {

class Bridge;

enum class PacketInReason : uint8_t { kNoMatch, kAction, kExplicitMiss };

/// One packet-in decided by translation.
struct ControllerOutput {
  Bridge* bridge = nullptr;
  uint32_t in_port = 0;  // OpenFlow port of the packet in that bridge
  PacketInReason reason = PacketInReason::kAction;
  uint8_t table_id = 0;
  uint64_t cookie = ~0ull;  // the rule's; all-ones without one (packet-out, miss), as OVS
  uint16_t max_len = 0;     // 0: 65535 (OFPCML_NO_BUFFER)
  size_t action_index = 0;  // datapath actions emitted before it
  // The pipeline fields at the controller action, which an OpenFlow 1.3
  // packet-in's match carries when non-zero (as OVS): the connection
  // tracker's state as this pass sees it, registers and ct_label.
  uint8_t ct_state = 0;
  uint16_t ct_zone = 0;
  uint32_t ct_mark = 0;
  PipelineMeta meta{};
  CtTuple ct_tuple{};  // the connection's original direction (flow/ct_tuple.hpp)
  friend bool operator==(const ControllerOutput&, const ControllerOutput&) = default;
};

/// What a sink receives: the decision and the frame.
struct PacketInEvent {
  ControllerOutput out;
  std::vector<uint8_t> data;
};

class ControllerSink {
 public:
  virtual ~ControllerSink() = default;
  /// True when an implicit table miss goes to the controller (OVS: while an
  /// OpenFlow 1.0 connection that takes packet-ins is up).
  virtual bool miss_to_controller() const noexcept = 0;
  /// Takes one packet-in; must not block.
  virtual void packet_in(PacketInEvent&& ev) noexcept = 0;
};

/// The frame `pkt` as the datapath actions before `out.action_index`
/// rewrite it (outputs skipped); the original when none does.
inline PacketInEvent controller_packet_in(const Packet& pkt, const DpActionList& actions,
                                          const ControllerOutput& out) {
  PacketInEvent ev{out, {}};
  constexpr uint32_t kHeadroom = 64;  // room for VLAN pushes
  std::vector<uint8_t> buf(kHeadroom + pkt.size() + 64);
  std::copy(pkt.data(), pkt.data() + pkt.size(), buf.begin() + kHeadroom);
  Packet copy(buf.data(), uint32_t(buf.size()), kHeadroom, pkt.size());
  for (size_t i = 0; i < out.action_index && i < actions.size(); ++i)
    if (actions[i].type != DpActionType::kOutput) apply_action(copy, actions[i]);
  ev.data.assign(copy.data(), copy.data() + copy.size());
  return ev;
}

}  // namespace flowpath
