// flowpath/io/frame_pool.hpp — a port's own receive buffers: N frames of
// PacketBuffer::kCapacity bytes, one Packet header each, and a stack of
// the free frames' indices.  The ports that copy frames in from a file
// descriptor use it (TapPort, PacketPort); AF_XDP ports use their UMEM.
//
//   FramePool pool(256);
//   uint32_t i = pool.take();                      // precondition: available()
//   read(fd, pool.frame(i) + PacketBuffer::kHeadroom, kDefaultFrameSize);
//   Packet& p = pool.packet(i, PacketBuffer::kHeadroom, len);  // p.user = i
//   pool.release(p);                               // back on the stack if ours
//
// The frames are a new[] of bytes, untouched until used (a fresh mmap at
// this size): an idle port costs no resident frame memory, and opening a
// port faults in only the headers (~140 pages for 256 frames).  Cost: O(1)
// per take, give_back and release.  Thread-safety: none (the port's thread).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/core/packet.hpp"

namespace flowpath {

class FramePool {
 public:
  static constexpr uint32_t kFrameBytes = PacketBuffer::kCapacity;

  explicit FramePool(uint32_t frames)
      : n_(frames),
        frames_(new uint8_t[size_t(frames) * kFrameBytes]),
        packets_(std::make_unique<Packet[]>(frames)) {
    free_.reserve(frames);
    for (uint32_t i = frames; i-- > 0;) free_.push_back(i);  // 0 on top
  }

  uint32_t size() const noexcept { return n_; }
  uint32_t available() const noexcept { return uint32_t(free_.size()); }
  /// Frames taken and not yet given back (0: none of ours is in flight).
  uint32_t in_flight() const noexcept { return n_ - available(); }

  /// The index on top of the free stack, without taking it (available() > 0).
  uint32_t top() const noexcept { return free_.back(); }
  /// Takes the index on top of the free stack (available() > 0).
  uint32_t take() noexcept {
    uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  /// Puts back a frame taken but never handed out as a Packet.
  void give_back(uint32_t i) noexcept { free_.push_back(i); }

  uint8_t* frame(uint32_t i) noexcept { return frames_.get() + size_t(i) * kFrameBytes; }
  /// Frame i's header, set to len bytes at offset head; user = i.
  Packet& packet(uint32_t i, uint32_t head, uint32_t len) noexcept {
    Packet& p = packets_[i];
    p = Packet(frame(i), kFrameBytes, head, len);
    p.user = i;
    return p;
  }

  bool mine(const Packet& p) const noexcept { return p.user < n_ && &packets_[p.user] == &p; }
  /// Returns one of this pool's packets to it (others: no-op).
  void release(const Packet& p) noexcept {
    if (mine(p)) free_.push_back(uint32_t(p.user));
  }

 private:
  uint32_t n_;
  std::unique_ptr<uint8_t[]> frames_;  // n_ * kFrameBytes, touched on first use
  std::unique_ptr<Packet[]> packets_;  // one header per frame
  std::vector<uint32_t> free_;
};

}  // namespace flowpath
