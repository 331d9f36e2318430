// flowpath/openflow/decode_stats.hpp — stats/multipart and Nicira vendor
// message decoders, and the type dispatch (dec::body) used by decode().
//
// Cost: linear in the message.  Thread-safety: pure functions.
#pragma once

#include "flowpath/openflow/decode_body.hpp"

namespace flowpath::openflow::dec {

inline StatsType stats_type(uint16_t t) {
  switch (t) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 12:
    case 13:
      return StatsType(t);
    default:
      throw DecodeError(OfpErrc::kBadStat, "stats type " + std::to_string(t));
  }
}

inline void flow_filter(Reader& r, uint8_t v, StatsRequest& s) {
  if (v == kOfp10) {
    s.match = decode_of10_match(r);
    s.table_id = r.u8();
    r.skip(1);
    s.out_port = r.u16();
    return;
  }
  s.match_format = MatchFormat::kOxm;
  s.table_id = r.u8();
  r.skip(3);
  auto out = nxm::port_from_of13(r.u32());
  s.out_port = out ? *out : kOfppNone;
  s.out_group = r.u32();
  r.skip(4);
  s.cookie = r.u64();
  s.cookie_mask = r.u64();
  s.match = decode_oxm_match(r);
}

/// NXST_FLOW / NXST_AGGREGATE request body (after the 24-byte header).
inline void nx_flow_filter(Reader& r, StatsRequest& s) {
  s.match_format = MatchFormat::kNxm;
  s.out_port = r.u16();
  uint16_t match_len = r.u16();
  s.table_id = r.u8();
  r.skip(3);
  TlvCookie c;
  s.match = nxm_match(r, match_len, &c);
  s.cookie = c.value, s.cookie_mask = c.mask;
}

inline StatsRequest stats_request(Reader& r, uint8_t v) {
  StatsRequest s;
  uint16_t type = r.u16();
  s.flags = r.u16();
  if (v != kOfp10) r.skip(4);
  if (type == 0xffff) {
    uint32_t vendor = r.u32();
    if (vendor != kNiciraVendor) throw DecodeError(OfpErrc::kBadVendor, "stats vendor");
    uint32_t sub = r.u32();
    if (v != kOfp10 || sub > 1) throw DecodeError(OfpErrc::kBadSubtype, "Nicira stats subtype");
    r.skip(4);
    s.type = sub == 0 ? StatsType::kFlow : StatsType::kAggregate;
    nx_flow_filter(r, s);
    done(r);
    return s;
  }
  s.type = stats_type(type);
  switch (s.type) {
    case StatsType::kFlow:
    case StatsType::kAggregate:
      flow_filter(r, v, s);
      break;
    case StatsType::kPort:
      s.port_no = v == kOfp10 ? r.u16() : [&] {
        auto p = nxm::port_from_of13(r.u32());
        return p ? *p : kOfppNone;
      }();
      r.skip(v == kOfp10 ? 6 : 4);
      break;
    case StatsType::kTableFeatures:  // a request with features would set them
      if (!r.empty()) throw DecodeError(OfpErrc::kBadLen, "table-features request with a body");
      break;
    default:
      break;
  }
  done(r);
  return s;
}

inline FlowStats flow_stats(Reader& r, uint8_t v, bool nx) {
  FlowStats f;
  uint16_t len = r.u16();
  if (len < 4) throw DecodeError(OfpErrc::kBadLen, "flow stats entry length");
  Reader x = r.sub(len - 2u);
  f.table_id = x.u8();
  x.skip(1);
  if (v == kOfp10 && !nx) f.match = decode_of10_match(x);
  f.duration_sec = x.u32();
  f.duration_nsec = x.u32();
  f.priority = x.u16();
  f.idle_timeout = x.u16();
  f.hard_timeout = x.u16();
  uint16_t match_len = 0;
  if (nx)
    match_len = x.u16(), f.idle_age = x.u16(), f.hard_age = x.u16();
  else if (v == kOfp10)
    x.skip(6);
  else
    f.flags = x.u16(), f.importance = v >= kOfp14 ? x.u16() : (x.skip(2), 0), x.skip(2);
  f.cookie = x.u64();
  f.packet_count = x.u64();
  f.byte_count = x.u64();
  if (nx) f.match = nxm_match(x, match_len, nullptr);
  if (v != kOfp10) {
    f.match = decode_oxm_match(x);
    f.instructions =
        decode_instructions(x.sub(x.remaining(), OfpErrc::kInstBadLen, "instructions"));
  } else {
    f.instructions.actions =
        decode_actions(x.sub(x.remaining(), OfpErrc::kActionBadLen, "actions"), v);
  }
  return f;
}

inline void stats_reply_body(Reader& r, uint8_t v, StatsReply& s, bool nx) {
  switch (s.type) {
    case StatsType::kDesc:
      s.desc = {r.str(256), r.str(256), r.str(256), r.str(32), r.str(256)};
      break;
    case StatsType::kFlow:
      while (!r.empty()) s.flows.push_back(flow_stats(r, v, nx));
      break;
    case StatsType::kAggregate:
      s.aggregate.packet_count = r.u64();
      s.aggregate.byte_count = r.u64();
      s.aggregate.flow_count = r.u32();
      r.skip(4);
      break;
    case StatsType::kTable:
      while (!r.empty()) {
        TableStats t;
        t.table_id = r.u8();
        r.skip(3);
        if (v == kOfp10) t.name = r.str(32), t.wildcards = r.u32(), t.max_entries = r.u32();
        t.active_count = r.u32();
        t.lookup_count = r.u64();
        t.matched_count = r.u64();
        s.tables.push_back(t);
      }
      break;
    case StatsType::kPort:
      while (!r.empty() && v >= kOfp14) {
        PortStats p;
        uint16_t len = r.u16();
        if (len < 80 || len - 2u > r.remaining())
          throw DecodeError(OfpErrc::kBadLen, "port stats: length " + std::to_string(len));
        Reader x = r.sub(len - 2u);
        x.skip(2);
        p.port_no = port(x, v);
        p.duration_sec = x.u32(), p.duration_nsec = x.u32();
        for (size_t i = 0; i < 8; ++i) p.counters[i] = x.u64();
        properties(x, "port stats", [&](uint16_t type, Reader& b) {
          if (type != 0) return;
          if (b.remaining() != 36)
            throw DecodeError(OfpErrc::kBadLen, "port stats: ethernet property length");
          b.skip(4);
          for (size_t i = 8; i < 12; ++i) p.counters[i] = b.u64();
        });
        s.ports.push_back(p);
      }
      while (!r.empty()) {
        PortStats p;
        p.port_no = port(r, v);
        r.skip(v == kOfp10 ? 6 : 4);
        for (auto& c : p.counters) c = r.u64();
        if (v != kOfp10) p.duration_sec = r.u32(), p.duration_nsec = r.u32();
        s.ports.push_back(p);
      }
      break;
    case StatsType::kPortDesc:
      while (!r.empty()) s.port_descs.push_back(port_desc(r, v));
      break;
    case StatsType::kTableFeatures:
      while (!r.empty()) {
        uint16_t len = r.u16();
        if (len < 64) throw DecodeError(OfpErrc::kBadLen, "table-features entry length");
        Reader x = r.sub(len - 2u);
        TableFeatures t;
        t.table_id = x.u8();
        x.skip(5);
        t.name = x.str(32);
        t.metadata_match = x.u64();
        t.metadata_write = x.u64();
        t.config = x.u32();
        t.max_entries = x.u32();
        s.table_features.push_back(t);  // properties skipped
      }
      break;
  }
  done(r);
}

inline StatsReply stats_reply(Reader& r, uint8_t v) {
  StatsReply s;
  uint16_t type = r.u16();
  s.flags = r.u16();
  if (v != kOfp10) r.skip(4);
  bool nx = false;
  if (type == 0xffff) {
    if (r.u32() != kNiciraVendor) throw DecodeError(OfpErrc::kBadVendor, "stats vendor");
    uint32_t sub = r.u32();
    if (v != kOfp10 || sub > 1) throw DecodeError(OfpErrc::kBadSubtype, "Nicira stats subtype");
    r.skip(4);
    nx = true;
    s.match_format = MatchFormat::kNxm;
    type = uint16_t(sub + 1);
  } else if (v != kOfp10) {
    s.match_format = MatchFormat::kOxm;
  }
  s.type = stats_type(type);
  stats_reply_body(r, v, s, nx);
  return s;
}

/// The bundle body after its header (and, in 1.3, the ONF experimenter
/// header): ofp14_bundle_ctrl_msg, then the inner message of an add.
inline MessageBody bundle(Reader& r, uint8_t v, uint32_t xid, bool add) {
  uint32_t id = r.u32();
  uint16_t type = r.u16();
  uint16_t flags = r.u16();
  if (!add) {
    if (type > uint16_t(BundleCtrlType::kDiscardReply))
      throw DecodeError(OfpErrc::kBundleBadType, "bundle control type " + std::to_string(type));
    r.skip(r.remaining());  // properties (1.4), ignored as OVS does
    return BundleControl{id, BundleCtrlType(type), flags};
  }
  if (r.remaining() < kHeaderLen)
    throw DecodeError(OfpErrc::kBundleMsgBadLen, "bundle add: no inner message header");
  const uint8_t* h = r.cur();
  size_t len = size_t(h[2]) << 8 | h[3];
  uint32_t inner_xid = uint32_t(h[4]) << 24 | uint32_t(h[5]) << 16 | uint32_t(h[6]) << 8 | h[7];
  if (h[0] != v)
    throw DecodeError(OfpErrc::kBadVersion, "bundle add: inner message of version " +
                                                std::to_string(h[0]) + " in " + std::to_string(v));
  if (len < kHeaderLen || len > r.remaining())
    throw DecodeError(OfpErrc::kBundleMsgBadLen, "bundle add: inner length " + std::to_string(len) +
                                                     ", " + std::to_string(r.remaining()) +
                                                     " bytes left");
  if (inner_xid != xid)
    throw DecodeError(
        OfpErrc::kBundleMsgBadXid,
        "bundle add: inner xid " + std::to_string(inner_xid) + " != outer " + std::to_string(xid));
  BundleAdd a{id, flags, rest(r)};
  a.message.resize(len);  // 1.4 properties after it are skipped
  return a;
}

inline MessageBody vendor(Reader& r, uint8_t v, uint32_t xid) {
  uint32_t vendor = r.u32();
  if (vendor == kOnfExperimenter && v == kOfp13) {
    uint32_t sub = r.u32();
    if (sub == 2300 || sub == 2301) return bundle(r, v, xid, sub == 2301);
    throw DecodeError(OfpErrc::kBadSubtype, "ONF experimenter type " + std::to_string(sub));
  }
  if (vendor != kNiciraVendor)
    throw DecodeError(OfpErrc::kBadVendor, "vendor " + std::to_string(vendor));
  uint32_t sub = r.u32();
  MessageBody out;
  switch (sub) {
    case 12:
      out = SetFlowFormat{r.u32()};
      break;
    case 13:
      if (v != kOfp10) throw DecodeError(OfpErrc::kBadSubtype, "NXT_FLOW_MOD outside OpenFlow 1.0");
      return flow_mod_nx(r);
    case 15:
      out = FlowModTableId{r.u8() != 0};
      r.skip(7);
      break;
    case 16:
      out = SetPacketInFormat{r.u32()};
      break;
    default:
      throw DecodeError(OfpErrc::kBadSubtype, "Nicira subtype " + std::to_string(sub));
  }
  done(r);
  return out;
}

inline MessageBody body(uint8_t v, uint8_t type, Reader& r, uint32_t xid = 0) {
  auto empty = [&](auto msg) -> MessageBody {
    done(r);
    return msg;
  };
  bool v10 = v == kOfp10;
  switch (type) {
    case 1:
      return error(r);
    case 2:
      return EchoRequest{rest(r)};
    case 3:
      return EchoReply{rest(r)};
    case 4:
      return vendor(r, v, xid);
    case 5:
      return empty(FeaturesRequest{});
    case 6:
      return features_reply(r, v);
    case 7:
      return empty(GetConfigRequest{});
    case 8:
      return config(r, false);
    case 9:
      return config(r, true);
    case 10:
      return packet_in(r, v);
    case 11:
      return flow_removed(r, v);
    case 12:
      return port_status(r, v);
    case 13:
      return packet_out(r, v);
    case 14:
      return v10 ? flow_mod_of10(r) : flow_mod_of13(r, v);
  }
  if (v >= kOfp14 && (type == 33 || type == 34)) return bundle(r, v, xid, type == 34);
  if (type == (v10 ? 15 : 16)) return port_mod(r, v);
  if (type == (v10 ? 16 : 18)) return stats_request(r, v);
  if (type == (v10 ? 17 : 19)) return stats_reply(r, v);
  if (type == (v10 ? 18 : 20)) return empty(BarrierRequest{});
  if (type == (v10 ? 19 : 21)) return empty(BarrierReply{});
  throw DecodeError(OfpErrc::kBadType, "OpenFlow message type " + std::to_string(type));
}

}  // namespace flowpath::openflow::dec
