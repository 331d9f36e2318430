// flowpath/openflow/nx_ct.hpp — Nicira's ct() and nat() actions on the
// wire, both directions (valid in OpenFlow 1.0 and 1.3 alike):
//
//   NXAST_CT (35):  hdr(10) | flags u16 (1 commit, 2 force) |
//                   zone_src u32 (NXM header, 0 = immediate) |
//                   zone ofs_nbits / zone_imm u16 | recirc_table u8
//                   (255 = none) | pad(3) | alg u16 | nested actions
//   NXAST_NAT (36): hdr(10) | pad(2) | flags u16 (1 src, 2 dst,
//                   4 persistent, 8 hash, 16 random) | range_present u16
//                   (1 v4 min, 2 v4 max, 4 v6 min, 8 v6 max, 16 port min,
//                   32 port max) | the present values in that order | pad
//
// The nested actions are flowpath's OfAction::exec, each nat in its place
// among them (is_nat_entry(); several are fine, as in OVS, CtArgs::nat is
// the last).  A
// range whose max equals its min travels as the min alone (OVS sends only
// what differs and prints it so).
//
// Decoding checks as OVS 3.1 does (decode_NXAST_RAW_CT/NAT and its nested
// action check; tests/openflow/nx_ct_codec_test.cpp compares the errors
// with `ovs-ofctl ofp-print`): force without commit, unknown flag or range
// bits, src and dst together, hash and random together, a max without its
// min, v4 and v6 ranges together, a nat range past the action's end →
// BAD_ARGUMENT; a ct shorter than 24 bytes or a nested action past ct's
// end → BAD_LEN; a zone subfield not 16 bits wide → BAD_SET_LEN; nested
// actions other than nat and set_field/load of ct_mark or ct_label →
// BAD_ARGUMENT; nat outside ct → BAD_SET_ARGUMENT (OVS's choice).
// flowpath's CtArgs has no ALG, so a non-zero alg is refused with
// BAD_ARGUMENT (OVS accepts ftp/tftp).
//
// The nested list is decoded/encoded through callables the caller passes
// (openflow/actions.hpp's own list codec), which keeps this header free of
// a cycle.  Cost: linear in the nested actions.  Thread-safety: pure.
#pragma once

#include <algorithm>

#include "flowpath/openflow/nx_actions.hpp"

namespace flowpath::openflow::act {

inline constexpr uint16_t kCtCommit = 1, kCtForce = 2;
inline constexpr uint16_t kNatSrc = 1, kNatDst = 2, kNatPersistent = 4, kNatHash = 8,
                          kNatRandom = 16;
inline constexpr uint16_t kRangeV4Min = 1, kRangeV4Max = 2, kRangeV6Min = 4, kRangeV6Max = 8,
                          kRangePortMin = 16, kRangePortMax = 32;

[[noreturn]] inline void ct_fail(OfpErrc e, const std::string& what) {
  throw DecodeError(e, "action: " + what);
}

/// Body of NXAST_NAT after the subtype; the result is stored in `n`.
inline void decode_nat(Reader& x, NatArgs& n) {
  if (x.remaining() < 6) ct_fail(OfpErrc::kActionBadLen, "nat: too short");
  if (x.u16() != 0) ct_fail(OfpErrc::kActionBadArgument, "nat: padding must be zero");
  uint16_t flags = x.u16(), present = x.u16();
  auto bad = [](const char* why) {
    ct_fail(OfpErrc::kActionBadArgument, std::string("nat: ") + why);
  };
  if (flags & ~0x1f) bad("unknown flags");
  if (present & ~0x3f) bad("unknown range bits");
  if ((flags & kNatSrc) && (flags & kNatDst)) bad("both src and dst");
  if ((flags & kNatHash) && (flags & kNatRandom)) bad("both hash and random");
  if ((present & kRangeV4Max) && !(present & kRangeV4Min)) bad("IPv4 max without min");
  if ((present & kRangeV6Max) && !(present & kRangeV6Min)) bad("IPv6 max without min");
  if ((present & kRangePortMax) && !(present & kRangePortMin)) bad("port max without min");
  if ((present & kRangeV4Min) && (present & kRangeV6Min)) bad("both IPv4 and IPv6 ranges");
  n = NatArgs{};
  n.kind = flags & kNatSrc ? NatArgs::kSrc : flags & kNatDst ? NatArgs::kDst : NatArgs::kPlain;
  n.persistent = flags & kNatPersistent, n.hash = flags & kNatHash, n.random = flags & kNatRandom;
  Reader v = x.sub(x.remaining(), OfpErrc::kActionBadArgument, "nat range");
  if (present & kRangeV4Min) {
    n.has_addr = true;
    v.copy(n.addr_min.b.data(), 4);
    n.addr_max = n.addr_min;
    if (present & kRangeV4Max) v.copy(n.addr_max.b.data(), 4);
  }
  if (present & kRangeV6Min) {
    n.has_addr = n.v6 = true;
    v.copy(n.addr_min.b.data(), 16);
    n.addr_max = n.addr_min;
    if (present & kRangeV6Max) v.copy(n.addr_max.b.data(), 16);
  }
  if (present & kRangePortMin) {
    n.has_ports = true;
    n.port_min = n.port_max = v.u16();
    if (present & kRangePortMax) n.port_max = v.u16();
  }
  if (n.addr_max.b < n.addr_min.b || n.port_max < n.port_min) bad("range max below min");
}

inline void encode_nat(Writer& w, const NatArgs& n) {
  size_t at = w.size();
  put_nx_header(w, 0, kNxNat);
  uint16_t flags = (n.kind == NatArgs::kSrc ? kNatSrc : 0) |
                   (n.kind == NatArgs::kDst ? kNatDst : 0) | (n.persistent ? kNatPersistent : 0) |
                   (n.hash ? kNatHash : 0) | (n.random ? kNatRandom : 0);
  bool max_addr = n.has_addr && n.addr_max != n.addr_min;
  bool max_port = n.has_ports && n.port_max != n.port_min;
  uint16_t present = 0;
  if (n.has_addr)
    present |= n.v6 ? kRangeV6Min | (max_addr ? kRangeV6Max : 0)
                    : kRangeV4Min | (max_addr ? kRangeV4Max : 0);
  if (n.has_ports) present |= kRangePortMin | (max_port ? kRangePortMax : 0);
  w.zeros(2), w.u16(flags), w.u16(present);
  size_t alen = n.v6 ? 16 : 4;
  if (n.has_addr) w.bytes(n.addr_min.b.data(), alen);
  if (max_addr) w.bytes(n.addr_max.b.data(), alen);
  if (n.has_ports) w.u16(n.port_min);
  if (max_port) w.u16(n.port_max);
  w.pad_to(8, at);
  w.patch16(at + 2, w.size() - at);
}

/// Checks one nested action of ct() (OVS's rule: nat, or a set_field of
/// ct_mark / ct_label).
inline void check_ct_nested(const OfAction& a) {
  if (a.type != OfActionType::kSetField)
    ct_fail(OfpErrc::kActionBadArgument, "ct: only nat and set_field may be nested");
  if (a.field != FieldId::kCtMark && a.field != FieldId::kCtLabel)
    ct_fail(OfpErrc::kActionBadArgument,
            "ct: cannot set field " + std::string(field_info(a.field).name));
}

/// Body of NXAST_CT after the subtype (x spans the rest of the action).
/// `decode_nested(Reader)` returns the nested list, in which a nat appears
/// as an OfAction of type kCt whose ct.nat holds it (see actions.hpp).
template <class DecodeNested>
OfAction decode_ct(Reader& x, DecodeNested&& decode_nested) {
  if (x.remaining() < 14) ct_fail(OfpErrc::kActionBadLen, "ct: too short");
  uint16_t flags = x.u16();
  uint32_t zone_src = x.u32();
  uint16_t zone = x.u16();
  uint8_t table = x.u8();
  x.skip(3);
  uint16_t alg = x.u16();
  OfAction a;
  a.type = OfActionType::kCt;
  if (flags & ~(kCtCommit | kCtForce)) ct_fail(OfpErrc::kActionBadArgument, "ct: unknown flags");
  if ((flags & kCtForce) && !(flags & kCtCommit))
    ct_fail(OfpErrc::kActionBadArgument, "ct: force without commit");
  if (alg) ct_fail(OfpErrc::kActionBadArgument, "ct: alg=" + std::to_string(alg) + " unsupported");
  a.ct.commit = flags & kCtCommit, a.ct.force = flags & kCtForce, a.ct.table = table;
  if (zone_src) {
    a.ct.zone_from_field = true;
    a.ct.zone_src = decode_subfield(zone_src, zone >> 6, (zone & 0x3f) + 1u, "ct zone");
    if (a.ct.zone_src.n_bits != 16)
      ct_fail(OfpErrc::kActionBadSetLen, "ct: zone subfield must be 16 bits wide");
  } else {
    a.ct.zone = zone;
  }
  OfActionList nested = decode_nested(x.sub(x.remaining(), OfpErrc::kActionBadLen, "ct actions"));
  for (const OfAction& e : nested) {
    if (is_nat_entry(e))
      a.ct.nat = e.ct.nat;  // any number of nats, as OVS: the last one runs
    else
      check_ct_nested(e);
    a.exec.push_back(e);
  }
  return a;
}

/// NXAST_CT with its nested actions; `encode_nested(Writer&, OfAction)`
/// writes one exec action in the connection's version.
template <class EncodeNested>
void encode_ct(Writer& w, const OfAction& a, EncodeNested&& encode_nested) {
  size_t at = w.size();
  const CtArgs& c = a.ct;
  put_nx_header(w, 0, kNxCt);
  w.u16((c.commit ? kCtCommit : 0) | (c.force ? kCtForce : 0));
  if (c.zone_from_field) {
    w.u32(subfield_header(c.zone_src.field));
    w.u16(unsigned(c.zone_src.ofs) << 6 | (c.zone_src.n_bits - 1u));
  } else {
    w.u32(0), w.u16(c.zone);
  }
  w.u8(c.table), w.zeros(3), w.u16(0);
  for (const OfAction& e : a.exec) {
    if (is_nat_entry(e))
      encode_nat(w, e.ct.nat);
    else
      encode_nested(w, e);
  }
  w.patch16(at + 2, w.size() - at);
}

/// A decoded NXAST_NAT as a placeholder action (only valid inside ct()).
inline OfAction nat_placeholder(Reader& x) {
  OfAction a;
  a.type = OfActionType::kCt;
  decode_nat(x, a.ct.nat);
  return a;
}

}  // namespace flowpath::openflow::act
