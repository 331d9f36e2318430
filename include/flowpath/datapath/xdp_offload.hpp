// flowpath/datapath/xdp_offload.hpp — the userspace half of the XDP fast
// path: which megaflows go into the kernel's exact-match map, when they
// leave it, and how kernel hits reach the counters.
//
//   XdpOffload off(fast_path);         // io/xdp_fast_path.hpp (shared maps)
//   dp.process(batch, sink);
//   off.offer(batch, dp.megaflows());  // after each batch (PMD traffic only)
//   dp.revalidate_if_needed();
//   off.sweep(dp.megaflows());         // before the generation is published
//   off.collect(now_ms);               // now and then: kernel hits -> counters
//
// What is offered.  Every packet that reaches the PMD missed the kernel (or
// was punted).  offer() builds the packet's exact kernel key from its
// FlowKey (xdp_key_from, io/xdp_fast_encode.hpp: the fields the program
// parses, built the same way) and inserts key -> encoded actions when (1)
// the packet's shape is one the program takes (IPv4 non-fragment or IPv6
// without extension headers, TCP or UDP, at most one VLAN tag), (2) its
// megaflow's mask consults nothing the kernel key lacks (tcp_flags is the
// only such field for that shape), and (3) the actions encode
// (xdp_flow_from: VLAN pop/push/VID/PCP, set-field of Ethernet/IPv4
// addresses, TOS, TTL, TCP/UDP ports with the executor's checksum updates,
// at most one output, at most 8 ops; none = drop).  Then every packet with
// that kernel key matches the megaflow, so the kernel decides exactly as
// the userspace datapath would.  Refusals are remembered per megaflow
// (pointer + serial), so an uncacheable flow costs one table probe per
// packet, not an encoding.
//
// The invariant across both paths (DESIGN.md: no packet forwarded by a
// removed decision).  Each kernel entry remembers its megaflow and serial.
// sweep() deletes every entry whose megaflow died (revalidation, flush,
// limit eviction); the PMD calls it after revalidating and BEFORE it
// publishes the generation it has seen (switch/pmd.hpp), so when the
// switch's fence reports a change in effect, the entries it invalidated
// are gone from the map.  A delete is RCU-visible at once to new lookups;
// only a packet already past its lookup on another CPU may finish — the
// same window as a userspace batch in flight.  Port removal also clears
// the port's devmap slot first, so entries naming it punt to the PMD.
//
// Counters.  Kernel hits are per-CPU adds in the entry's counter slot
// (io/xdp_fast_path.hpp).  collect() reads every entry and credits the
// delta to the megaflow (and so its OpenFlow rules: dump-flows n_packets);
// a deleted entry's last delta comes from XdpFastPath::take (lookup and
// delete in one step) and goes to the rules it was made from.
//
// Cost: offer is one hash probe per PMD packet (+ an encode and a map
// update once per flow); sweep is O(entries) only when megaflows were
// removed; collect is one syscall per entry.  Thread-safety: one PMD.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "flowpath/classify/megaflow_cache.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/io/xdp_fast_encode.hpp"
#include "flowpath/io/xdp_fast_path.hpp"

namespace flowpath {

struct XdpOffloadStats {
  uint64_t inserted = 0, refused = 0, removed = 0, insert_failed = 0;
  uint64_t kernel_packets = 0, kernel_bytes = 0;  // credited so far
};

class XdpOffload {
 public:
  explicit XdpOffload(XdpFastPath& fp) : fp_(fp) {}
  XdpOffload(const XdpOffload&) = delete;
  XdpOffload& operator=(const XdpOffload&) = delete;
  ~XdpOffload() { clear(); }

  /// Offers the flows of a batch the datapath has just processed.
  template <class B>
  void offer(const Batch& batch, MegaflowCache<B>& megaflows) noexcept {
    for (uint32_t i = 0; i < batch.count; ++i) {
      fp_xdp_key k;
      if (!xdp_key_from(batch.keys[i], k) || entries_.contains(k)) continue;
      if (!fp_.has_port(k.in_port)) continue;  // no fast-path program there (TAP, opted out)
      MegaflowEntry* e = megaflows.lookup(batch.keys[i]);
      if (!e) continue;  // uncached decision (a limit refused it)
      auto r = refused_.find(e);
      if (r != refused_.end() && r->second == e->serial) continue;
      fp_xdp_flow f;
      decltype(entries_)::iterator it;
      if (e->match.mask.tcp_flags.host() != 0 || !xdp_flow_from(e->actions, k, f) ||
          !output_in_kernel(f)) {
        refused_[e] = e->serial;
        ++stats_.refused;
        continue;
      }
      try {
        uint32_t out =
            f.n_ops && f.ops[f.n_ops - 1].type == FP_XDP_OP_OUTPUT ? f.ops[f.n_ops - 1].port : 0;
        Tracked t{e, e->serial, 0, 0, k.in_port, out, 0, e->rule_stats};
        it = entries_.emplace(k, std::move(t)).first;
      } catch (...) {
        return;  // out of memory: the userspace path still serves the flow
      }
      if (!fp_.insert(k, f, &it->second.slot)) {
        entries_.erase(it);
        ++stats_.insert_failed;  // map full (or another PMD's entry): the PMD keeps the flow
        continue;
      }
      by_flow_[e] = e->serial;
      ++stats_.inserted;
    }
  }

  /// Deletes the kernel entries of removed megaflows (call after every
  /// revalidation, before publishing the generation).  O(1) when no
  /// megaflow was removed since the last call.
  template <class B>
  void sweep(const MegaflowCache<B>& megaflows, int64_t now_ms) noexcept {
    uint64_t removed = megaflows.counters().removed;
    if (removed == seen_removed_) return;
    seen_removed_ = removed;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.flow->alive(it->second.serial)) {
        ++it;
        continue;
      }
      retire(it->first, it->second, now_ms);
      it = entries_.erase(it);
    }
    std::erase_if(refused_, [](const auto& p) { return !p.first->alive(p.second); });
    std::erase_if(by_flow_, [](const auto& p) { return !p.first->alive(p.second); });
  }

  /// Reads every entry's kernel counters and credits the deltas.
  void collect(int64_t now_ms) noexcept {
    for (auto& [k, t] : entries_) {
      fp_xdp_flow f;
      if (fp_.counts(t.slot, f)) credit(t, f, now_ms);
    }
  }

  /// Deletes every entry (switch stop, fast path turned off).
  void clear(int64_t now_ms = 0) noexcept {
    for (auto& [k, t] : entries_) retire(k, t, now_ms);
    entries_.clear();
    refused_.clear();
    by_flow_.clear();
  }

  /// True when the megaflow has at least one kernel entry (dump-flows).
  bool offloaded(const MegaflowEntry& e) const noexcept {
    auto it = by_flow_.find(&e);
    return it != by_flow_.end() && e.alive(it->second);
  }
  size_t size() const noexcept { return entries_.size(); }
  /// Kernel-forwarded packets received on / sent to datapath port dp.
  struct PortCounts {
    uint64_t rx = 0, tx = 0;
  };
  PortCounts port(uint32_t dp) const noexcept {
    return dp < FP_XDP_MAX_PORTS ? ports_[dp] : PortCounts{};
  }
  const XdpOffloadStats& stats() const noexcept { return stats_; }

 private:
  struct Tracked {
    MegaflowEntry* flow;
    uint32_t serial;
    uint64_t packets, bytes;     // kernel counts credited so far
    uint32_t in_port, out_port;  // out_port 0: a drop
    uint32_t slot;               // the entry's counter slot (XdpFastPath)
    std::vector<std::shared_ptr<RuleStats>> rules;
  };
  struct KeyHash {
    size_t operator()(const fp_xdp_key& k) const noexcept {
      uint64_t h = 0xcbf29ce484222325ull, w;
      const auto* p = reinterpret_cast<const unsigned char*>(&k);
      for (size_t i = 0; i < sizeof k; i += 8) {
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
      }
      return size_t(h);
    }
  };
  struct KeyEq {
    bool operator()(const fp_xdp_key& a, const fp_xdp_key& b) const noexcept {
      return std::memcmp(&a, &b, sizeof a) == 0;
    }
  };
  static_assert(sizeof(fp_xdp_key) % 8 == 0);

  bool output_in_kernel(const fp_xdp_flow& f) const noexcept {
    if (f.n_ops == 0 || f.ops[f.n_ops - 1].type != FP_XDP_OP_OUTPUT) return true;  // drop
    return fp_.has_port(f.ops[f.n_ops - 1].port);
  }
  void credit(Tracked& t, const fp_xdp_flow& f, int64_t now_ms) noexcept {
    if (f.packets <= t.packets) return;
    uint64_t dp = f.packets - t.packets, db = f.bytes - t.bytes;
    t.packets = f.packets, t.bytes = f.bytes;
    stats_.kernel_packets += dp;
    stats_.kernel_bytes += db;
    if (t.in_port < FP_XDP_MAX_PORTS) ports_[t.in_port].rx += dp;
    if (t.out_port && t.out_port < FP_XDP_MAX_PORTS) ports_[t.out_port].tx += dp;
    if (t.flow->alive(t.serial))
      t.flow->credit(StatsWriter::shared(), dp, db, now_ms, 0);
    else
      for (const auto& r : t.rules) r->add(dp, db, now_ms);
  }
  void retire(const fp_xdp_key& k, Tracked& t, int64_t now_ms) noexcept {
    fp_xdp_flow f;
    if (fp_.take(k, f))
      credit(t, f, now_ms);
    else
      fp_.erase(k);
    ++stats_.removed;
  }

  XdpFastPath& fp_;
  std::unordered_map<fp_xdp_key, Tracked, KeyHash, KeyEq> entries_;
  std::unordered_map<const MegaflowEntry*, uint32_t> refused_;  // serial when refused
  std::unordered_map<const MegaflowEntry*, uint32_t> by_flow_;  // serial when offloaded
  uint64_t seen_removed_ = 0;
  std::unique_ptr<PortCounts[]> ports_ = std::make_unique<PortCounts[]>(FP_XDP_MAX_PORTS);
  XdpOffloadStats stats_;
};

}  // namespace flowpath
