// flowpath/core/packet.hpp — a packet: a view over one frame buffer.
//
// A Packet does not own its memory.  The buffer is [buf, buf + capacity);
// the frame starts `headroom()` bytes in and is `size()` bytes long.  The
// headroom lets actions push VLAN tags (4 bytes each) in place: every
// buffer flowpath creates has at least kMinHeadroom (enough for two pushes
// and more).  PacketBuffer below is a self-owning buffer for tests, pcap and
// memory ports; AF_XDP ports point Packets into their UMEM frames.
//
// Metadata filled by the parser: layer offsets (relative to data()), the
// flow hash and the `malformed` flag; by the datapath: connection-tracking
// state and the recirculation pass.  Offsets are kNoOffset when a layer
// is absent.
//
// Cost: all inline, no allocation.  Thread-safety: none (a packet belongs
// to one thread at a time).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace flowpath {

inline constexpr uint32_t kMinHeadroom = 64;       // >= two VLAN pushes
inline constexpr uint32_t kDefaultFrameSize = 2048;
inline constexpr uint16_t kNoOffset = 0xFFFF;

struct PacketMeta {
  uint16_t l2 = 0;             // Ethernet header (always 0 today)
  uint16_t l2_5 = kNoOffset;   // first VLAN tag
  uint16_t l3 = kNoOffset;     // IPv4/IPv6/ARP header
  uint16_t l4 = kNoOffset;     // TCP/UDP/SCTP/ICMP header
  uint32_t hash = 0;           // flow hash (see simd/hash.hpp)
  bool malformed = false;      // parser stopped early on bad/truncated data
  // Connection tracking (OVS's pkt->md.ct_*): set by the datapath's ct
  // action, carried into the next pass by recirculation, zero on receive.
  uint8_t ct_state = 0;
  uint16_t ct_zone = 0;
  uint32_t ct_mark = 0;
  uint32_t ct_label_id = 0;  // the ct_label's id (flow/ct_label_ids.hpp), 0: none
  uint32_t recirc_id = 0;    // the pass the packet is in (0: first)
  // The tracker's connection node of the packet's last ct() (conntrack's
  // per-packet cache, as OVS's pkt->md.conn): only Conntrack::try_cached()
  // reads it, for a caller that kept it protected (one Datapath::process());
  // zero on receive, cleared by ct_clear and by L3/L4 header rewrites.
  const void* ct_node = nullptr;
};

class Packet {
 public:
  Packet() = default;
  Packet(uint8_t* buf, uint32_t capacity, uint32_t headroom, uint32_t len) noexcept
      : buf_(buf), capacity_(capacity), offset_(headroom), len_(len) {}

  uint8_t* data() noexcept { return buf_ + offset_; }
  const uint8_t* data() const noexcept { return buf_ + offset_; }
  uint32_t size() const noexcept { return len_; }
  std::span<const uint8_t> bytes() const noexcept { return {data(), len_}; }
  uint32_t headroom() const noexcept { return offset_; }
  uint32_t tailroom() const noexcept { return capacity_ - offset_ - len_; }
  uint8_t* buffer() noexcept { return buf_; }
  uint32_t capacity() const noexcept { return capacity_; }

  /// Grows the frame at the front by n bytes (uninitialised); nullptr when
  /// the headroom is too small (the frame is unchanged).
  uint8_t* push_front(uint32_t n) noexcept {
    if (n > offset_) return nullptr;
    offset_ -= n;
    len_ += n;
    return data();
  }
  /// Removes n bytes from the front; false (and unchanged) if n > size().
  bool pull_front(uint32_t n) noexcept {
    if (n > len_) return false;
    offset_ += n;
    len_ -= n;
    return true;
  }
  /// Sets the frame length; false if it would not fit the buffer.
  bool resize(uint32_t len) noexcept {
    if (len > capacity_ - offset_) return false;
    len_ = len;
    return true;
  }
  /// Re-points the frame inside the same buffer (used by I/O ports).
  void reset(uint32_t headroom, uint32_t len) noexcept {
    offset_ = headroom;
    len_ = len;
    meta = PacketMeta{};
  }

  uint32_t in_port = 0;   // OpenFlow/datapath port the packet arrived on
  uint64_t timestamp_ns = 0;
  uint64_t user = 0;      // owner's cookie (e.g. UMEM address)
  PacketMeta meta;

 private:
  uint8_t* buf_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t offset_ = 0;
  uint32_t len_ = 0;
};

/// A packet with its own storage (tests, pcap, memory ports).
class PacketBuffer {
 public:
  static constexpr uint32_t kHeadroom = 128;
  static constexpr uint32_t kCapacity = kDefaultFrameSize + kHeadroom;

  PacketBuffer() noexcept : pkt_(storage_.data(), kCapacity, kHeadroom, 0) {}
  explicit PacketBuffer(std::span<const uint8_t> frame, uint32_t in_port = 0) noexcept
      : PacketBuffer() {
    assign(frame);
    pkt_.in_port = in_port;
  }
  PacketBuffer(const PacketBuffer& o) noexcept : PacketBuffer() { *this = o; }
  PacketBuffer& operator=(const PacketBuffer& o) noexcept {
    storage_ = o.storage_;
    Packet p(storage_.data(), kCapacity, o.pkt_.headroom(), o.pkt_.size());
    p.in_port = o.pkt_.in_port;
    p.timestamp_ns = o.pkt_.timestamp_ns;
    p.user = o.pkt_.user;
    p.meta = o.pkt_.meta;
    pkt_ = p;
    return *this;
  }

  /// Copies a frame in (truncated to what fits after the headroom).
  void assign(std::span<const uint8_t> frame) noexcept {
    uint32_t n = uint32_t(frame.size() < kDefaultFrameSize ? frame.size() : kDefaultFrameSize);
    if (n) std::memcpy(storage_.data() + kHeadroom, frame.data(), n);
    pkt_.reset(kHeadroom, n);
  }

  Packet& packet() noexcept { return pkt_; }
  const Packet& packet() const noexcept { return pkt_; }
  Packet* operator->() noexcept { return &pkt_; }

 private:
  alignas(64) std::array<uint8_t, kCapacity> storage_{};
  Packet pkt_;
};

}  // namespace flowpath
