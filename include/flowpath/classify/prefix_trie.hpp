// flowpath/classify/prefix_trie.hpp — prefix tracking for megaflow masks:
// one binary trie per address field (nw_src, nw_dst, ipv6_src, ipv6_dst)
// over every rule's leading prefix on that field, as Open vSwitch does.
//
// Why.  A probe that misses a table hashing nw_dst /24 would otherwise put
// all 24 bits into the megaflow.  The trie tells how far the key's address
// agrees with *any* rule's prefix: if no rule prefix shares the key's first
// d+1 bits, every table whose mask has >= d+1 leading bits on that field
// cannot match any key with those d+1 bits, so the table is skipped and the
// megaflow gets only those d+1 bits (the shortest such field is chosen).
// A rule enters the trie with the leading ones of its mask (so non-CIDR
// masks are handled conservatively); a table's length is the leading ones
// of its mask, which never exceeds any of its rules'.
//
// Concurrency.  Nodes live in chunks that never move; children and counts
// are atomics.  The writer adds a rule before publishing the version that
// makes it visible and removes it only after a grace period, so a reader
// sees a superset of the live rules: skips stay correct.  Emptied nodes are
// kept for reuse (memory is the high-water mark of distinct prefixes).
//
// Cost: probe = up to width*8 node steps per field (slow path only); add
// and remove = prefix length steps.  Thread-safety: one writer, any readers.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath::classify_detail {

class BitTrie {
 public:
  BitTrie() { alloc_node(); }  // node 0 = root
  ~BitTrie() {
    for (auto* c : chunks_) delete[] c;
  }
  BitTrie(const BitTrie&) = delete;
  BitTrie& operator=(const BitTrie&) = delete;

  /// Adds (delta=+1) or removes (-1) the first len bits of bytes.
  void update(const uint8_t* bytes, int len, int delta) {
    uint32_t cur = 0;
    bump(node(cur), delta);
    for (int i = 0; i < len; ++i) {
      int bit = (bytes[i / 8] >> (7 - i % 8)) & 1;
      uint32_t next = node(cur).child[bit].load(std::memory_order_relaxed);
      if (!next) {
        next = alloc_node();
        node(cur).child[bit].store(next, std::memory_order_release);
      }
      bump(node(next), delta);
      cur = next;
    }
  }
  /// Number of leading bits of `bytes` (at most max_bits) shared with at
  /// least one stored prefix at least that long.
  int match_len(const uint8_t* bytes, int max_bits) const noexcept {
    uint32_t cur = 0;
    if (node(cur).count.load(std::memory_order_relaxed) <= 0) return 0;
    int i = 0;
    for (; i < max_bits; ++i) {
      int bit = (bytes[i / 8] >> (7 - i % 8)) & 1;
      uint32_t next = node(cur).child[bit].load(std::memory_order_acquire);
      if (!next || node(next).count.load(std::memory_order_relaxed) <= 0) break;
      cur = next;
    }
    return i;
  }
  size_t memory_bytes() const noexcept { return chunks_.size() * kChunk * sizeof(Node); }

 private:
  struct Node {
    std::atomic<uint32_t> child[2] = {0, 0};
    std::atomic<int32_t> count{0};
  };
  static constexpr uint32_t kChunkBits = 12, kChunk = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 1u << 14;  // 64M nodes

  // One writer: a plain load + store, no locked read-modify-write.
  static void bump(Node& n, int delta) noexcept {
    n.count.store(n.count.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  Node& node(uint32_t i) const noexcept {
    return chunk_ptrs_[i >> kChunkBits].load(std::memory_order_acquire)[i & (kChunk - 1)];
  }
  uint32_t alloc_node() {
    if (n_nodes_ % kChunk == 0) {
      auto* c = new Node[kChunk];
      chunks_.push_back(c);
      chunk_ptrs_[n_nodes_ >> kChunkBits].store(c, std::memory_order_release);
    }
    return n_nodes_++;
  }

  std::unique_ptr<std::atomic<Node*>[]> chunk_ptrs_ { new std::atomic<Node*>[ kMaxChunks ]() };
  std::vector<Node*> chunks_;
  uint32_t n_nodes_ = 0;
};

/// Per-lookup trie answers: for each tracked field, key bits shared with
/// some rule prefix (-1: tracking off).
struct TrieResult {
  int len[4] = {-1, -1, -1, -1};

  /// When some field proves the table (prefix lengths lens) cannot match,
  /// ORs that field's len+1 leading bits into wc and returns true.
  bool explain_skip(const uint8_t* lens, FlowMask& wc) const noexcept {
    int best = -1;
    for (int f = 0; f < 4; ++f)
      if (len[f] >= 0 && lens[f] > len[f] && (best < 0 || len[f] < len[best])) best = f;
    if (best < 0) return false;
    AddrField a = kAddrFields[best];
    uint8_t* w = bytes_of(wc) + a.offset;
    for (int i = 0, bits = len[best] + 1; bits > 0; ++i, bits -= 8)
      w[i] |= bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    return true;
  }
};

class PrefixTries {
 public:
  template <class Rule>
  void add(const Rule& r) {
    update(r, +1);
  }
  template <class Rule>
  void remove(const Rule& r) {
    update(r, -1);
  }
  TrieResult probe(const FlowKey& key, bool enabled) const noexcept {
    TrieResult tr;
    if (!enabled) return tr;
    for (int f = 0; f < 4; ++f) {
      AddrField a = kAddrFields[f];
      tr.len[f] = tries_[f].match_len(bytes_of(key) + a.offset, a.width * 8);
    }
    return tr;
  }
  size_t memory_bytes() const noexcept {
    size_t b = 0;
    for (const auto& t : tries_) b += t.memory_bytes();
    return b;
  }

 private:
  template <class Rule>
  void update(const Rule& r, int delta) {
    for (int f = 0; f < 4; ++f) {
      int len = leading_ones(r.match.mask, kAddrFields[f]);
      if (len > 0) tries_[f].update(bytes_of(r.match.value) + kAddrFields[f].offset, len, delta);
    }
  }

  BitTrie tries_[4];
};

}  // namespace flowpath::classify_detail
