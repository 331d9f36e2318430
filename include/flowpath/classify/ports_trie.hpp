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
// Layout.  All stored values have the same length, so the trie is a plain
// binary trie of depth len with a count per node.  Nodes live in chunks of
// geometrically growing size (64, 128, 256, ... nodes) that never move, so
// a reader follows indices without locks and the directory is 26 pointers;
// a table with few distinct port values costs a few hundred bytes.
//
// Concurrency.  As prefix_trie.hpp: children and counts are atomics, one
// writer; the classifier adds a rule before publishing the version that
// makes it visible and removes it only after a grace period, so a reader
// sees a superset of the live rules and a skip stays correct.  Emptied
// nodes are kept (reused when the same prefix comes back).
//
// Cost: match_len = up to len (<= 32) dependent node steps, slow path only
// and only for a table that missed; add/remove = len steps.
// Thread-safety: one writer, any number of readers.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>

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
  PortsTrie() { alloc_node(); }  // node 0 = root
  ~PortsTrie() {
    for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
  }
  PortsTrie(const PortsTrie&) = delete;
  PortsTrie& operator=(const PortsTrie&) = delete;

  /// Adds (delta=+1) or removes (-1) the first len bits of v.
  void update(uint32_t v, int len, int delta) {
    uint32_t cur = 0;
    bump(node(cur), delta);
    for (int i = 0; i < len; ++i) {
      unsigned bit = (v >> (31 - i)) & 1;
      uint32_t next = node(cur).child[bit].load(std::memory_order_relaxed);
      if (!next) {
        next = alloc_node();
        node(cur).child[bit].store(next, std::memory_order_release);
      }
      bump(node(next), delta);
      cur = next;
    }
  }
  /// Number of leading bits of v (at most max_bits) shared with at least
  /// one stored value; -1 when nothing is stored.
  int match_len(uint32_t v, int max_bits) const noexcept {
    uint32_t cur = 0;
    if (node(cur).count.load(std::memory_order_relaxed) <= 0) return -1;
    int i = 0;
    for (; i < max_bits; ++i) {
      unsigned bit = (v >> (31 - i)) & 1;
      uint32_t next = node(cur).child[bit].load(std::memory_order_acquire);
      if (!next || node(next).count.load(std::memory_order_relaxed) <= 0) break;
      cur = next;
    }
    return i;
  }
  size_t memory_bytes() const noexcept {
    size_t b = sizeof(*this);
    for (int c = 0; c < kChunks; ++c)
      if (chunks_[c].load(std::memory_order_relaxed)) b += (size_t{kBase} << c) * sizeof(Node);
    return b;
  }

 private:
  struct Node {
    std::atomic<uint32_t> child[2] = {0, 0};
    std::atomic<int32_t> count{0};
  };
  // Chunk c holds nodes [kBase*(2^c - 1), kBase*(2^(c+1) - 1)).
  static constexpr uint32_t kBaseBits = 6, kBase = 1u << kBaseBits;
  static constexpr int kChunks = 26;  // ~4G nodes: never the limit

  static void bump(Node& n, int delta) noexcept {  // one writer: no locked RMW
    n.count.store(n.count.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  static int chunk_of(uint32_t i) noexcept { return std::bit_width((i >> kBaseBits) + 1) - 1; }
  Node& node(uint32_t i) const noexcept {
    int c = chunk_of(i);
    uint32_t first = kBase * ((1u << c) - 1);
    return chunks_[c].load(std::memory_order_acquire)[i - first];
  }
  uint32_t alloc_node() {
    int c = chunk_of(n_nodes_);
    if (!chunks_[c].load(std::memory_order_relaxed))
      chunks_[c].store(new Node[size_t{kBase} << c], std::memory_order_release);
    return n_nodes_++;
  }

  std::atomic<Node*> chunks_[kChunks] = {};
  uint32_t n_nodes_ = 0;
};

}  // namespace flowpath::classify_detail
