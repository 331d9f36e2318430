// flowpath/openflow/encode_stats.hpp — stats/multipart request and reply
// encoders (OpenFlow 1.0, 1.3, and Nicira NXST_FLOW / NXST_AGGREGATE).
//
// Cost: linear.  Thread-safety: pure functions.
#pragma once

#include "flowpath/openflow/encode_body.hpp"
#include "flowpath/openflow/tlv_plan.hpp"

namespace flowpath::openflow::enc {

inline bool nx_stats(uint8_t v, MatchFormat f, StatsType t) {
  return v10(v) && f == MatchFormat::kNxm && (t == StatsType::kFlow || t == StatsType::kAggregate);
}

inline void stats_header(Writer& w, uint8_t v, StatsType type, uint16_t flags, bool nx) {
  w.u16(nx ? 0xffff : uint16_t(type));
  w.u16(flags);
  if (!v10(v)) w.zeros(4);
  if (nx) w.u32(kNiciraVendor), w.u32(type == StatsType::kFlow ? 0 : 1), w.zeros(4);
}

inline uint8_t body(Writer& w, uint8_t v, const StatsRequest& s) {
  bool nx = nx_stats(v, s.match_format, s.type);
  stats_header(w, v, s.type, s.flags, nx);
  if (s.type == StatsType::kFlow || s.type == StatsType::kAggregate) {
    if (nx) {
      port(w, v, s.out_port);
      size_t len_at = w.size();
      w.u16(0), w.u8(s.table_id), w.zeros(3);
      TlvCookie c{s.cookie, s.cookie_mask};
      padded_nxm(w, len_at, s.match, &c);
    } else if (v10(v)) {
      encode_of10_match(w, s.match);
      w.u8(s.table_id), w.zeros(1);
      port(w, v, s.out_port);
    } else {
      w.u8(s.table_id), w.zeros(3);
      w.u32(s.out_port == kOfppNone ? 0xffffffffu : nxm::port_to_of13(s.out_port));
      w.u32(s.out_group), w.zeros(4);
      w.u64(s.cookie), w.u64(s.cookie_mask);
      encode_oxm_match(w, s.match);
    }
  } else if (s.type == StatsType::kPort) {
    if (v10(v))
      port(w, v, s.port_no), w.zeros(6);
    else
      w.u32(s.port_no == kOfppNone ? 0xffffffffu : nxm::port_to_of13(s.port_no)), w.zeros(4);
  }
  return v10(v) ? 16 : 18;
}

/// One flow stats entry from its parts: every field of `f` but its match
/// and instructions, which come from `match`, `actions` (apply-actions and
/// goto_table), `write` (write-actions) and `clear` (clear-actions), so a
/// switch can encode its rules in place instead of copying each into a
/// FlowStats.  `plans` (optional) encodes the match through a plan cache:
/// the same bytes, the field walk once per mask shape (openflow/tlv_plan.hpp).
inline void flow_stats(Writer& w, uint8_t v, const FlowStats& f, const Match& match,
                       const OfActionList& actions, const OfActionList& write, bool clear, bool nx,
                       TlvPlanCache* plans = nullptr) {
  size_t at = w.size();
  // The fixed fields in one run (a dump writes 100,000 of these).
  uint8_t* p;
  if (v10(v) && !nx) {
    w.u16(0), w.u8(f.table_id), w.zeros(1);
    encode_of10_match(w, match);
    p = w.extend(44);
  } else {
    p = w.extend(48);
    p[2] = f.table_id;
    p += 4;
  }
  size_t len_at = w.size() - 44 + 14;  // the NX match length, after hard_timeout
  p = store_be(p, f.duration_sec, 4), p = store_be(p, f.duration_nsec, 4);
  p = store_be(p, uint16_t(f.priority), 2), p = store_be(p, f.idle_timeout, 2);
  p = store_be(p, f.hard_timeout, 2);
  if (nx)
    p = store_be(p + 2, f.idle_age, 2), p = store_be(p, f.hard_age, 2);
  else if (v10(v))
    p += 6;
  else
    p = store_be(p, f.flags, 2), p = store_be(p, v >= kOfp14 ? f.importance : 0, 2), p += 2;
  p = store_be(p, f.cookie, 8), p = store_be(p, f.packet_count, 8);
  store_be(p, f.byte_count, 8);
  if (nx && plans) {
    size_t start = w.size();
    w.patch16(len_at, plans->encode(w, match, TlvDialect::kNxm));
    w.pad_to(8, start);
  } else if (nx) {
    padded_nxm(w, len_at, match, nullptr);
  }
  if (!v10(v)) {
    if (plans)
      encode_oxm_match(w, match, *plans);
    else
      encode_oxm_match(w, match);
    encode_instructions(w, actions, write, clear, match);
  } else if (write.empty()) {  // the usual case: no copy per flow
    encode_actions(w, actions, kOfp10, match);
  } else {
    OfActionList all = actions;
    all.insert(all.end(), write.begin(), write.end());
    encode_actions(w, all, kOfp10, match);
  }
  w.patch16(at, w.size() - at);
}

inline void flow_stats(Writer& w, uint8_t v, const FlowStats& f, bool nx,
                       TlvPlanCache* plans = nullptr) {
  const InstructionSet& s = f.instructions;
  flow_stats(w, v, f, f.match, s.actions, s.write_actions, s.clear_actions, nx, plans);
}

/// The eight properties OpenFlow 1.3 requires in a table-features entry
/// (OVS refuses entries without them), filled with what flowpath supports.
inline void table_feature_props(Writer& w) {
  auto prop = [&](uint16_t type, auto body) {
    size_t at = w.size();
    w.u16(type), w.u16(0);
    body();
    w.patch16(at + 2, w.size() - at);
    w.pad_to(8, at);
  };
  auto oxm_list = [&](bool writable) {
    for (const auto& t : nxm::kTlvFields) {
      if (t.cls != nxm::kOxmBasic) continue;
      if (writable && (t.fid == FieldId::kDlType || t.fid == FieldId::kNwProto)) continue;
      w.u32(nxm::header(t, false));
    }
  };
  auto actions = [&] {
    for (uint16_t a : {0, 17, 18, 25}) w.u16(a), w.u16(4);
  };
  prop(0, [&] {  // instructions: goto, write, apply, clear
    for (uint16_t i : {1, 3, 4, 5}) w.u16(i), w.u16(4);
  });
  prop(2, [] {});  // next tables: any later table (none listed)
  prop(4, actions);
  prop(6, actions);
  prop(8, [&] { oxm_list(false); });
  prop(10, [&] { oxm_list(false); });
  prop(12, [&] { oxm_list(true); });
  prop(14, [&] { oxm_list(true); });
}

inline void reply_body(Writer& w, uint8_t v, const StatsReply& s, bool nx) {
  switch (s.type) {
    case StatsType::kDesc:
      w.str(s.desc.mfr, 256), w.str(s.desc.hw, 256), w.str(s.desc.sw, 256);
      w.str(s.desc.serial, 32), w.str(s.desc.dp, 256);
      break;
    case StatsType::kFlow:
      for (const auto& f : s.flows) flow_stats(w, v, f, nx);
      break;
    case StatsType::kAggregate:
      w.u64(s.aggregate.packet_count), w.u64(s.aggregate.byte_count);
      w.u32(s.aggregate.flow_count), w.zeros(4);
      break;
    case StatsType::kTable:
      for (const auto& t : s.tables) {
        w.u8(t.table_id), w.zeros(3);
        if (v10(v)) w.str(t.name, 32), w.u32(t.wildcards), w.u32(t.max_entries);
        w.u32(t.active_count), w.u64(t.lookup_count), w.u64(t.matched_count);
      }
      break;
    case StatsType::kPort:
      for (const auto& p : s.ports) {
        if (v >= kOfp14) {  // ofp14_port_stats + OFPPSPT14_ETHERNET, as OVS
          w.u16(120), w.zeros(2);
          port(w, v, p.port_no);
          w.u32(p.duration_sec), w.u32(p.duration_nsec);
          for (size_t i = 0; i < 8; ++i) w.u64(p.counters[i]);
          w.u16(0), w.u16(40), w.zeros(4);
          for (size_t i = 8; i < 12; ++i) w.u64(p.counters[i]);
          continue;
        }
        port(w, v, p.port_no);
        w.zeros(v10(v) ? 6 : 4);
        for (uint64_t c : p.counters) w.u64(c);
        if (!v10(v)) w.u32(p.duration_sec), w.u32(p.duration_nsec);
      }
      break;
    case StatsType::kPortDesc:
      for (const auto& p : s.port_descs) port_desc(w, v, p);
      break;
    case StatsType::kTableFeatures:
      for (const auto& t : s.table_features) {
        size_t at = w.size();
        w.u16(0), w.u8(t.table_id), w.zeros(5), w.str(t.name, 32);
        w.u64(t.metadata_match), w.u64(t.metadata_write), w.u32(t.config), w.u32(t.max_entries);
        table_feature_props(w);
        w.patch16(at, w.size() - at);
      }
      break;
  }
}

inline uint8_t body(Writer& w, uint8_t v, const StatsReply& s) {
  bool nx = nx_stats(v, s.match_format, s.type);
  stats_header(w, v, s.type, s.flags, nx);
  reply_body(w, v, s, nx);
  return v10(v) ? 17 : 19;
}

}  // namespace flowpath::openflow::enc
