// flowpath/parse/headers.hpp — wire header structs for the parser and for
// anyone who builds or rewrites frames.
//
// Each struct is the exact wire layout of one header: byte arrays and
// WireBe<T> fields only, so alignof == 1 and a struct may be laid over any
// byte of a frame (frames put IPv4 at offset 14 or 18, never 4-aligned).
// Multi-byte fields are read with .be() (a Be16/Be32, network order) or
// .host(); nothing here converts implicitly.  Every struct has a bit diagram
// and a static_assert on its size.  Callers must check that sizeof(H) bytes
// are inside the frame before calling header_at<H>().
//
// Cost: none beyond the loads the caller makes.  Thread-safety: plain data.
#pragma once

#include <cstdint>
#include <cstring>

#include "flowpath/core/byte_order.hpp"

namespace flowpath {

/// A big-endian field as stored on the wire: alignment 1.
template <class T>
struct WireBe {
  uint8_t bytes[sizeof(T)];
  BigEndian<T> be() const noexcept { return BigEndian<T>::load(bytes); }
  T host() const noexcept {  // straight load + bswap (no trip through a BigEndian)
    T v;
    std::memcpy(&v, bytes, sizeof v);
    return byteswap_if_little(v);
  }
  void set(T host_value) noexcept { BigEndian<T>{host_value}.store(bytes); }
};
using WireBe16 = WireBe<uint16_t>;
using WireBe32 = WireBe<uint32_t>;

/// Views wire bytes as header H (alignment 1, the caller checked the length).
template <class H>
inline const H* header_at(const uint8_t* p) noexcept {
  static_assert(alignof(H) == 1, "wire headers must have alignment 1");
  return reinterpret_cast<const H*>(p);
}
template <class H>
inline H* header_at(uint8_t* p) noexcept {
  static_assert(alignof(H) == 1, "wire headers must have alignment 1");
  return reinterpret_cast<H*>(p);
}

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 destination MAC (6 bytes) ...                 |
// |  ... destination MAC          |   source MAC (6 bytes) ...    |
// |                      ... source MAC                           |
// |     EtherType / length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] EthHeader {
  uint8_t dst[6];
  uint8_t src[6];
  WireBe16 type;  // < 0x0600: 802.3 length
};
static_assert(sizeof(EthHeader) == 14);

// An 802.1Q / 802.1ad tag as it sits in place of the EtherType:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   TPID (0x8100 / 0x88a8)      | PCP |D|         VID           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// followed by the next EtherType (2 bytes).  D = DEI (CFI on the wire; the
// flow key reuses the bit as "tag present").
struct [[gnu::packed]] VlanTag {
  WireBe16 tpid;
  WireBe16 tci;
};
static_assert(sizeof(VlanTag) == 4);

// ARP for Ethernet/IPv4 (the only kind the parser decodes):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        HTYPE (1)              |        PTYPE (0x0800)         |
// |  HLEN (6)     |  PLEN (4)     |        OPER                   |
// |   SHA (6 bytes) | SPA (4) | THA (6 bytes) | TPA (4)           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] ArpHeader {
  WireBe16 htype;
  WireBe16 ptype;
  uint8_t hlen;
  uint8_t plen;
  WireBe16 op;
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
};
static_assert(sizeof(ArpHeader) == 28);

// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |  DSCP     |ECN|          Total Length         |
// |         Identification        |Flags|     Fragment Offset     |
// |  Time to Live |    Protocol   |         Header Checksum       |
// |                       Source Address                          |
// |                    Destination Address                        |
// |                    Options (IHL > 5) ...                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// Flags: reserved, DF (0x4000), MF (0x2000); offset in 8-byte units.
struct [[gnu::packed]] Ipv4Header {
  uint8_t ver_ihl;
  uint8_t tos;
  WireBe16 tot_len;
  WireBe16 id;
  WireBe16 frag_off;
  uint8_t ttl;
  uint8_t proto;
  WireBe16 csum;
  uint8_t src[4];
  uint8_t dst[4];
};
static_assert(sizeof(Ipv4Header) == 20);
inline constexpr uint16_t kIpv4Df = 0x4000;
inline constexpr uint16_t kIpv4Mf = 0x2000;
inline constexpr uint16_t kIpv4FragOffsetMask = 0x1fff;

// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |           Flow Label                  |
// |         Payload Length        |  Next Header  |   Hop Limit   |
// |                  Source Address (16 bytes)                    |
// |               Destination Address (16 bytes)                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] Ipv6Header {
  WireBe32 ver_tc_flow;
  WireBe16 payload_len;
  uint8_t next;
  uint8_t hop_limit;
  uint8_t src[16];
  uint8_t dst[16];
};
static_assert(sizeof(Ipv6Header) == 40);

inline constexpr uint8_t kIp6HopByHop = 0;
inline constexpr uint8_t kIp6Routing = 43;
inline constexpr uint8_t kIp6Fragment = 44;
inline constexpr uint8_t kIp6Ah = 51;
inline constexpr uint8_t kIp6NoNext = 59;
inline constexpr uint8_t kIp6DestOpts = 60;

// Hop-by-hop, routing and destination options share this start; the whole
// header is (len + 1) * 8 bytes (AH: (len + 2) * 4).
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |  Hdr Ext Len  |  type-specific data ...       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] Ipv6ExtHeader {
  uint8_t next;
  uint8_t len;
  uint8_t data[6];
};
static_assert(sizeof(Ipv6ExtHeader) == 8);

// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
// |                         Identification                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] Ipv6FragHeader {
  uint8_t next;
  uint8_t reserved;
  WireBe16 offset_flags;  // offset << 3 | M
  WireBe32 id;
};
static_assert(sizeof(Ipv6FragHeader) == 8);
inline constexpr uint16_t kIp6FragOffsetMask = 0xfff8;
inline constexpr uint16_t kIp6FragMore = 0x0001;

// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// |                        Sequence Number                        |
// |                    Acknowledgment Number                      |
// | Offset| Rsvd|N|C|E|U|A|P|R|S|F|            Window             |
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] TcpHeader {
  WireBe16 src;
  WireBe16 dst;
  WireBe32 seq;
  WireBe32 ack;
  WireBe16 off_flags;  // data offset (4) | reserved (3) | flags (9)
  WireBe16 window;
  WireBe16 csum;
  WireBe16 urgent;
};
static_assert(sizeof(TcpHeader) == 20);
inline constexpr uint16_t kTcpFlagsMask = 0x0fff;
inline constexpr uint16_t kTcpFin = 0x001, kTcpSyn = 0x002, kTcpRst = 0x004, kTcpPsh = 0x008,
                          kTcpAck = 0x010, kTcpUrg = 0x020, kTcpEce = 0x040, kTcpCwr = 0x080,
                          kTcpNs = 0x100;

// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// |            Length             |           Checksum            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] UdpHeader {
  WireBe16 src;
  WireBe16 dst;
  WireBe16 len;
  WireBe16 csum;
};
static_assert(sizeof(UdpHeader) == 8);

// SCTP common header:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// |                       Verification Tag                        |
// |                    Checksum (CRC32c)                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] SctpHeader {
  WireBe16 src;
  WireBe16 dst;
  WireBe32 vtag;
  WireBe32 csum;
};
static_assert(sizeof(SctpHeader) == 12);

// ICMPv4 (8 bytes: the rest-of-header word is type specific):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// |                      Rest of header                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] IcmpHeader {
  uint8_t type;
  uint8_t code;
  WireBe16 csum;
  uint8_t rest[4];
};
static_assert(sizeof(IcmpHeader) == 8);

// ICMPv6: type, code, checksum (4 bytes), then the message body.
struct [[gnu::packed]] Icmpv6Header {
  uint8_t type;
  uint8_t code;
  WireBe16 csum;
};
static_assert(sizeof(Icmpv6Header) == 4);
inline constexpr uint8_t kNdNeighborSolicit = 135;
inline constexpr uint8_t kNdNeighborAdvert = 136;

// Neighbor Solicitation / Advertisement (after the 4-byte ICMPv6 header):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|S|O|                     Reserved                            |
// |                   Target Address (16 bytes)                   |
// |   Options ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] NdMessage {
  Icmpv6Header icmp;
  WireBe32 flags;  // NA: R|S|O in the top bits; NS: reserved
  uint8_t target[16];
};
static_assert(sizeof(NdMessage) == 24);
inline constexpr uint32_t kNdRouter = 0x80000000u, kNdSolicited = 0x40000000u,
                          kNdOverride = 0x20000000u;

// ND option; the whole option is len * 8 bytes (len 0 is invalid).  The
// link-layer address options for Ethernet are exactly 8 bytes:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Type (1 / 2) |  Length (1)   |  Link-layer address (6) ...   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct [[gnu::packed]] NdOptLinkAddr {
  uint8_t type;
  uint8_t len;
  uint8_t addr[6];
};
static_assert(sizeof(NdOptLinkAddr) == 8);
inline constexpr uint8_t kNdOptSourceLinkAddr = 1;
inline constexpr uint8_t kNdOptTargetLinkAddr = 2;

}  // namespace flowpath
