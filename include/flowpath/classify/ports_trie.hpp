// flowpath/classify/ports_trie.hpp — per-table transport-ports trie for
// megaflow masks, as Open vSwitch's classifier keeps one per subtable
// (lib/classifier.c: ports_trie, ports_mask_len).
//
// Why.  A probe that misses a table whose mask fixes tp_src/tp_dst would
// otherwise put the table's whole mask, all port bits included, into the
// megaflow: one megaflow per source port when a table holds e.g. Neutron's
// DHCP rules (udp,tp_src=68,tp_dst=67) and the traffic comes from
// ephemeral ports.  The trie holds, for every rule of the table, the leading
// `len` bits of the 32-bit value tp_src:tp_dst (network order, tp_src
// first), where `len` is the leading ones of the table's mask on those 32
// bits (every rule of the table fixes them: its mask contains the table's).
// If the key shares only m < len leading bits with every stored value, no
// key with the key's first m+1 port bits can match any rule of the table,
// whatever its other fields: the megaflow gets those m+1 port bits instead
// of the table's mask (the table was probed and missed, so nothing else of
// the table is needed).  OVS adds the m+1 bits to the bits of the stages it
// already consulted; here the tables are not staged, so the port bits alone
// are enough (a subset of what OVS adds).
//
// Layout and concurrency: a BitTrie (bit_trie.hpp) over the value's four
// network-order bytes; all stored values of a table have the same length.
//
// Cost: match_len = up to len (<= 32) dependent node steps, slow path only
// and only for a table that missed; add/remove = len steps.
// Thread-safety: one writer, any number of readers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "flowpath/classify/bit_trie.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath::classify_detail {

/// tp_src:tp_dst as one host-order 32-bit value (tp_src in the high half).
inline uint32_t ports_value(const FlowKey& k) noexcept {
  return (uint32_t{k.tp_src.host()} << 16) | k.tp_dst.host();
}
/// Leading ones of m's tp_src:tp_dst (32 when both are exact).
inline int ports_prefix_len(const FlowMask& m) noexcept { return std::countl_one(ports_value(m)); }
/// ORs the first len bits of tp_src:tp_dst into wc.
inline void or_ports_prefix(FlowMask& wc, int len) noexcept {
  uint32_t p = len <= 0 ? 0 : len >= 32 ? ~0u : ~0u << (32 - len);
  wc.tp_src |= Be16{static_cast<uint16_t>(p >> 16)};
  wc.tp_dst |= Be16{static_cast<uint16_t>(p)};
}

class PortsTrie {
 public:
  /// Adds (delta=+1) or removes (-1) the first len bits of v.
  void update(uint32_t v, int len, int delta) {
    uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
    trie_.update(b, len, delta);
  }
  /// Number of leading bits of v (at most max_bits) shared with at least
  /// one stored value; -1 when nothing is stored.
  int match_len(uint32_t v, int max_bits) const noexcept {
    if (trie_.empty()) return -1;
    uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
    return trie_.match_len(b, max_bits);
  }
  size_t memory_bytes() const noexcept { return trie_.memory_bytes(); }

 private:
  BitTrie trie_;
};

}  // namespace flowpath::classify_detail
