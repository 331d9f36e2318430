// flowpath/flow/pipeline_meta.hpp — the OpenFlow pipeline's metadata that
// is not part of the datapath's FlowKey: registers reg0..reg15 (xreg0..7
// are pairs of them), conj_id and ct_label.
//
// Why apart from FlowKey: registers and conj_id exist only while one packet
// is translated through the OpenFlow tables (Open vSwitch zeroes them at the
// start of every translation, so they never reach a megaflow); the EMC and
// megaflow caches compare and hash every key word, and 88 more bytes there
// would cost every packet.  ct_label is the connection tracker's 128-bit
// label: it belongs to the datapath, but Neutron's firewall never matches
// it, so it waits here until a datapath needs it (docs/flow-syntax.md).
//
// Layout: big-endian bytes, like FlowKey's header fields, so that the field
// registry reads both with the same code: xreg0 = reg0 << 32 | reg1 (reg0
// is the upper half, as in OVS).
//
//   byte  field
//   0     regs[16]   Be32 each
//   64    ct_label   16 bytes, most significant first
//   80    conj_id    Be32
//   84    (pad)      4
//
// Thread-safety: plain value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "flowpath/core/byte_order.hpp"

namespace flowpath {

inline constexpr size_t kNumRegs = 16;

struct alignas(8) PipelineMeta {
  static constexpr size_t kWords = 11;

  Be32 regs[kNumRegs];
  std::array<uint8_t, 16> ct_label{};
  Be32 conj_id;
  uint8_t pad_[4] = {};

  uint64_t* words() noexcept { return reinterpret_cast<uint64_t*>(this); }
  const uint64_t* words() const noexcept { return reinterpret_cast<const uint64_t*>(this); }

  bool is_zero() const noexcept {
    uint64_t acc = 0;
    for (size_t i = 0; i < kWords; ++i) acc |= words()[i];
    return acc == 0;
  }
  /// True when meta & mask == value (value already masked).
  bool masked_equal(const PipelineMeta& mask, const PipelineMeta& value) const noexcept {
    uint64_t diff = 0;
    for (size_t i = 0; i < kWords; ++i) diff |= (words()[i] & mask.words()[i]) ^ value.words()[i];
    return diff == 0;
  }
  void apply_mask(const PipelineMeta& mask) noexcept {
    for (size_t i = 0; i < kWords; ++i) words()[i] &= mask.words()[i];
  }

  friend bool operator==(const PipelineMeta& a, const PipelineMeta& b) noexcept {
    uint64_t diff = 0;
    for (size_t i = 0; i < kWords; ++i) diff |= a.words()[i] ^ b.words()[i];
    return diff == 0;
  }
};
static_assert(sizeof(PipelineMeta) == 88);
static_assert(offsetof(PipelineMeta, ct_label) == 64 && offsetof(PipelineMeta, conj_id) == 80);

}  // namespace flowpath
