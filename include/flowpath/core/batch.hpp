// flowpath/core/batch.hpp — a batch of at most 32 packets.
//
// As in BESS, a batch is a plain array of packet pointers plus a count.
// Side arrays (structure of arrays) hold what the pipeline derives per
// packet — the flow key and its hash — so that a stage that only needs
// hashes streams through 32 contiguous uint32_t, and a classifier reads
// keys from one contiguous, 8-byte-aligned array.
//
// Index i of every side array belongs to pkts[i].  The batch does not own
// the packets.  Cost: push() is one store; nothing allocates.
// Thread-safety: none (one thread at a time).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "flowpath/core/packet.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

inline constexpr uint32_t kBatchSize = 32;

struct Batch {
  std::array<Packet*, kBatchSize> pkts{};
  uint32_t count = 0;
  alignas(64) std::array<FlowKey, kBatchSize> keys{};
  alignas(64) std::array<uint32_t, kBatchSize> hashes{};

  bool full() const noexcept { return count == kBatchSize; }
  bool empty() const noexcept { return count == 0; }
  uint32_t size() const noexcept { return count; }
  void clear() noexcept { count = 0; }
  /// Appends a packet; false when the batch is full.
  bool push(Packet* p) noexcept {
    if (count == kBatchSize) return false;
    pkts[count++] = p;
    return true;
  }
  Packet& operator[](uint32_t i) noexcept { return *pkts[i]; }
  std::span<Packet* const> packets() const noexcept { return {pkts.data(), count}; }
  std::span<const FlowKey> key_span() const noexcept { return {keys.data(), count}; }
  std::span<const uint32_t> hash_span() const noexcept { return {hashes.data(), count}; }

  auto begin() noexcept { return pkts.begin(); }
  auto end() noexcept { return pkts.begin() + count; }
};

}  // namespace flowpath
