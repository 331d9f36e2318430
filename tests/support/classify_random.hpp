// tests/support/classify_random.hpp — random rule sets and keys for the
// classifier's differential tests and benchmarks, plus a linear reference
// that also understands port ranges.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath::testing {

/// Zeroes what a parsed key never has set (padding, and recirc_id on a
/// first pass), so a random key is one the datapath could build.
inline void clear_padding(FlowKey& k) {
  k.recirc_id = 0;
  k.pad4_ = 0;
  std::fill(std::begin(k.pad1_), std::end(k.pad1_), 0);
  k.ct_label_id = 0;
  std::fill(std::begin(k.pad3_), std::end(k.pad3_), 0);
}

struct RandomRule {
  Match match;
  int32_t priority;
  PortRanges ranges;
};

/// Reference: linear scan, highest priority, then earliest insertion.
struct RangeLinear {
  struct Entry {
    RandomRule r;
    int id;
    uint64_t seq;
  };
  std::vector<Entry> rules;
  uint64_t seq = 0;
  void insert(const RandomRule& r, int id) {
    for (auto& e : rules)
      if (e.r.priority == r.priority && e.r.match == r.match && e.r.ranges == r.ranges) {
        e.id = id;
        return;
      }
    rules.push_back({r, id, seq++});
  }
  bool remove(const RandomRule& r) {
    for (auto it = rules.begin(); it != rules.end(); ++it)
      if (it->r.priority == r.priority && it->r.match == r.match && it->r.ranges == r.ranges) {
        rules.erase(it);
        return true;
      }
    return false;
  }
  const Entry* lookup(const FlowKey& k) const {
    const Entry* best = nullptr;
    for (const auto& e : rules)
      if (e.r.match.matches(k) && e.r.ranges.contain(k) &&
          (!best || e.r.priority > best->r.priority ||
           (e.r.priority == best->r.priority && e.seq < best->seq)))
        best = &e;
    return best;
  }
};

/// Generates overlapping rules over many kinds of fields: small value pools
/// so that rules and keys collide often.
class RuleGen {
 public:
  explicit RuleGen(uint32_t seed, bool ranges = true) : rng_(seed), ranges_(ranges) {}

  RandomRule rule() {
    FlowKey v, m;
    if (coin(4)) v.in_port = pick(3) + 1, m.in_port = ~0u;
    if (coin(5)) {
      v.dl_dst.b[5] = static_cast<uint8_t>(pick(4));
      m.dl_dst.b[5] = static_cast<uint8_t>(coin(2) ? 0xff : 0x0f);
    }
    if (coin(2)) v.dl_type = Be16{coin(4) ? kEthTypeIpv6 : kEthTypeIpv4}, m.dl_type = Be16{0xffff};
    if (coin(5)) v.vlans[0].tci = Be16{uint16_t(kVlanCfi | pick(3))}, m.vlans[0].tci = Be16{0x1fff};
    prefix32(v.nw_src, m.nw_src);
    prefix32(v.nw_dst, m.nw_dst);
    if (coin(5)) {
      int len = static_cast<int>(pick(129));
      for (int i = 0; i < 16; ++i) {
        v.ipv6_src.b[i] = static_cast<uint8_t>(i < 2 ? 0x20 : pick(3));
        int bits = std::clamp(len - 8 * i, 0, 8);
        m.ipv6_src.b[i] = static_cast<uint8_t>(bits ? 0xff << (8 - bits) : 0);
      }
    }
    if (coin(2)) v.nw_proto = coin(2) ? kIpProtoTcp : kIpProtoUdp, m.nw_proto = 0xff;
    if (coin(6)) v.nw_tos = static_cast<uint8_t>(pick(4) << 2), m.nw_tos = 0xfc;
    PortRanges rg;
    port(v.tp_src, m.tp_src, rg.tp_src);
    port(v.tp_dst, m.tp_dst, rg.tp_dst);
    return RandomRule{Match(v, m), static_cast<int32_t>(pick(16)) - 4, rg};
  }

  /// A key near a rule: its value with some bits flipped, or random.
  FlowKey key_near(const RandomRule& r) {
    FlowKey k = r.match.value;
    if (!r.ranges.tp_src.full()) k.tp_src = Be16{port_in(r.ranges.tp_src)};
    if (!r.ranges.tp_dst.full()) k.tp_dst = Be16{port_in(r.ranges.tp_dst)};
    int flips = static_cast<int>(pick(4));
    auto* b = reinterpret_cast<uint8_t*>(&k);
    static constexpr int kOffsets[] = {0,  13, 21, 27, 32,  33,  35,  36, 39,
                                       41, 55, 76, 77, 112, 113, 114, 115};
    for (int i = 0; i < flips; ++i)
      b[kOffsets[pick(std::size(kOffsets))]] ^= static_cast<uint8_t>(1u << pick(8));
    clear_padding(k);
    return k;
  }

  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
  bool coin(uint32_t one_in) { return pick(one_in) == 0; }
  std::mt19937& rng() { return rng_; }

 private:
  void prefix32(Be32& v, Be32& m) {
    if (coin(3)) return;
    static constexpr uint32_t kBases[] = {0x0a000000, 0x0a010000, 0x0a010100,
                                          0xc0000200, 0xc6336400, 0x0a0000ff};
    uint32_t base = kBases[pick(std::size(kBases))] | pick(4);
    int len = static_cast<int>(pick(33));
    if (coin(8)) {
      m = Be32{0xff00ff00u};
    } else {
      m = Be32{len ? ~0u << (32 - len) : 0};
    }
    v = Be32{base} & m;
  }
  void port(Be16& v, Be16& m, PortRange& r) {
    uint32_t kind = pick(6);
    if (kind == 0) v = Be16{uint16_t(pick(4) + 79)}, m = Be16{0xffff};
    if (kind == 1) {
      uint16_t mask = uint16_t(0xffff << pick(16));
      v = Be16{uint16_t(pick(1 << 16) & mask)}, m = Be16{mask};
    }
    if (kind == 2 && ranges_) {
      uint16_t a = uint16_t(pick(4) * 1000 + pick(64)), b = uint16_t(a + pick(3000));
      r = PortRange{a, b};
    }
    if (kind == 3 && ranges_) r = PortRange{1024, 65535};
  }
  uint16_t port_in(PortRange r) { return uint16_t(r.lo + pick(uint32_t(r.hi - r.lo) + 1)); }

  std::mt19937 rng_;
  bool ranges_;
};

/// Random key agreeing with `key` on the bits of wc (noise near `near`
/// half of the time, so that the probe lands near rule boundaries).
inline FlowKey probe_inside(RuleGen& g, const FlowKey& key, const FlowMask& wc,
                            const FlowKey& near) {
  FlowKey k;
  for (size_t i = 0; i < FlowKey::kWords; ++i) {
    uint64_t r = (uint64_t(g.rng()()) << 32) | g.rng()();
    uint64_t noise = g.coin(2) ? near.word(i) ^ (r & (r >> 7) & (r >> 13)) : r;
    k.words()[i] = (key.word(i) & wc.word(i)) | (noise & ~wc.word(i));
  }
  clear_padding(k);
  return k;
}

}  // namespace flowpath::testing
