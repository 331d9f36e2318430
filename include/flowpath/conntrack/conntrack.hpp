// flowpath/conntrack/conntrack.hpp — the userspace connection tracker
// behind ct(): per packet, find or create the connection, run its protocol
// state machine, report ct_state/zone/mark/label, apply NAT.
//
// Usage:
//   ct::Conntrack tracker;
//   ct::CtParams p{.zone = 5, .commit = true};
//   ct::CtResult r = tracker.execute(pkt, p, now_ms);   // pkt parsed
//   if (r.state & ct::kCsEstablished) ...
//   tracker.sweep(now_ms);                              // from any thread
//
// Behaviour follows OVS's lib/conntrack*.c: TCP with sequence windows
// (tcp_tracker.hpp), UDP and other protocols (first/multiple/bidir), ICMP
// and ICMPv6 echo (a reply without its request is +inv), ICMP errors
// quoting a tracked connection are +rel (+rpl in the reply direction), an
// uncommitted packet is +new but leaves no state, a commit beyond the zone
// limit or the table limit is refused (counted) and the packet stays +new.
// Fragments are not reassembled: they are +trk+inv and counted (see
// docs/conntrack.md).  Invalid IPv4 header checksums are +inv; L4
// checksums are not verified.
//
// Thread-safety: execute(), sweep(), flush() and the limit setters may run
// concurrently from any threads (see conn_table.hpp).  Memory is bounded by
// max_conns (OVS's default 3,000,000) and the zone limits.
// Cost: an established UDP/ICMP packet is one key extraction and a
// lock-free chain walk, ~19 ns in batches (TCP adds its shard lock, ~33
// ns); a new connection adds an allocation and two shard inserts under two
// locks (~120 ns at 1M connections; docs/benchmarks.md).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "flowpath/conntrack/conn_table.hpp"
#include "flowpath/conntrack/ct_types.hpp"
#include "flowpath/conntrack/nat_rewrite.hpp"
#include "flowpath/conntrack/timeouts.hpp"

namespace flowpath::ct {

struct CtCounters {
  std::atomic<uint64_t> created{0}, expired{0}, invalid{0}, fragments{0}, zone_limit_refused{0},
      table_full_refused{0}, nat_exhausted{0};
};

/// One connection as the dump shows it (a consistent copy).
struct ConnEntry {
  ConnKey orig, reply;
  uint32_t mark = 0;
  CtLabel label{};
  uint32_t timeout_s = 0;
  uint8_t nat = 0;
  uint8_t tcp_state[2] = {0, 0};
  uint8_t tcp_wscale[2] = {0, 0};
  uint8_t tcp_flags[2] = {0, 0};  // OVS's WINDOW_SCALE 0x01, BE_LIBERAL 0x08
  TcpConn tcp{};                  // the whole TCP tracker state (windows too), for exact A/B tests
};

class Conntrack {
 public:
  struct Config {
    uint32_t shard_bits = 10;
    uint32_t max_conns = 3000000;  // OVS's default n_conn_limit
    Timeouts timeouts{};
    bool tcp_seq_check = true;
  };

  Conntrack() : Conntrack(Config{}) {}
  explicit Conntrack(const Config& cfg) : cfg_(cfg), table_(cfg.shard_bits) {
    for (auto& l : zone_limit_) l.store(-1, std::memory_order_relaxed);
  }
  // No thread may use the tracker while it dies, so its entries are not
  // unlinked one by one: they go with the pool's chunks and the bucket
  // arrays (cost: a few munmaps, not a walk of a million entries).
  ~Conntrack() = default;
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  /// Tracks one parsed packet (meta.l3/l4 set) at time now_ms.
  CtResult execute(Packet& pkt, const CtParams& p, int64_t now_ms) noexcept;

  /// Tracks a batch: out[i] is the result of pkts[i] (one epoch read
  /// section for the batch, chain heads prefetched 32 packets ahead).  A
  /// packet whose key equals the previous packet's (a burst of one
  /// connection) reuses its hash and, when that packet found its connection
  /// lock-free, starts from it (try_cached), so the lookup runs once.
  /// Both forms leave in pkt.meta.ct_node the connection's node when the
  /// lock-free path found it (UDP/ICMP/other, no NAT, no mark/label write)
  /// or the locked path found a TCP connection without NAT (a hint for
  /// try_hint; try_cached refuses TCP), else nullptr.
  void execute(std::span<Packet* const> pkts, const CtParams& p, int64_t now_ms,
               CtResult* out) noexcept;

  /// The packet's next ct() from its cached connection (meta.ct_node, set
  /// by its last execute()), as OVS's conntrack starts from pkt->md.conn:
  /// false (nothing done) unless that connection is live, in p.zone, and
  /// the lock-free path would run for it (no force, mark, label, NAT);
  /// else *r is the result execute() would give, without key extraction or
  /// lookup.  The caller promises what makes the node the packet's: it has
  /// held one rcu::ReadGuard since that execute() (the node is not freed),
  /// and cleared ct_node if it rewrote an L3/L4 header since.
  bool try_cached(const Packet& pkt, const CtParams& p, int64_t now_ms, CtResult& r) noexcept {
    return cacheable(p) && try_cached_for(pkt, p, now_ms, r);
  }
  /// Whether a ct() with these parameters can be answered from a cached
  /// connection at all (no force, mark, label or NAT): try_cached's first
  /// test, for a caller that tests it once per batch.
  static bool cacheable(const CtParams& p) noexcept {
    return !(p.force || p.set_mark || p.set_label || p.nat.present);
  }
  /// try_cached() for a caller that checked cacheable(p).
  bool try_cached_for(const Packet& pkt, const CtParams& p, int64_t now_ms, CtResult& r) noexcept;

  /// Changes whenever a connection is claimed for removal (expiry, flush,
  /// ct(force) or a SYN reopening it, an expired entry replaced).  While it
  /// has not changed, no connection has been unlinked, freed or reused.
  uint64_t generation() const noexcept { return gen_.load(std::memory_order_seq_cst); }
  /// A connection hint: the node a lookup found (meta.ct_node after an
  /// execute()) while generation() was `gen`, read before that lookup.
  struct Hint {
    const void* node = nullptr;
    uint64_t gen = 0;
  };
  /// The packet's ct() from a hint that a caller kept across batches (the
  /// datapath's, keyed by flow hash; datapath/recirc_sink.hpp): false
  /// (nothing done) unless the hint is still the connection (generation()
  /// unchanged since it was taken: never unlinked or reused), the packet's
  /// key in p.zone, built from its headers with every check extract_key
  /// makes, is the node's key, and try_cached_for() answers; else *r is
  /// what execute() would give, without the hash or the chain walk, and
  /// meta.ct_node is set as execute() sets it.  A TCP hint runs the
  /// locked path from the node (its shard locks, the state machine and
  /// window checks, a reopen's commit), refusing when the node is no longer
  /// live under those locks.  The caller holds an rcu::ReadGuard and
  /// checked cacheable(p) and h.gen == generation().
  bool try_hint(Packet& pkt, const Hint& h, const CtParams& p, int64_t now_ms,
                CtResult& r) noexcept;

  /// Removes expired connections; returns how many.
  size_t sweep(int64_t now_ms) {
    return remove_if(
        [now_ms](const Conn& c) { return c.expires_ms.load(std::memory_order_relaxed) <= now_ms; });
  }
  /// Removes every connection (of one zone).
  size_t flush(std::optional<uint16_t> zone = std::nullopt) {
    return remove_if([zone](const Conn& c) { return !zone || c.key().zone == *zone; });
  }

  /// Copies of the live connections (of one zone), orig-direction order of
  /// the table (unsorted).
  std::vector<ConnEntry> dump(int64_t now_ms, std::optional<uint16_t> zone = std::nullopt);

  // Zone limits (OVS's dpctl/ct-set-limits): 0 = unlimited.
  void set_default_limit(uint32_t limit) noexcept { default_limit_.store(limit); }
  uint32_t default_limit() const noexcept { return default_limit_.load(); }
  void set_zone_limit(uint16_t zone, uint32_t limit) noexcept { zone_limit_[zone].store(limit); }
  void del_zone_limit(uint16_t zone) noexcept { zone_limit_[zone].store(-1); }
  /// The zone's own limit, or nullopt when it follows the default.
  std::optional<uint32_t> zone_limit(uint16_t zone) const noexcept {
    const int64_t l = zone_limit_[zone].load();
    return l < 0 ? std::nullopt : std::optional<uint32_t>(uint32_t(l));
  }
  uint32_t zone_count(uint16_t zone) const noexcept { return zone_count_[zone].load(); }
  std::vector<uint16_t> zones_with_limits() const {
    std::vector<uint16_t> z;
    for (uint32_t i = 0; i < zone_limit_.size(); ++i)
      if (zone_limit_[i].load(std::memory_order_relaxed) >= 0) z.push_back(uint16_t(i));
    return z;
  }

  uint32_t n_conns() const noexcept { return n_conns_.load(); }
  /// Memory held for connection entries: pool chunks of 2 MiB, kept at
  /// the peak (bounded by max_conns and the zone limits; a refused commit
  /// allocates nothing).
  size_t conn_memory_bytes() const noexcept { return table_.pool().bytes(); }
  /// Connection entries one pool chunk holds.
  size_t conns_per_chunk() const noexcept { return table_.pool().per_chunk(); }
  const CtCounters& counters() const noexcept { return counters_; }
  const Config& config() const noexcept { return cfg_; }

 private:
  struct Ctx;
  template <class Pred>
  size_t remove_if(Pred&& pred);
  // Inlined into the batch loop (measured: a call per packet costs ~10% of
  // an established packet).
  [[gnu::always_inline]] void process(Packet& pkt, const Extracted& x, Extract e, const CtParams& p,
                                      int64_t now, CtResult& r, uint32_t& n_created,
                                      uint32_t rev_hash = 0,
                                      const KeyNode* const* head = nullptr) noexcept;
  void finish_locked(Packet& pkt, KeyNode* n, const Extracted& x, const CtParams& p, int64_t now,
                     CtResult& r, uint32_t& n_created, uint32_t rev_hash, ConnTable::Shard& s,
                     ConnTable::Shard* home) noexcept;
  bool try_hint_tcp(Packet& pkt, KeyNode& n, const CtParams& p, int64_t now, CtResult& r) noexcept;
  bool update_found(Packet& pkt, KeyNode& n, const Extracted& x, const CtParams& p, int64_t now,
                    CtResult& r, Conn** victim) noexcept;
  void commit(Packet& pkt, const Extracted& x, const CtParams& p, int64_t now, CtResult& r,
              uint32_t& n_created, uint32_t rev_hash, ConnTable::Shard* held) noexcept;
  [[gnu::always_inline]] uint8_t touch_other(Conn& c, bool reply, bool icmp, int64_t now) noexcept;
  bool try_fast(Packet& pkt, const Extracted& x, uint32_t h, const CtParams& p, int64_t now,
                CtResult& r, const KeyNode* const* head) noexcept;
  KeyNode* lock_for(const ConnKey& key, uint32_t h, int64_t now, ConnTable::Shard** home) noexcept;
  uint8_t update_existing(Conn& c, bool reply, const Extracted& x, int64_t now, bool* reopen);
  Conn* create(const Extracted& x, const CtParams& p, int64_t now, Packet& pkt, uint8_t* state,
               uint32_t rev_hash = 0, ConnTable::Shard* held = nullptr);
  uint32_t limit_of(uint16_t zone) const noexcept;  // 0 = unlimited
  bool admit(uint16_t zone) noexcept;
  void release(uint16_t zone) noexcept;
  bool insert(Conn* c, int64_t now, ConnTable::Shard* held = nullptr);
  bool choose_nat(Conn* c, const NatSpec& nat, int64_t now, ConnKey* rev_out);
  static void apply_nat(Packet& pkt, uint8_t nat, const ConnKey& orig, const ConnKey& rev,
                        bool reply, const Extracted& x) noexcept;
  // After a Conn's dead flag was won (before it is unlinked or freed).
  void note_claim() noexcept { gen_.fetch_add(1, std::memory_order_seq_cst); }
  void set_expiry(Conn& c, uint32_t seconds, int64_t now) noexcept {
    c.expires_ms.store(now + int64_t(seconds) * 1000, std::memory_order_relaxed);
  }

  Config cfg_;
  ConnTable table_;
  CtCounters counters_;
  std::atomic<uint32_t> n_conns_{0};
  std::atomic<uint64_t> gen_{0};  // generation(): bumped by every claim
  std::atomic<uint32_t> default_limit_{0};
  std::array<std::atomic<int64_t>, 65536> zone_limit_;
  std::array<std::atomic<uint32_t>, 65536> zone_count_{};
  std::mutex nat_mutex_;  // serialises NAT tuple choice (a slow path)
};

}  // namespace flowpath::ct

#include "flowpath/conntrack/conntrack_impl.hpp"
