// flowpath/l2/mac_table_detail.hpp — the parts MacTable is built from:
// an intrusive doubly linked list over a slab, an open-addressing index,
// count buckets that find the port with the most entries in O(1), and the
// per-port token buckets of the learning rate.
// Internal: use l2/mac_table.hpp.
//
// Thread-safety: none (owned by one MacTable).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "flowpath/flow/flow_key.hpp"

namespace flowpath::mac_detail {

inline constexpr uint32_t kNil = 0xffffffffu;

struct Links {
  uint32_t prev = kNil;
  uint32_t next = kNil;
};

struct Entry {
  uint64_t key = 0;  // vlan << 48 | mac
  int64_t used_ms = 0;
  uint32_t port = 0;
  uint32_t port_rec = kNil;
  Links lru;      // global LRU (learned) or static list
  Links by_port;  // per-port LRU (learned only)
  bool is_static = false;
};

/// A list threaded through a slab by one Links member of its elements.
struct List {
  uint32_t head = kNil;
  uint32_t tail = kNil;

  template <class T>
  void push_back(std::vector<T>& v, uint32_t i, Links T::*m) noexcept {
    (v[i].*m) = Links{tail, kNil};
    if (tail != kNil)
      (v[tail].*m).next = i;
    else
      head = i;
    tail = i;
  }
  template <class T>
  void remove(std::vector<T>& v, uint32_t i, Links T::*m) noexcept {
    Links l = v[i].*m;
    if (l.prev != kNil)
      (v[l.prev].*m).next = l.next;
    else
      head = l.next;
    if (l.next != kNil)
      (v[l.next].*m).prev = l.prev;
    else
      tail = l.prev;
    (v[i].*m) = Links{};
  }
  template <class T>
  void move_to_back(std::vector<T>& v, uint32_t i, Links T::*m) noexcept {
    if (tail == i) return;
    remove(v, i, m);
    push_back(v, i, m);
  }
};

inline uint64_t make_key(uint16_t vlan, const EthAddr& mac) noexcept {
  uint64_t k = uint64_t(vlan & kVlanVidMask) << 48;
  for (int i = 0; i < 6; ++i) k |= uint64_t(mac.b[i]) << (40 - 8 * i);
  return k;
}
inline EthAddr key_mac(uint64_t key) noexcept {
  EthAddr m;
  for (int i = 0; i < 6; ++i) m.b[i] = uint8_t(key >> (40 - 8 * i));
  return m;
}
inline std::string format(const EthAddr& m) {
  char s[18];
  std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2], m.b[3],
                m.b[4], m.b[5]);
  return s;
}

/// Open addressing with linear probing over slab indices; at most half
/// full, so probe sequences stay short.  Deletion shifts the following
/// cluster back (no tombstones, so lookups never slow down with churn).
class Index {
 public:
  explicit Index(size_t capacity)
      : slots_(std::bit_ceil(std::max<size_t>(16, capacity * 2)), kNil),
        mask_(slots_.size() - 1),
        shift_(64 - std::countr_zero(slots_.size())) {}

  uint32_t find(uint64_t key, const std::vector<Entry>& e) const noexcept {
    for (size_t s = home(key);; s = (s + 1) & mask_) {
      uint32_t i = slots_[s];
      if (i == kNil || e[i].key == key) return i;
    }
  }
  void insert(uint32_t idx, const std::vector<Entry>& e) noexcept {
    size_t s = home(e[idx].key);
    while (slots_[s] != kNil) s = (s + 1) & mask_;
    slots_[s] = idx;
  }
  void erase(uint32_t idx, const std::vector<Entry>& e) noexcept {
    size_t hole = home(e[idx].key);
    while (slots_[hole] != idx) hole = (hole + 1) & mask_;
    for (size_t s = (hole + 1) & mask_; slots_[s] != kNil; s = (s + 1) & mask_) {
      size_t h = home(e[slots_[s]].key);
      // Move back if the hole lies on the cyclic path home(s) .. s.
      if (((s - h) & mask_) >= ((s - hole) & mask_)) {
        slots_[hole] = slots_[s];
        hole = s;
      }
    }
    slots_[hole] = kNil;
  }

 private:
  size_t home(uint64_t key) const noexcept {
    return size_t((key * 0x9e3779b97f4a7c15ull) >> shift_) & mask_;
  }
  std::vector<uint32_t> slots_;
  size_t mask_;
  int shift_;
};

struct PortRec {
  uint32_t port = 0;
  uint32_t count = 0;  // learned entries on this port
  List list;           // its learned entries, least recently refreshed first
  Links bucket;        // neighbours with the same count
};

/// Ports grouped by entry count.  Counts move by +-1, so the highest
/// non-empty bucket is maintained in O(1) per change.
class CountBuckets {
 public:
  explicit CountBuckets(size_t capacity) : heads_(capacity + 1) {}

  void increment(std::vector<PortRec>& p, uint32_t r) noexcept {
    uint32_t c = p[r].count;
    if (c) heads_[c].remove(p, r, &PortRec::bucket);
    p[r].count = ++c;
    heads_[c].push_back(p, r, &PortRec::bucket);
    if (c > max_) max_ = c;
  }
  void decrement(std::vector<PortRec>& p, uint32_t r) noexcept {
    uint32_t c = p[r].count;
    heads_[c].remove(p, r, &PortRec::bucket);
    p[r].count = --c;
    if (c) heads_[c].push_back(p, r, &PortRec::bucket);
    while (max_ && heads_[max_].head == kNil) --max_;
  }
  /// A port record with the most entries, or kNil when all are empty.
  uint32_t busiest() const noexcept { return max_ ? heads_[max_].head : kNil; }

 private:
  std::vector<List> heads_;
  uint32_t max_ = 0;
};

/// One token bucket per port: `burst` tokens, refilled at `rate` per
/// second (times in ms, never going backwards).  Ports are few (they come
/// from the configuration, not from packets), so a hash map suffices.
class TokenBuckets {
 public:
  TokenBuckets(double rate, uint32_t burst)
      : rate_per_ms_(rate / 1000.0), burst_(burst ? double(burst) : std::max(1.0, rate)) {}

  bool take(uint32_t port, int64_t now) {
    auto [it, fresh] = buckets_.try_emplace(port, Bucket{burst_, now});
    Bucket& b = it->second;
    if (now > b.last_ms) {
      b.tokens = std::min(burst_, b.tokens + double(now - b.last_ms) * rate_per_ms_);
      b.last_ms = now;
    }
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

 private:
  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  double rate_per_ms_;
  double burst_;
  std::unordered_map<uint32_t, Bucket> buckets_;
};

}  // namespace flowpath::mac_detail
