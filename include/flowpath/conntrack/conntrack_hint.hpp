// flowpath/conntrack/conntrack_hint.hpp — Conntrack's answers from a
// known connection (internal; include conntrack.hpp): try_cached_for (the
// packet's connection from its last ct() in this batch), try_hint (a
// caller's hint across batches: UDP/ICMP/other lock-free, TCP through
// try_hint_tcp, the locked update from the hinted node).  Why a hint is
// exact: docs/conntrack.md, "Connection hints across batches" and "TCP
// hints".  Thread-safety: see conntrack.hpp; the caller holds an
// rcu::ReadGuard.
#pragma once

#include <algorithm>

#include "flowpath/conntrack/conntrack.hpp"

namespace flowpath::ct {

// try_fast() for a packet whose last ct() found its connection lock-free
// (meta.ct_node) and that has not changed since (the caller's promise, see
// conntrack.hpp): the same checks and result without extraction or lookup.
// The key is the node's: same packet headers, same zone, so the same key
// the lookup would build, and the lookup finds only live connections, so
// a dead or expired one sends the packet down the full path.  Conns with
// NAT are never cached (their packet was rewritten).
[[gnu::always_inline]] inline bool Conntrack::try_cached_for(const Packet& pkt, const CtParams& p,
                                                             int64_t now, CtResult& r) noexcept {
  const auto* n = static_cast<const KeyNode*>(pkt.meta.ct_node);
  Conn& c = *n->conn();
  // A TCP node (a hint, left by the locked path) needs the segment: never
  // answered here.
  if (n->key.zone != p.zone || n->key.proto == 6 || !c.live(now)) return false;
  const OtherState o = c.other.load(std::memory_order_relaxed);
  const bool icmp = n->key.icmp();
  const bool steady = icmp ? (!n->reply || o == OtherState::kBidir)
                           : (n->reply ? o == OtherState::kBidir : o != OtherState::kFirst);
  if (!steady) return false;
  const uint8_t st = kCsTracked | touch_other(c, n->reply, icmp, now);
  r.zone = p.zone;
  r.mark = c.mark.load(std::memory_order_relaxed);
  r.label = c.label();
  r.state = st;
  return true;
}

// The hint's node is the connection the lookup would find: it was linked
// and live when found, and no Conn has been claimed since (generation), so
// it is still linked, the same connection, and no other entry with its key
// was linked (insert claims an expired one in the way, so a second entry
// for a key needs a claim).  The packet's key is compared whole, so the
// hint proves nothing by itself: a stale or wrong one costs the compare.
// Always inline: with two call sites in the datapath's ct() (a group of
// one, a larger group) GCC called it out of line (fw_udp +22 instructions
// a packet at batch 4 and 32, session 22).
[[gnu::always_inline]] inline bool Conntrack::try_hint(Packet& pkt, const Hint& h,
                                                       const CtParams& p, int64_t now,
                                                       CtResult& r) noexcept {
  const auto* n = static_cast<const KeyNode*>(h.node);
  if (n->key.proto == 6) return try_hint_tcp(pkt, const_cast<KeyNode&>(*n), p, now, r);
  if (!key_is(pkt, n->key)) return false;
  pkt.meta.ct_node = n;
  if (try_cached_for(pkt, p, now, r)) return true;
  pkt.meta.ct_node = nullptr;
  return false;
}

// A TCP packet from its hint: process()'s locked path with the lookup
// replaced by the hint.  The same locks in the same order as lock_for (the
// key's shard; for a reply-direction node also its Conn's home shard,
// lower index first), and under them the node must be live (not claimed,
// not expired): then it is what lock_for's find would return (the
// generation argument of try_hint, and a claim since the caller read the
// generation sets the dead flag, under a lock held here or seen through
// it).  Refuses, having changed nothing, if not.  Out of line: inlined
// into the datapath's ct() loop it pushed the UDP hint path's checksum and
// liveness test out of line there (fw_udp +29 instructions a packet).
[[gnu::noinline]] inline bool Conntrack::try_hint_tcp(Packet& pkt, KeyNode& n, const CtParams& p,
                                                      int64_t now, CtResult& r) noexcept {
  Extracted x;
  if (n.key.zone != p.zone || !key_is(pkt, n.key, &x)) return false;
  Conn& c = *n.conn();
  const uint32_t b = table_.shard_of(n.hash);
  const uint32_t a = n.reply ? table_.shard_of(c.node[0].hash) : b;
  ConnTable::Shard& s = table_.shard(b);
  ConnTable::Shard& home = table_.shard(a);
  table_.shard(std::min(a, b)).lock.lock();
  if (a != b) table_.shard(std::max(a, b)).lock.lock();
  if (!c.live(now)) {
    if (a != b) home.lock.unlock();
    s.lock.unlock();
    return false;
  }
  x.key = n.key;
  x.hash = n.hash;
  pkt.meta.ct_node = nullptr;
  r = CtResult{};
  r.zone = p.zone;
  r.state = kCsTracked;
  uint32_t created = 0;
  finish_locked(pkt, &n, x, p, now, r, created, 0, s, &home);
  if (created) counters_.created.fetch_add(created, std::memory_order_relaxed);
  return true;
}

}  // namespace flowpath::ct
