// flowpath/flow/ct_tuple.hpp — a tracked connection's original-direction
// tuple (OVS's ct_nw_src/dst, ct_ipv6_src/dst, ct_nw_proto, ct_tp_src/dst),
// as a packet-in reports it.
//
// ct_orig_tuple() derives it from the key of a packet the tracker has
// seen (its ct_state tracked and valid): the packet's own addresses and
// ports, swapped in the reply direction; for ICMP/ICMPv6 the request's
// type and code, as OVS's conntrack writes them.  What the key cannot tell
// is left out (proto 0): a related packet (+rel: the tuple would be the
// connection the ICMP error quotes) and a NATed one (+snat/+dnat: the
// addresses before the rewrite).  docs/openflow.md says so.
//
// Cost: a few copies, on the controller path only.  Thread-safety: plain
// value type and a pure function.
#pragma once

#include <array>
#include <cstdint>

#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

struct CtTuple {
  uint8_t proto = 0;  // 0: no tuple
  bool v6 = false;
  std::array<uint8_t, 16> src{}, dst{};  // IPv4: the first 4 bytes
  uint16_t tp_src = 0, tp_dst = 0;       // ports; ICMP: type, code
  friend bool operator==(const CtTuple&, const CtTuple&) = default;
};

namespace ct_tuple_detail {
// The request type an ICMP/ICMPv6 reply type answers (OVS's reverse_icmp_type).
inline uint8_t request_type(uint8_t type, bool v6) noexcept {
  if (v6) return type == 129 ? 128 : type;
  switch (type) {
    case 0:
      return 8;  // echo
    case 14:
      return 13;  // timestamp
    case 16:
      return 15;  // information
    case 18:
      return 17;  // address mask
    default:
      return type;
  }
}
}  // namespace ct_tuple_detail

/// The original-direction tuple of the connection `k` was tracked in, or
/// proto 0 when `k` is not tracked and valid or the key cannot tell.
inline CtTuple ct_orig_tuple(const FlowKey& k) noexcept {
  constexpr uint8_t kAny = kCsNew | kCsEstablished | kCsRelated | kCsReplyDir;
  CtTuple t;
  const uint8_t s = k.ct_state;
  if (!(s & kCsTracked) || (s & kCsInvalid) || !(s & kAny) || !k.nw_proto) return t;
  if (s & (kCsRelated | kCsSrcNat | kCsDstNat)) return t;
  const uint16_t type = k.dl_type.host();
  if (type != 0x0800 && type != 0x86dd) return t;
  t.v6 = type == 0x86dd;
  t.proto = k.nw_proto;
  if (t.v6) {
    t.src = k.ipv6_src.b, t.dst = k.ipv6_dst.b;
  } else {
    const uint32_t a = k.nw_src.host(), b = k.nw_dst.host();
    for (int i = 0; i < 4; ++i)
      t.src[i] = uint8_t(a >> (24 - 8 * i)), t.dst[i] = uint8_t(b >> (24 - 8 * i));
  }
  t.tp_src = k.tp_src.host(), t.tp_dst = k.tp_dst.host();
  const bool icmp = (!t.v6 && t.proto == 1) || (t.v6 && t.proto == 58);
  if (s & kCsReplyDir) {
    std::swap(t.src, t.dst);
    if (icmp)
      t.tp_src = ct_tuple_detail::request_type(uint8_t(t.tp_src), t.v6);
    else
      std::swap(t.tp_src, t.tp_dst);
  }
  return t;
}

}  // namespace flowpath
