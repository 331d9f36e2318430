// flowpath/openflow/framing.hpp — sans-I/O framing (a byte stream in,
// whole OpenFlow messages out) and hello version negotiation.
//
//   Framer f;                       // per connection
//   f.feed(bytes_from_socket);      // any split: 1 byte, 3 messages, ...
//   while (auto frame = f.next()) { ... frame->bytes or frame->error ... }
//
// A header whose length is below 8 or above the cap cannot be framed: the
// stream is unrecoverable, so next() returns the OFPT_ERROR to send and
// the Framer stays broken (the channel then closes, as OVS's vconn does).
// The buffer never holds more than one partial message plus what was fed.
//
// negotiate_version() is OVS's rule: with a version bitmap in the peer's
// hello, the highest version in both bitmaps; without one, the highest of
// ours not above the peer's header version; none → OFPET_HELLO_FAILED /
// OFPHFC_INCOMPATIBLE.
//
// Cost: amortised linear in the bytes.  Thread-safety: one Framer per
// connection, not shared.
#pragma once

#include <deque>
#include <variant>

#include "flowpath/openflow/codec.hpp"

namespace flowpath::openflow {

/// Versions we speak, as a hello bitmap (bit v = wire version v).
inline constexpr uint32_t kSupportedVersions = 1u << kOfp10 | 1u << kOfp13 | 1u << kOfp14;

struct Frame {
  std::vector<uint8_t> bytes;  // one whole message (when error is empty)
  std::optional<std::vector<uint8_t>> error;
};

class Framer {
 public:
  explicit Framer(size_t max_message_len = kMaxMessageLen) : max_(max_message_len) {}

  void feed(std::span<const uint8_t> bytes) { buf_.insert(buf_.end(), bytes.begin(), bytes.end()); }

  std::optional<Frame> next() {
    if (broken_ || buf_.size() - head_ < kHeaderLen) return std::nullopt;
    const uint8_t* p = buf_.data() + head_;
    size_t len = size_t(p[2]) << 8 | p[3];
    if (len < kHeaderLen || len > max_) {
      broken_ = true;
      return Frame{{}, make_error_reply(OfpErrc::kBadLen, std::span(p, kHeaderLen))};
    }
    if (buf_.size() - head_ < len) return std::nullopt;
    Frame f{std::vector<uint8_t>(p, p + len), std::nullopt};
    head_ += len;
    if (head_ == buf_.size() || head_ > 65536) {  // compact
      buf_.erase(buf_.begin(), buf_.begin() + std::ptrdiff_t(head_));
      head_ = 0;
    }
    return f;
  }
  size_t buffered() const noexcept { return buf_.size() - head_; }
  /// True when next() has a frame (or a length error) to return.
  bool ready() const noexcept {
    if (broken_ || buffered() < kHeaderLen) return false;
    size_t len = size_t(buf_[head_ + 2]) << 8 | buf_[head_ + 3];
    return len < kHeaderLen || len > max_ || buffered() >= len;
  }
  bool broken() const noexcept { return broken_; }

 private:
  std::vector<uint8_t> buf_;
  size_t head_ = 0;
  size_t max_;
  bool broken_ = false;
};

struct Negotiated {
  uint8_t version = 0;                        // 0 when it failed
  std::optional<std::vector<uint8_t>> error;  // HELLO_FAILED to send, then close
};

/// Our hello: header version = our highest, with the version bitmap.
inline std::vector<uint8_t> make_hello(uint32_t versions = kSupportedVersions, uint32_t xid = 0) {
  uint8_t top = uint8_t(31 - std::countl_zero(versions));
  return encode(Message{top, xid, Hello{versions}});
}

inline Negotiated negotiate_version(uint8_t peer_version, uint32_t peer_bitmap,
                                    uint32_t ours = kSupportedVersions) {
  uint32_t theirs = peer_bitmap;
  if (!theirs) theirs = peer_version >= 31 ? ~0u : (2u << peer_version) - 1;
  uint32_t common = theirs & ours;
  Negotiated n;
  if (common) {
    n.version = uint8_t(31 - std::countl_zero(common));
    return n;
  }
  uint8_t reply_version = uint8_t(31 - std::countl_zero(ours));
  ErrorMsg e{0, 0, false, {}};
  std::string text = "We support versions 0x01, 0x04 and 0x05, you support none of them";
  e.data.assign(text.begin(), text.end());
  n.error = encode(Message{reply_version, 0, e});
  return n;
}

}  // namespace flowpath::openflow
