// flowpath/openflow/instructions.hpp — OpenFlow 1.3 instructions
// (APPLY_ACTIONS, WRITE_ACTIONS, CLEAR_ACTIONS, GOTO_TABLE) to and from
// flowpath's action lists.
//
// flowpath's tables execute one ordered OfActionList per rule in which
// goto_table is the last action (as the flow-text parser produces it), so
// decoding yields: `actions` = apply-actions + [goto_table], and the
// write-actions set separately (`write_actions`, executed by the bridge at
// the end of the pipeline; InstructionSet::flattened() appends it, which
// is what the action set does when no later table rewrites it).
// Encoding writes APPLY_ACTIONS (if any), WRITE_ACTIONS (if any),
// CLEAR_ACTIONS (if set), then GOTO_TABLE — OVS's order.
//
// Decoding errors: OFPET_BAD_INSTRUCTION with UNKNOWN_INST, UNSUP_INST
// (WRITE_METADATA, METER), BAD_LEN, BAD_TABLE_ID (goto 255).
//
// Cost: linear.  Thread-safety: pure functions.
#pragma once

#include "flowpath/openflow/actions.hpp"

namespace flowpath::openflow {

struct InstructionSet {
  OfActionList actions;        // apply-actions, then goto_table if any
  OfActionList write_actions;  // the write-actions set
  bool clear_actions = false;

  OfActionList flattened() const {
    OfActionList out = actions;
    out.insert(out.end(), write_actions.begin(), write_actions.end());
    return out;
  }
  friend bool operator==(const InstructionSet&, const InstructionSet&) = default;
};

inline InstructionSet decode_instructions(Reader r) {
  InstructionSet s;
  std::optional<uint8_t> goto_table;
  auto bad = [](OfpErrc e, const std::string& what) {
    throw DecodeError(e, "instruction: " + what);
  };
  uint32_t seen = 0;
  while (!r.empty()) {
    if (r.remaining() < 8) bad(OfpErrc::kInstBadLen, "trailing bytes");
    Reader peek(std::span(r.cur(), 4));
    uint16_t type = peek.u16(), len = peek.u16();
    if (len < 8 || len % 8 || len > r.remaining())
      bad(OfpErrc::kInstBadLen, "length " + std::to_string(len));
    Reader x = r.sub(len, OfpErrc::kInstBadLen, "instruction");
    x.skip(4);
    if (type >= 1 && type <= 6) {
      if (seen & (1u << type))
        bad(OfpErrc::kInstUnsup, "duplicate instruction " + std::to_string(type));
      seen |= 1u << type;
    }
    switch (type) {
      case 1: {
        if (len != 8) bad(OfpErrc::kInstBadLen, "goto_table length");
        uint8_t t = x.u8();
        if (t >= kOfNumTables) bad(OfpErrc::kInstBadTableId, "goto_table 255");
        goto_table = t;
        break;
      }
      case 3:
      case 4: {
        x.skip(4);
        OfActionList list =
            decode_actions(x.sub(x.remaining(), OfpErrc::kActionBadLen, "actions"), kOfp13);
        (type == 4 ? s.actions : s.write_actions) = std::move(list);
        break;
      }
      case 5:
        s.clear_actions = true;
        break;
      case 2:
      case 6:
        bad(OfpErrc::kInstUnsup, "write_metadata/meter not supported");
        break;  // bad() throws; no fall through into "unknown"
      default:
        bad(OfpErrc::kInstUnknown, "type " + std::to_string(type));
    }
  }
  if (goto_table) s.actions.push_back(OfAction::goto_table(*goto_table));
  return s;
}

/// The instructions from their parts (apply-actions with goto_table,
/// write-actions, clear-actions): a switch's rule encodes without a copy.
inline void encode_instructions(Writer& w, const OfActionList& actions,
                                const OfActionList& write_actions, bool clear_actions,
                                const Match& match) {
  auto list = [&](uint16_t type, const OfActionList& l) {
    size_t at = w.size();
    w.u16(type), w.u16(0), w.zeros(4);
    encode_actions(w, l, kOfp13, match);
    w.patch16(at + 2, w.size() - at);
  };
  bool apply = false;
  for (const auto& a : actions) apply |= a.type != OfActionType::kGotoTable;
  if (apply) list(4, actions);
  if (!write_actions.empty()) list(3, write_actions);
  if (clear_actions) w.u16(5), w.u16(8), w.zeros(4);
  for (const auto& a : actions)
    if (a.type == OfActionType::kGotoTable) w.u16(1), w.u16(8), w.u8(a.table), w.zeros(3);
}

inline void encode_instructions(Writer& w, const InstructionSet& s, const Match& match = {}) {
  encode_instructions(w, s.actions, s.write_actions, s.clear_actions, match);
}

}  // namespace flowpath::openflow
