// flowpath/openflow/decode_body.hpp — per-type body decoders behind
// openflow/decode.hpp (one small function per message kind).  Every read
// is bounds-checked by Reader; a body must be consumed exactly (trailing
// bytes are a BAD_LEN, as OVS has it), except where the format carries
// free data (echo, error, packet-in/out payloads).
//
// Cost: linear in the message.  Thread-safety: pure functions.
#pragma once

#include "flowpath/openflow/messages.hpp"
#include "flowpath/openflow/of10_match.hpp"

namespace flowpath::openflow::dec {

inline std::vector<uint8_t> rest(Reader& r) {
  auto s = r.bytes(r.remaining());
  return {s.begin(), s.end()};
}
inline void done(const Reader& r) {
  if (!r.empty())
    throw DecodeError(OfpErrc::kBadLen,
                      "message: " + std::to_string(r.remaining()) + " trailing bytes");
}
inline uint32_t port(Reader& r, uint8_t v) {
  if (v == kOfp10) return r.u16();
  auto p = nxm::port_from_of13(r.u32());
  if (!p) throw DecodeError(OfpErrc::kBadPort, "port number out of range");
  return *p;
}

inline Hello hello(Reader& r) {
  Hello h;
  while (r.remaining() >= 4) {  // elements; unknown ones are skipped
    uint16_t type = r.u16(), len = r.u16();
    if (len < 4) throw DecodeError(OfpErrc::kBadLen, "hello element length below 4");
    Reader e = r.sub(len - 4u);
    if (type == 1)
      for (int i = 0; e.remaining() >= 4; ++i) {
        uint32_t word = e.u32();
        if (i == 0) h.version_bitmap = word;
      }
    r.skip(std::min(r.remaining(), size_t((8 - len % 8) % 8)));
  }
  return h;
}

inline ErrorMsg error(Reader& r) {
  ErrorMsg e;
  e.type = r.u16();
  e.code = r.u16();
  if (e.type == 0xb0c2) {  // NXET_VENDOR
    e.nx = true;
    r.u32();
    e.type = r.u16();
    e.code = r.u16();
  } else if (e.type == 0xffff && r.remaining() >= 4 &&
             (r.cur()[0] | r.cur()[1] | r.cur()[2] | r.cur()[3])) {
    e.exp = r.u32();  // OFPET_EXPERIMENTER: exp_type in code, then the id
  }
  e.data = rest(r);
  return e;
}

/// OpenFlow 1.4 properties (type, length, body padded to 8) of `r`, each
/// body given to `f(type, reader)`; unknown ones are for `f` to skip.  A
/// length below 4 or past the end is BAD_LEN (OVS answers with 1.4's
/// OFPBPC_BAD_LEN, an error type flowpath's table does not have).
template <class F>
inline void properties(Reader& r, const char* what, F&& f) {
  while (!r.empty()) {
    uint16_t type = r.u16(), len = r.u16();
    if (len < 4 || len - 4u > r.remaining())
      throw DecodeError(OfpErrc::kBadLen,
                        std::string(what) + ": property length " + std::to_string(len));
    Reader body = r.sub(len - 4u);
    f(type, body);
    r.skip(std::min(r.remaining(), size_t((8 - len % 8) % 8)));
  }
}

/// ofp14_port: 40 bytes then properties; OFPPDPT14_ETHERNET (0) carries
/// the feature words and speeds, others are skipped (as OVS).
inline PortDesc port_desc14(Reader& r) {
  PortDesc p;
  p.port_no = port(r, kOfp14);
  uint16_t len = r.u16();
  if (len < 40 || len - 6u > r.remaining())
    throw DecodeError(OfpErrc::kBadLen, "port: length " + std::to_string(len));
  Reader x = r.sub(len - 6u);
  x.skip(2);
  x.copy(p.hw_addr.b.data(), 6);
  x.skip(2);
  p.name = x.str(16);
  p.config = x.u32();
  p.state = x.u32();
  properties(x, "port", [&](uint16_t type, Reader& b) {
    if (type != 0) return;
    if (b.remaining() != 28) throw DecodeError(OfpErrc::kBadLen, "port: ethernet property length");
    b.skip(4);
    for (uint32_t* f : {&p.curr, &p.advertised, &p.supported, &p.peer, &p.curr_speed, &p.max_speed})
      *f = b.u32();
  });
  return p;
}

inline PortDesc port_desc(Reader& r, uint8_t v) {
  if (v >= kOfp14) return port_desc14(r);
  PortDesc p;
  Reader x = r.sub(v == kOfp10 ? 48 : 64);
  p.port_no = port(x, v);
  if (v != kOfp10) x.skip(4);
  x.copy(p.hw_addr.b.data(), 6);
  if (v != kOfp10) x.skip(2);
  p.name = x.str(16);
  for (uint32_t* f : {&p.config, &p.state, &p.curr, &p.advertised, &p.supported, &p.peer})
    *f = x.u32();
  if (v != kOfp10) p.curr_speed = x.u32(), p.max_speed = x.u32();
  return p;
}

inline FeaturesReply features_reply(Reader& r, uint8_t v) {
  FeaturesReply f;
  f.datapath_id = r.u64();
  f.n_buffers = r.u32();
  f.n_tables = r.u8();
  if (v == kOfp10)
    r.skip(3);
  else
    f.auxiliary_id = r.u8(), r.skip(2);
  f.capabilities = r.u32();
  f.actions = r.u32();
  if (v == kOfp10) {
    if (r.remaining() % 48)
      throw DecodeError(OfpErrc::kBadLen, "features reply: ports not a multiple of 48");
    while (!r.empty()) f.ports.push_back(port_desc(r, v));
  }
  f.actions = v == kOfp10 ? f.actions : 0;
  done(r);
  return f;
}

inline SwitchConfig config(Reader& r, bool is_set) {
  SwitchConfig c;
  c.is_set = is_set;
  c.flags = r.u16();
  c.miss_send_len = r.u16();
  done(r);
  return c;
}

inline FlowModCommand command(uint8_t c) {
  if (c > 4)
    throw DecodeError(OfpErrc::kFlowModBadCommand, "flow-mod command " + std::to_string(c));
  return FlowModCommand(c);
}

inline FlowMod flow_mod_of10(Reader& r) {
  FlowMod f;
  f.match = decode_of10_match(r);
  f.cookie = r.u64();
  uint16_t cmd = r.u16();
  f.command = command(uint8_t(cmd & 0xff));
  f.table_id = uint8_t(cmd >> 8);  // NXT_FLOW_MOD_TABLE_ID; 0 otherwise
  f.idle_timeout = r.u16();
  f.hard_timeout = r.u16();
  f.priority = r.u16();
  f.buffer_id = r.u32();
  f.out_port = r.u16();
  f.flags = r.u16();
  f.instructions.actions =
      decode_actions(r.sub(r.remaining(), OfpErrc::kActionBadLen, "actions"), kOfp10);
  return f;
}

/// Reads `len` NXM bytes plus padding to 8.
inline Match nxm_match(Reader& r, uint16_t len, TlvCookie* cookie) {
  Reader m = r.sub(len, OfpErrc::kMatchBadLen, "NXM match");
  r.skip(std::min(r.remaining(), size_t((8 - len % 8) % 8)));
  return decode_tlvs(m, cookie);
}

inline FlowMod flow_mod_nx(Reader& r) {
  FlowMod f;
  f.match_format = MatchFormat::kNxm;
  f.cookie = r.u64();
  uint16_t cmd = r.u16();
  f.command = command(uint8_t(cmd & 0xff));
  f.table_id = uint8_t(cmd >> 8);
  f.idle_timeout = r.u16();
  f.hard_timeout = r.u16();
  f.priority = r.u16();
  f.buffer_id = r.u32();
  f.out_port = r.u16();
  f.flags = r.u16();
  uint16_t match_len = r.u16();
  r.skip(6);
  TlvCookie c;
  f.match = nxm_match(r, match_len, &c);
  if (c.mask) {
    if (f.command == FlowModCommand::kAdd)
      throw DecodeError(OfpErrc::kMatchBadField, "cookie mask on add");
    f.cookie = c.value, f.cookie_mask = c.mask;
  }
  f.instructions.actions =
      decode_actions(r.sub(r.remaining(), OfpErrc::kActionBadLen, "actions"), kOfp10);
  return f;
}

inline FlowMod flow_mod_of13(Reader& r, uint8_t v) {
  FlowMod f;
  f.match_format = MatchFormat::kOxm;
  f.cookie = r.u64();
  f.cookie_mask = r.u64();
  f.table_id = r.u8();
  f.command = command(r.u8());
  f.idle_timeout = r.u16();
  f.hard_timeout = r.u16();
  f.priority = r.u16();
  f.buffer_id = r.u32();
  auto out = nxm::port_from_of13(r.u32());
  f.out_port = out ? *out : kOfppNone;
  f.out_group = r.u32();
  f.flags = r.u16();
  f.importance = r.u16();  // a pad before 1.4
  if (v < kOfp14) f.importance = 0;
  if (f.table_id == kOfTableAll && f.command != FlowModCommand::kDelete &&
      f.command != FlowModCommand::kDeleteStrict)
    throw DecodeError(OfpErrc::kBadTableId, "flow-mod: table 255 is only valid for delete");
  f.match = decode_oxm_match(r);
  f.instructions = decode_instructions(r.sub(r.remaining(), OfpErrc::kInstBadLen, "instructions"));
  return f;
}

inline PacketIn packet_in(Reader& r, uint8_t v) {
  PacketIn p;
  p.buffer_id = r.u32();
  p.total_len = r.u16();
  if (v == kOfp10) {
    p.in_port = r.u16();
    p.reason = r.u8();
    r.skip(1);
  } else {
    p.reason = r.u8();
    p.table_id = r.u8();
    p.cookie = r.u64();
    Match m = decode_oxm_match(r);
    p.in_port = uint32_t(get_field(m.value, FieldId::kInPort));
    match_set(m, FieldId::kInPort, 0, 0);  // the member above; the rest is the pipeline's
    p.match = m;
    r.skip(2);
  }
  p.data = rest(r);
  return p;
}

inline PacketOut packet_out(Reader& r, uint8_t v) {
  PacketOut p;
  p.buffer_id = r.u32();
  p.in_port = port(r, v);
  uint16_t actions_len = r.u16();
  if (v != kOfp10) r.skip(6);
  if (actions_len > r.remaining())
    throw DecodeError(OfpErrc::kBadLen, "packet-out: actions_len too long");
  p.actions = decode_actions(r.sub(actions_len, OfpErrc::kActionBadLen, "actions"), v);
  p.data = rest(r);
  return p;
}

inline PortStatus port_status(Reader& r, uint8_t v) {
  PortStatus s;
  s.reason = r.u8();
  r.skip(7);
  s.port = port_desc(r, v);
  done(r);
  return s;
}

inline PortMod port_mod(Reader& r, uint8_t v) {
  PortMod m;
  m.port_no = port(r, v);
  if (v != kOfp10) r.skip(4);
  r.copy(m.hw_addr.b.data(), 6);
  if (v != kOfp10) r.skip(2);
  const uint32_t all = port_config_mask(v);
  m.config = r.u32() & all;
  m.mask = r.u32() & all;
  m.config &= m.mask;
  if (v < kOfp14) {
    m.advertise = r.u32();
    r.skip(4);
    done(r);
    return m;
  }
  properties(r, "port-mod", [&](uint16_t type, Reader& b) {
    if (type != 0) return;  // OFPPMPT14_ETHERNET; others skipped
    if (b.remaining() != 4)
      throw DecodeError(OfpErrc::kBadLen, "port-mod: ethernet property length");
    m.advertise = b.u32();
  });
  return m;
}

inline FlowRemoved flow_removed(Reader& r, uint8_t v) {
  FlowRemoved f;
  if (v == kOfp10) f.match = decode_of10_match(r);
  f.cookie = r.u64();
  f.priority = r.u16();
  f.reason = r.u8();
  if (v == kOfp10)
    r.skip(1);
  else
    f.table_id = r.u8();
  f.duration_sec = r.u32();
  f.duration_nsec = r.u32();
  f.idle_timeout = r.u16();
  if (v == kOfp10)
    r.skip(2);
  else
    f.hard_timeout = r.u16();
  f.packet_count = r.u64();
  f.byte_count = r.u64();
  if (v != kOfp10) f.match = decode_oxm_match(r);
  done(r);
  return f;
}

}  // namespace flowpath::openflow::dec

#include "flowpath/openflow/decode_stats.hpp"
