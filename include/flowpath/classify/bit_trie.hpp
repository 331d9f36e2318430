// flowpath/classify/bit_trie.hpp — the binary trie under the classifier's
// prefix tracking (prefix_trie.hpp: one per address field) and ports
// tracking (ports_trie.hpp: one per table): stored bit strings with a count
// per node, and "how many leading bits of this key does some stored string
// share".
//
// Layout.  Nodes live in chunks of geometrically growing size (64, 128,
// 256, ... nodes) that never move, so a reader follows indices without
// locks, the directory is 26 pointers, and a trie with few distinct
// prefixes (a table's ports) costs a few hundred bytes.
//
// Concurrency.  Children and counts are atomics, one writer.  The
// classifier adds a rule before publishing the version that makes it
// visible and removes it only after a grace period, so a reader sees a
// superset of the live rules: an answer "no stored string shares more than
// d bits" stays correct.  Emptied nodes are kept (reused when the same
// prefix comes back; memory is the high-water mark of distinct prefixes).
//
// Cost: match_len and update = one dependent node step per bit.
// Thread-safety: one writer, any number of readers.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace flowpath::classify_detail {

class BitTrie {
 public:
  BitTrie() { alloc_node(); }  // node 0 = root
  ~BitTrie() {
    for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
  }
  BitTrie(const BitTrie&) = delete;
  BitTrie& operator=(const BitTrie&) = delete;

  /// Adds (delta=+1) or removes (-1) the first len bits of bytes (most
  /// significant bit of bytes[0] first).
  void update(const uint8_t* bytes, int len, int delta) {
    uint32_t cur = 0;
    bump(node(cur), delta);
    for (int i = 0; i < len; ++i) {
      uint32_t next = node(cur).child[bit(bytes, i)].load(std::memory_order_relaxed);
      if (!next) {
        next = alloc_node();
        node(cur).child[bit(bytes, i)].store(next, std::memory_order_release);
      }
      bump(node(next), delta);
      cur = next;
    }
  }
  /// Number of leading bits of `bytes` (at most max_bits) shared with at
  /// least one stored string at least that long; 0 when nothing is stored.
  int match_len(const uint8_t* bytes, int max_bits) const noexcept {
    uint32_t cur = 0;
    if (empty()) return 0;
    int i = 0;
    for (; i < max_bits; ++i) {
      uint32_t next = node(cur).child[bit(bytes, i)].load(std::memory_order_acquire);
      if (!next || node(next).count.load(std::memory_order_relaxed) <= 0) break;
      cur = next;
    }
    return i;
  }
  bool empty() const noexcept { return node(0).count.load(std::memory_order_relaxed) <= 0; }
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

  static unsigned bit(const uint8_t* bytes, int i) noexcept {
    return (bytes[i / 8] >> (7 - i % 8)) & 1;
  }
  // One writer: a plain load + store, no locked read-modify-write.
  static void bump(Node& n, int delta) noexcept {
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
