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
// Concurrency and layout: bit_trie.hpp (one writer, lock-free readers that
// see a superset of the live rules, so skips stay correct).
//
// Cost: probe = up to width*8 node steps per field (slow path only); add
// and remove = prefix length steps.  Thread-safety: one writer, any readers.
#pragma once

#include <algorithm>
#include <cstdint>

#include "flowpath/classify/bit_trie.hpp"
#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath::classify_detail {

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
