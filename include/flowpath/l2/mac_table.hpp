// flowpath/l2/mac_table.hpp — the MAC learning table of a NORMAL bridge:
// (VLAN, MAC) -> OpenFlow port, with aging, a hard capacity and fair
// eviction.
//
// Design.  A learning switch believes whatever source addresses it sees,
// so the table is the part of a bridge that strangers write to.  Three
// rules keep it honest:
//
//  * Aging.  An entry not refreshed by traffic for `aging_ms` (default
//    300 s, as Open vSwitch and 802.1D) is forgotten: lookup() stops
//    returning it at once, expire() reclaims it.  Entries sit on one
//    global LRU list ordered by last refresh, so expire() touches only
//    what it removes.
//  * Capacity with fair eviction.  When the table is full, a new address
//    evicts the least recently refreshed entry *of the port that holds the
//    most entries* (an aged-out entry is reclaimed first if there is one).
//    A host flooding random source MACs from one port therefore only
//    recycles its own entries; the few hosts known on other ports stay and
//    keep being forwarded unicast.  This is Open vSwitch's defence (see its
//    mac-learning.h); OVS keeps ports in a heap by entry count, here ports
//    sit in count buckets (an entry count changes by +-1, so the busiest
//    port is found and maintained in O(1)).
//  * Learning rate per port (optional, learn_rate > 0).  Each port has a
//    token bucket (learn_burst tokens, refilled at learn_rate per second);
//    learning a new address, re-learning an aged-out one or moving one to
//    this port takes a token, refreshing does not.  Without a token learn()
//    changes nothing, returns kRefused and counts it (refused()): a port
//    spraying source addresses then churns at most learn_rate entries per
//    second, whatever it sends.  Open vSwitch has no such limit (it relies
//    on capacity and fair eviction, and rate-limits upcalls instead); here
//    it also bounds the invalidation work a flood causes downstream.
//  * Change hook.  set_change_hook(f) calls f(vlan, &mac) for every entry
//    whose lookup answer changed (learned, moved, aged out, evicted,
//    removed, static added) and f(0, nullptr) for a flush: what the
//    datapath needs to invalidate only the flows built from that entry.
//  * Generation.  Every change that may alter a lookup answer (learned,
//    moved, aged out, evicted, removed, flushed, static added) increments
//    generation(); the datapath compares it to decide when cached
//    forwarding decisions (megaflows built from lookups) must be
//    revalidated.  Refreshing an entry on the same port does not.
//
// Static entries (add_static) never age and are never evicted; learn()
// does not move them.  They count towards capacity.
//
// Storage: a fixed slab of `capacity` entries, an open-addressing index
// (linear probing, load <= 1/2, backward-shift deletion) keyed by
// vlan << 48 | mac, intrusive LRU lists through the slab.  learn(),
// lookup(), remove() are O(1); nothing allocates after construction except
// the small per-port record when a port is first seen.
//
// Cost: lookup/learn ~10-30 ns plus one clock read (the system clock is
// ~30 ns here: pass `now_ms` explicitly to amortise it over a batch).  Slow
// path only: the fast path uses the megaflows built from these answers.
// Thread-safety: none; one writer (the upcall thread) owns the table.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "flowpath/core/clock.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/l2/mac_table_detail.hpp"

namespace flowpath {

struct MacTableConfig {
  size_t capacity = 8192;
  int64_t aging_ms = 300'000;
  double learn_rate = 0;     // learnings per second per port; 0 = unlimited
  uint32_t learn_burst = 0;  // bucket size; 0 = max(1, learn_rate)
};

/// kLearned and kMoved change forwarding (generation() moved); kRefreshed
/// only restarted the entry's age; kUnchanged: a static entry was hit, or
/// the table is full of static entries and nothing could be learned;
/// kRefused: the port's learning rate is spent, nothing changed.
enum class LearnResult { kUnchanged, kRefreshed, kLearned, kMoved, kRefused };

class MacTable {
  using Entry = mac_detail::Entry;
  static constexpr uint32_t kNil = mac_detail::kNil;

 public:
  explicit MacTable(MacTableConfig cfg = {}, const Clock* clock = Clock::system())
      : cfg_(validate(cfg, clock)),
        clock_(clock),
        entries_(cfg.capacity),
        index_(cfg.capacity),
        buckets_(cfg.capacity),
        rate_(cfg.learn_rate, cfg.learn_burst) {
    free_.reserve(cfg.capacity);
    for (size_t i = cfg.capacity; i-- > 0;) free_.push_back(uint32_t(i));
  }

  LearnResult learn(uint16_t vlan, const EthAddr& mac, uint32_t port) {
    return learn(vlan, mac, port, clock_->now_ms());
  }
  /// As above with the time already read from this table's clock (reading
  /// the system clock costs more than the learn itself: a caller handling
  /// a batch reads it once).  Times passed must not go backwards.
  LearnResult learn(uint16_t vlan, const EthAddr& mac, uint32_t port, int64_t now) {
    uint64_t key = mac_detail::make_key(vlan, mac);
    uint32_t idx = index_.find(key, entries_);
    if (idx != kNil) {
      Entry& e = entries_[idx];
      if (e.is_static) return LearnResult::kUnchanged;
      bool was_expired = expired(e, now);
      if (e.port == port && !was_expired) {
        e.used_ms = now;
        lru_.move_to_back(entries_, idx, &Entry::lru);
        port_rec(e.port_rec).list.move_to_back(entries_, idx, &Entry::by_port);
        return LearnResult::kRefreshed;
      }
      if (!take_token(port, now)) return LearnResult::kRefused;
      e.used_ms = now;
      lru_.move_to_back(entries_, idx, &Entry::lru);
      bool moved = e.port != port;
      if (moved) {
        detach_port(idx);
        attach_port(idx, port);
      } else {
        port_rec(e.port_rec).list.move_to_back(entries_, idx, &Entry::by_port);
      }
      changed(key);
      return was_expired ? LearnResult::kLearned : LearnResult::kMoved;
    }
    if (!take_token(port, now)) return LearnResult::kRefused;
    if (free_.empty() && !make_room(now)) return LearnResult::kUnchanged;
    idx = alloc(key, port, now, false);
    lru_.push_back(entries_, idx, &Entry::lru);
    attach_port(idx, port);
    changed(key);
    return LearnResult::kLearned;
  }

  /// The port for (vlan, mac); none if unknown or aged out.
  std::optional<uint32_t> lookup(uint16_t vlan, const EthAddr& mac) const {
    return lookup(vlan, mac, clock_->now_ms());
  }
  /// As above at a given time of this table's clock (see learn()).
  std::optional<uint32_t> lookup(uint16_t vlan, const EthAddr& mac, int64_t now) const {
    uint64_t key = mac_detail::make_key(vlan, mac);
    if (lookup_log_) lookup_log_->push_back(key);
    uint32_t idx = index_.find(key, entries_);
    if (idx == kNil || expired(entries_[idx], now)) return std::nullopt;
    return entries_[idx].port;
  }

  /// Adds or replaces a static entry.  Throws std::length_error when the
  /// table is full of static entries.
  void add_static(uint16_t vlan, const EthAddr& mac, uint32_t port) {
    uint64_t key = mac_detail::make_key(vlan, mac);
    uint32_t idx = index_.find(key, entries_);
    if (idx != kNil && !entries_[idx].is_static) {
      erase(idx);
      idx = kNil;
    }
    if (idx == kNil) {
      if (free_.empty() && !make_room(clock_->now_ms()))
        throw std::length_error("MacTable: no room for static entry " + mac_detail::format(mac) +
                                " vlan " + std::to_string(vlan) + ": table full of static entries");
      idx = alloc(key, port, clock_->now_ms(), true);
      statics_.push_back(entries_, idx, &Entry::lru);
    }
    entries_[idx].port = port;
    changed(key);
  }

  bool remove(uint16_t vlan, const EthAddr& mac) {
    uint32_t idx = index_.find(mac_detail::make_key(vlan, mac), entries_);
    if (idx == kNil) return false;
    erase(idx);
    return true;
  }

  /// Reclaims aged-out entries; returns how many.
  size_t expire() {
    int64_t now = clock_->now_ms();
    size_t n = 0;
    while (lru_.head != kNil && expired(entries_[lru_.head], now)) {
      erase(lru_.head);
      ++n;
    }
    return n;
  }

  /// Forgets every learned entry (and the static ones if asked).
  void flush(bool include_static = false) {
    quiet_ = true;
    while (lru_.head != kNil) erase(lru_.head);
    while (include_static && statics_.head != kNil) erase(statics_.head);
    quiet_ = false;
    ++generation_;
    if (hook_) hook_(0, nullptr);
  }

  /// Forgets what was learned on `port` (and its static entries if asked,
  /// e.g. when the port is deleted).
  void flush_port(uint32_t port, bool include_static = false) {
    auto it = port_index_.find(port);
    while (it != port_index_.end() && ports_[it->second].list.head != kNil) {
      erase(ports_[it->second].list.head);  // may free the record: look up again
      it = port_index_.find(port);
    }
    for (uint32_t i = statics_.head; include_static && i != kNil;) {
      uint32_t next = entries_[i].lru.next;
      if (entries_[i].port == port) erase(i);
      i = next;
    }
  }

  size_t size() const noexcept { return cfg_.capacity - free_.size(); }
  size_t capacity() const noexcept { return cfg_.capacity; }
  const MacTableConfig& config() const noexcept { return cfg_; }
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  uint64_t evictions() const noexcept { return evictions_; }
  /// Learnings refused by the per-port rate limit.
  uint64_t refused() const noexcept { return refused_; }

  /// f(vlan, &mac) after every change of that entry's answer, f(0, nullptr)
  /// after a flush (see the header).  Called with the table's state
  /// already changed; must not call back into the table.
  using ChangeHook = std::function<void(uint16_t vlan, const EthAddr* mac)>;
  void set_change_hook(ChangeHook f) { hook_ = std::move(f); }

  /// Records (vlan, mac) of every lookup() into *log while set (nullptr:
  /// off): what a translation consulted, for the datapath's dependencies.
  void set_lookup_log(std::vector<uint64_t>* log) const noexcept { lookup_log_ = log; }
  /// Learned (non-static) entries currently held for `port`.
  size_t port_entries(uint32_t port) const noexcept {
    auto it = port_index_.find(port);
    return it == port_index_.end() ? 0 : ports_[it->second].count;
  }

  /// Calls f(vlan, mac, port, age_s, is_static) for every live entry:
  /// static ones first, then learned ones from oldest to newest.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t i = statics_.head; i != kNil; i = entries_[i].lru.next)
      call(f, entries_[i], int64_t(0), true);
    int64_t now = clock_->now_ms();
    for (uint32_t i = lru_.head; i != kNil; i = entries_[i].lru.next) {
      if (!expired(entries_[i], now))
        call(f, entries_[i], (now - entries_[i].used_ms) / 1000, false);
    }
  }

  /// `ovs-appctl fdb/show` output.  port_name maps a port number to its
  /// name (empty function: the number itself).
  std::string show(const std::function<std::string(uint32_t)>& port_name = {}) const {
    std::string out = " port  VLAN  MAC                Age\n";
    for_each([&](uint16_t vlan, const EthAddr& mac, uint32_t port, int64_t age, bool is_static) {
      std::string name = port_name ? port_name(port) : std::to_string(port);
      char line[96];
      if (is_static) {
        std::snprintf(line, sizeof line, "%5s  %4u  %s  static\n", name.c_str(), unsigned(vlan),
                      mac_detail::format(mac).c_str());
      } else {
        std::snprintf(line, sizeof line, "%5s  %4u  %s  %3" PRId64 "\n", name.c_str(),
                      unsigned(vlan), mac_detail::format(mac).c_str(), age);
      }
      out += line;
    });
    return out;
  }

 private:
  using PortRec = mac_detail::PortRec;

  static MacTableConfig validate(const MacTableConfig& cfg, const Clock* clock) {
    if (cfg.capacity == 0 || cfg.capacity > (size_t(1) << 28))
      throw std::invalid_argument("MacTableConfig.capacity must be in 1..2^28, got " +
                                  std::to_string(cfg.capacity));
    if (!(cfg.learn_rate >= 0) || cfg.learn_rate > 1e12)
      throw std::invalid_argument("MacTableConfig.learn_rate must be in 0..1e12, got " +
                                  std::to_string(cfg.learn_rate));
    if (cfg.aging_ms <= 0)
      throw std::invalid_argument("MacTableConfig.aging_ms must be positive, got " +
                                  std::to_string(cfg.aging_ms));
    if (!clock) throw std::invalid_argument("MacTable: clock must not be null");
    return cfg;
  }

  bool expired(const Entry& e, int64_t now) const noexcept {
    return !e.is_static && now - e.used_ms >= cfg_.aging_ms;
  }
  template <class F>
  static void call(F& f, const Entry& e, int64_t age, bool is_static) {
    f(uint16_t(e.key >> 48), mac_detail::key_mac(e.key), e.port, age, is_static);
  }
  PortRec& port_rec(uint32_t i) noexcept { return ports_[i]; }

  uint32_t alloc(uint64_t key, uint32_t port, int64_t now, bool is_static) {
    uint32_t idx = free_.back();
    free_.pop_back();
    Entry& e = entries_[idx];
    e = Entry{};
    e.key = key;
    e.port = port;
    e.used_ms = now;
    e.is_static = is_static;
    index_.insert(idx, entries_);
    return idx;
  }

  void changed(uint64_t key) {
    ++generation_;
    if (!hook_ || quiet_) return;
    EthAddr mac = mac_detail::key_mac(key);
    hook_(uint16_t(key >> 48), &mac);
  }

  /// Takes one learning token of `port` (always true without a rate).
  bool take_token(uint32_t port, int64_t now) {
    if (cfg_.learn_rate <= 0 || rate_.take(port, now)) return true;
    ++refused_;
    return false;
  }

  /// Unlinks an entry from every structure and frees its slot; a change.
  void erase(uint32_t idx) {
    uint64_t key = entries_[idx].key;
    unlink(idx);
    changed(key);
  }
  void unlink(uint32_t idx) noexcept {
    Entry& e = entries_[idx];
    if (e.is_static) {
      statics_.remove(entries_, idx, &Entry::lru);
    } else {
      lru_.remove(entries_, idx, &Entry::lru);
      detach_port(idx);
    }
    index_.erase(idx, entries_);
    free_.push_back(idx);
  }

  /// Frees one slot: an aged-out entry if any, else the oldest entry of
  /// the port with the most entries.  False if only static entries remain.
  bool make_room(int64_t now) {
    if (lru_.head != kNil && expired(entries_[lru_.head], now)) {
      erase(lru_.head);
      return true;
    }
    uint32_t busiest = buckets_.busiest();
    if (busiest == kNil) return false;
    erase(ports_[busiest].list.head);
    ++evictions_;
    return true;
  }

  void attach_port(uint32_t idx, uint32_t port);
  void detach_port(uint32_t idx) noexcept;

  MacTableConfig cfg_;
  const Clock* clock_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
  mac_detail::Index index_;
  mac_detail::List lru_;      // learned entries, least recently refreshed first
  mac_detail::List statics_;  // static entries (through Entry::lru)
  std::vector<PortRec> ports_;
  std::vector<uint32_t> free_ports_;
  std::unordered_map<uint32_t, uint32_t> port_index_;  // port -> ports_ slot
  mac_detail::CountBuckets buckets_;
  std::atomic<uint64_t> generation_{0};  // read unlocked by the datapaths (Ofproto::generation)
  uint64_t evictions_ = 0;
  uint64_t refused_ = 0;
  mac_detail::TokenBuckets rate_;
  ChangeHook hook_;
  bool quiet_ = false;
  mutable std::vector<uint64_t>* lookup_log_ = nullptr;
};

inline void MacTable::attach_port(uint32_t idx, uint32_t port) {
  auto [it, fresh] = port_index_.try_emplace(port, kNil);
  if (fresh) {
    if (free_ports_.empty()) {
      it->second = uint32_t(ports_.size());
      ports_.emplace_back();
      free_ports_.reserve(ports_.capacity());  // detach_port (noexcept) never allocates
    } else {
      it->second = free_ports_.back();
      free_ports_.pop_back();
      ports_[it->second] = PortRec{};
    }
    ports_[it->second].port = port;
  }
  uint32_t pr = it->second;
  Entry& e = entries_[idx];
  e.port = port;
  e.port_rec = pr;
  ports_[pr].list.push_back(entries_, idx, &Entry::by_port);
  buckets_.increment(ports_, pr);
}

inline void MacTable::detach_port(uint32_t idx) noexcept {
  Entry& e = entries_[idx];
  uint32_t pr = e.port_rec;
  ports_[pr].list.remove(entries_, idx, &Entry::by_port);
  buckets_.decrement(ports_, pr);
  e.port_rec = kNil;
  if (ports_[pr].count == 0) {
    port_index_.erase(ports_[pr].port);
    free_ports_.push_back(pr);
  }
}

}  // namespace flowpath
