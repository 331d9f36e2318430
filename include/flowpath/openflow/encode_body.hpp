// flowpath/openflow/encode_body.hpp — per-message body encoders behind
// openflow/encode.hpp.  Each returns the message's type number in its
// version after appending the body.
//
// Cost: linear.  Thread-safety: pure functions.
#pragma once

#include <algorithm>

#include "flowpath/openflow/messages.hpp"
#include "flowpath/openflow/of10_match.hpp"

namespace flowpath::openflow::enc {

inline bool v10(uint8_t v) { return v == kOfp10; }

inline void port(Writer& w, uint8_t v, uint32_t p) {
  if (v10(v)) {
    if (p > 0xffff) throw Error("port " + std::to_string(p) + " does not fit OpenFlow 1.0");
    w.u16(p);
  } else {
    w.u32(nxm::port_to_of13(p));
  }
}

/// Nicira vendor header (after ofp_header): vendor, subtype.
inline uint8_t nx_header(Writer& w, uint32_t subtype) {
  w.u32(kNiciraVendor);
  w.u32(subtype);
  return 4;
}

/// The bundle messages: OFPT_BUNDLE_CONTROL / OFPT_BUNDLE_ADD_MESSAGE
/// (33, 34) from 1.4; in 1.3 OVS's ONF extension; none in 1.0.
inline uint8_t body(Writer& w, uint8_t v, const BundleControl& b) {
  if (v10(v)) throw Error("encode: bundle control needs OpenFlow 1.3 or later");
  if (v == kOfp13) w.u32(kOnfExperimenter), w.u32(2300);
  w.u32(b.bundle_id), w.u16(uint16_t(b.type)), w.u16(b.flags);
  return v == kOfp13 ? 4 : 33;
}
inline uint8_t body(Writer& w, uint8_t v, const BundleAdd& b) {
  if (v10(v)) throw Error("encode: bundle add needs OpenFlow 1.3 or later");
  if (v == kOfp13) w.u32(kOnfExperimenter), w.u32(2301);
  w.u32(b.bundle_id), w.u16(0), w.u16(b.flags);
  w.bytes(b.message);
  return v == kOfp13 ? 4 : 34;
}

inline uint8_t body(Writer& w, uint8_t, const Hello& h) {
  if (h.version_bitmap) w.u16(1), w.u16(8), w.u32(h.version_bitmap);
  return 0;
}
inline uint8_t body(Writer& w, uint8_t, const ErrorMsg& e) {
  if (e.nx) w.u16(0xb0c2), w.u16(0), w.u32(kNiciraVendor);
  w.u16(e.type), w.u16(e.code);
  if (e.exp) w.u32(e.exp);
  w.bytes(e.data);
  return 1;
}
inline uint8_t body(Writer& w, uint8_t, const EchoRequest& e) { return w.bytes(e.data), 2; }
inline uint8_t body(Writer& w, uint8_t, const EchoReply& e) { return w.bytes(e.data), 3; }
inline uint8_t body(Writer&, uint8_t, const FeaturesRequest&) { return 5; }

/// ofp14_port with its ethernet property (OFPPDPT14_ETHERNET), as OVS.
inline void port_desc14(Writer& w, const PortDesc& p) {
  port(w, kOfp14, p.port_no);
  w.u16(72), w.zeros(2);
  w.bytes(p.hw_addr.b.data(), 6);
  w.zeros(2);
  w.str(p.name, 16);
  w.u32(p.config & kPortConfig11Mask), w.u32(p.state);
  w.u16(0), w.u16(32), w.zeros(4);
  for (uint32_t f : {p.curr, p.advertised, p.supported, p.peer, p.curr_speed, p.max_speed})
    w.u32(f);
}

inline void port_desc(Writer& w, uint8_t v, const PortDesc& p) {
  if (v >= kOfp14) return port_desc14(w, p);
  port(w, v, p.port_no);
  if (!v10(v)) w.zeros(4);
  w.bytes(p.hw_addr.b.data(), 6);
  if (!v10(v)) w.zeros(2);
  w.str(p.name, 16);
  const uint32_t state = v10(v) ? p.state & kPortState10Mask : p.state;  // no LIVE in 1.0
  const uint32_t config = p.config & port_config_mask(v);                // NO_FLOOD is 1.0's only
  for (uint32_t f : {config, state, p.curr, p.advertised, p.supported, p.peer}) w.u32(f);
  if (!v10(v)) w.u32(p.curr_speed), w.u32(p.max_speed);
}

inline uint8_t body(Writer& w, uint8_t v, const FeaturesReply& f) {
  w.u64(f.datapath_id);
  w.u32(f.n_buffers);
  w.u8(f.n_tables);
  if (v10(v))
    w.zeros(3);
  else
    w.u8(f.auxiliary_id), w.zeros(2);
  w.u32(f.capabilities);
  w.u32(v10(v) ? f.actions : 0);
  if (v10(v))
    for (const auto& p : f.ports) port_desc(w, v, p);
  return 6;
}
inline uint8_t body(Writer&, uint8_t, const GetConfigRequest&) { return 7; }
inline uint8_t body(Writer& w, uint8_t, const SwitchConfig& c) {
  w.u16(c.flags), w.u16(c.miss_send_len);
  return c.is_set ? 9 : 8;
}
inline uint8_t body(Writer&, uint8_t v, const BarrierRequest&) { return v10(v) ? 18 : 20; }
inline uint8_t body(Writer&, uint8_t v, const BarrierReply&) { return v10(v) ? 19 : 21; }

inline void padded_nxm(Writer& w, size_t len_at, const Match& m, const TlvCookie* cookie) {
  size_t start = w.size();
  size_t n = encode_tlvs(w, m, TlvDialect::kNxm, cookie);
  w.patch16(len_at, n);
  w.pad_to(8, start);
}

inline uint8_t flow_mod_nx(Writer& w, const FlowMod& f) {
  nx_header(w, 13);
  w.u64(f.command == FlowModCommand::kAdd ? f.cookie : f.cookie);
  w.u16(uint16_t(f.table_id) << 8 | uint8_t(f.command));
  w.u16(f.idle_timeout), w.u16(f.hard_timeout), w.u16(f.priority);
  w.u32(f.buffer_id);
  port(w, kOfp10, f.out_port);
  w.u16(f.flags);
  size_t len_at = w.size();
  w.u16(0);
  w.zeros(6);
  TlvCookie c{f.cookie, f.cookie_mask};
  padded_nxm(w, len_at, f.match, f.command == FlowModCommand::kAdd ? nullptr : &c);
  encode_actions(w, f.instructions.flattened(), kOfp10, f.match);
  return 4;
}

inline uint8_t body(Writer& w, uint8_t v, const FlowMod& f) {
  if (v10(v) && f.match_format == MatchFormat::kNxm) return flow_mod_nx(w, f);
  if (v10(v)) {
    if (f.cookie_mask) throw Error("flow-mod: a cookie mask needs NXM in OpenFlow 1.0");
    encode_of10_match(w, f.match);
    w.u64(f.cookie);
    w.u16(uint16_t(f.table_id) << 8 | uint8_t(f.command));
    w.u16(f.idle_timeout), w.u16(f.hard_timeout), w.u16(f.priority);
    w.u32(f.buffer_id);
    port(w, v, f.out_port);
    w.u16(f.flags);
    encode_actions(w, f.instructions.flattened(), kOfp10, f.match);
    return 14;
  }
  w.u64(f.cookie), w.u64(f.cookie_mask);
  w.u8(f.table_id), w.u8(uint8_t(f.command));
  w.u16(f.idle_timeout), w.u16(f.hard_timeout), w.u16(f.priority);
  w.u32(f.buffer_id);
  w.u32(f.out_port == kOfppNone ? 0xffffffffu : nxm::port_to_of13(f.out_port));
  w.u32(f.out_group);
  w.u16(f.flags), w.u16(v >= kOfp14 ? f.importance : 0);
  encode_oxm_match(w, f.match);
  encode_instructions(w, f.instructions, f.match);
  return 14;
}

// ---- packet-in ---------------------------------------------------------
// The pipeline fields go as OVS's ofputil_encode_packet_in writes its
// flow_metadata: in_port, the non-zero registers and ct_* (PacketIn::match)
// and, for a tracked connection, its original tuple with the ethertype.

/// A connection's original tuple as OVS's NXM_NX_CT_* entries (fields
/// 119..125 of class NXM1, exact).
inline void ct_tuple_tlvs(Writer& w, const CtTuple& t) {
  auto header = [&](uint32_t field, uint32_t len) { w.u32(0x00010000u | field << 9 | len); };
  header(119, 1), w.u8(t.proto);  // NXM_NX_CT_NW_PROTO
  const size_t n = t.v6 ? 16 : 4;
  header(t.v6 ? 122 : 120, n), w.bytes(t.src.data(), n);  // CT_NW_SRC / CT_IPV6_SRC
  header(t.v6 ? 123 : 121, n), w.bytes(t.dst.data(), n);  // CT_NW_DST / CT_IPV6_DST
  header(124, 2), w.u16(t.tp_src);                        // NXM_NX_CT_TP_SRC
  header(125, 2), w.u16(t.tp_dst);                        // NXM_NX_CT_TP_DST
}

/// The packet-in's metadata TLVs (no padding); returns their length.
inline size_t packet_in_tlvs(Writer& w, const PacketIn& p, TlvDialect d) {
  const size_t start = w.size();
  Match m = p.match;
  match_set(m, FieldId::kInPort, p.in_port);
  if (p.ct_tuple.proto) match_set(m, FieldId::kDlType, p.ct_tuple.v6 ? 0x86dd : 0x0800);
  encode_tlvs(w, m, d);
  if (p.ct_tuple.proto) ct_tuple_tlvs(w, p.ct_tuple);
  return w.size() - start;
}

/// NXT_PACKET_IN (format 1): nx_packet_in, NXM match, 2 bytes, the frame.
inline uint8_t nx_packet_in(Writer& w, const PacketIn& p) {
  nx_header(w, 17);
  w.u32(p.buffer_id), w.u16(p.total_len), w.u8(p.reason), w.u8(p.table_id), w.u64(p.cookie);
  const size_t len_at = w.size();
  w.u16(0), w.zeros(6);
  const size_t at = w.size();
  w.patch16(len_at, packet_in_tlvs(w, p, TlvDialect::kNxm));
  w.pad_to(8, at);
  w.zeros(2);
  w.bytes(p.data);
  return 4;
}

/// NXT_PACKET_IN2 (format 2): properties, each padded to 8 (OVS's order;
/// no BUFFER_ID: unbuffered).  The frame goes whole unless it would not
/// fit a property (16-bit length): then its first 0xff00 bytes and FULL_LEN.
inline uint8_t nx_packet_in2(Writer& w, uint8_t v, const PacketIn& p) {
  nx_header(w, 30);
  auto prop = [&](uint16_t type, auto&& fill) {
    const size_t at = w.size();
    w.u16(type), w.u16(0);
    fill();
    w.patch16(at + 2, w.size() - at);
    w.pad_to(8, at);
  };
  constexpr size_t kMaxData = 0xff00;
  const size_t n = std::min(p.data.size(), kMaxData);
  prop(0, [&] { w.bytes(p.data.data(), n); });                    // NXPINT_PACKET
  if (n < p.data.size()) prop(1, [&] { w.u32(p.data.size()); });  // NXPINT_FULL_LEN
  prop(3, [&] { w.u8(p.table_id); });                             // NXPINT_TABLE_ID
  if (p.cookie != ~0ull)  // NXPINT_COOKIE, 4 bytes of alignment
    prop(4, [&] { w.zeros(4), w.u64(p.cookie); });
  prop(5, [&] { w.u8(p.reason); });  // NXPINT_REASON
  prop(6, [&] {                      // NXPINT_METADATA
    packet_in_tlvs(w, p, v10(v) ? TlvDialect::kNxm : TlvDialect::kOxm);
  });
  return 4;
}

inline uint8_t body(Writer& w, uint8_t v, const PacketIn& p) {
  if (p.format == 1) return nx_packet_in(w, p);
  if (p.format == 2) return nx_packet_in2(w, v, p);
  w.u32(p.buffer_id), w.u16(p.total_len);
  if (v10(v)) {
    port(w, v, p.in_port);
    w.u8(p.reason), w.zeros(1);
  } else {
    w.u8(p.reason), w.u8(p.table_id), w.u64(p.cookie);
    const size_t at = w.size();
    w.u16(1), w.u16(0);  // OFPMT_OXM
    w.patch16(at + 2, 4 + packet_in_tlvs(w, p, TlvDialect::kOxm));
    w.pad_to(8, at);
    w.zeros(2);
  }
  w.bytes(p.data);
  return 10;
}

inline uint8_t body(Writer& w, uint8_t v, const PacketOut& p) {
  w.u32(p.buffer_id);
  port(w, v, p.in_port);
  size_t len_at = w.size();
  w.u16(0);
  if (!v10(v)) w.zeros(6);
  size_t start = w.size();
  encode_actions(w, p.actions, v);
  w.patch16(len_at, w.size() - start);
  w.bytes(p.data);
  return 13;
}

inline uint8_t body(Writer& w, uint8_t v, const PortStatus& s) {
  w.u8(s.reason), w.zeros(7);
  port_desc(w, v, s.port);
  return 12;
}

inline uint8_t body(Writer& w, uint8_t v, const PortMod& m) {
  port(w, v, m.port_no);
  if (!v10(v)) w.zeros(4);
  w.bytes(m.hw_addr.b.data(), 6);
  if (!v10(v)) w.zeros(2);
  const uint32_t all = port_config_mask(v);
  w.u32(m.config & m.mask & all), w.u32(m.mask & all);
  if (v < kOfp14)
    w.u32(m.advertise), w.zeros(4);
  else
    w.u16(0), w.u16(8), w.u32(m.advertise);  // OFPPMPT14_ETHERNET
  return v10(v) ? 15 : 16;
}

inline uint8_t body(Writer& w, uint8_t v, const FlowRemoved& f) {
  if (v10(v)) encode_of10_match(w, f.match);
  w.u64(f.cookie), w.u16(f.priority), w.u8(f.reason);
  w.u8(v10(v) ? 0 : f.table_id);
  w.u32(f.duration_sec), w.u32(f.duration_nsec), w.u16(f.idle_timeout);
  w.u16(v10(v) ? 0 : f.hard_timeout);
  w.u64(f.packet_count), w.u64(f.byte_count);
  if (!v10(v)) encode_oxm_match(w, f.match);
  return 11;
}

inline uint8_t body(Writer& w, uint8_t, const SetFlowFormat& s) {
  nx_header(w, 12);
  w.u32(s.format);
  return 4;
}
inline uint8_t body(Writer& w, uint8_t, const FlowModTableId& s) {
  nx_header(w, 15);
  w.u8(s.enable), w.zeros(7);
  return 4;
}
inline uint8_t body(Writer& w, uint8_t, const SetPacketInFormat& s) {
  nx_header(w, 16);
  w.u32(s.format);
  return 4;
}

}  // namespace flowpath::openflow::enc
