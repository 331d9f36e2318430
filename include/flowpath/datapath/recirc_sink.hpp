// flowpath/datapath/recirc_sink.hpp — connection tracking and recirculation
// inside the datapath: the sink the executor runs a datapath's actions into.
//
//   RecircState st;                         // per Datapath (recirc_state.hpp)
//   RecircSink<UserSink> rs(user, st, now_ms);
//   exec(rs).run(actions, group);           // ct(), ct_clear, recirc(id)
//   ... st.next: packets for the next pass, meta.recirc_id/ct_* set
//
// conntrack(spec, group) runs the tracker (conntrack/conntrack.hpp) over the
// group in the spec's zone (commit, NAT, exec's mark/label writes) and
// stores each packet's result in its metadata (meta.ct_state/zone/mark), as
// OVS's conntrack_execute() fills pkt->md.  ct_clear zeroes them.
// A packet whose earlier ct() in this batch found its connection starts
// from it (meta.ct_node, Conntrack::try_cached: OVS's pkt->md.conn); the
// sink holds one epoch read guard from its first ct() to the end of the
// batch so that node stays allocated (docs/conntrack.md).  Across batches,
// a packet starts from the connection its flow's last ct()
// found (RecircState's hints, by flow hash; Conntrack::try_hint verifies
// the key whole, the connection's liveness and that no connection was
// removed since), skipping the hash and the chain walk (session 19); a TCP
// packet likewise, then runs its tracker update under the connection's
// shard lock(s) (session 21).  A group of one packet (every group of a
// one-packet batch) takes the same steps without the group's arrays
// (conntrack_one, session 22); a larger group writes each shortcut's
// result as it is found and looks up the rest in one call.
// recirculate(id, group, last) queues the packets for another pass with
// meta.recirc_id = id: the packet itself when the recirc consumes it
// (last), else a copy into one of the state's clone buffers, as OVS's
// recirc action clones when actions follow it.  A copy never reaches the
// user's sink as itself: its outputs are passed on as copies (last=false)
// and its drops are counted here, so the user's sink still sees each of
// its own packets end exactly once.  No clone buffer free or the next pass
// full (kMaxPending): the packet is dropped and counted (recirc_drops).
//
// The connection's ct_label travels as its id (meta.ct_label_id, from the
// state's CtLabelCache: flow/ct_label_ids.hpp), which the next pass puts in
// its key, so flows after recirculation match ct_label as in OVS; a packet
// whose connection has no label pays one zero test.
//
// Cost: the tracker's (~50-100 ns per packet for an established
// connection, batched per group) plus a 2 KB copy per cloned packet.
// Thread-safety: one per datapath thread; the tracker is shared and safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "flowpath/action/executor.hpp"
#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/core/scratch_array.hpp"
#include "flowpath/datapath/recirc_actions.hpp"
#include "flowpath/datapath/recirc_state.hpp"
#include "flowpath/flow/ct_label_ids.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

/// The tracker's label (host-order halves) as big-endian bytes.
inline CtLabelBytes label_bytes(const ct::CtLabel& l) noexcept {
  CtLabelBytes b;
  for (int i = 0; i < 8; ++i) {
    b[size_t(i)] = uint8_t(l.hi >> (56 - 8 * i));
    b[size_t(8 + i)] = uint8_t(l.lo >> (56 - 8 * i));
  }
  return b;
}

/// The keys of a pass's packets, for RecircSink::recirculate: keys[i] is
/// batch packet i's key and gid[i] its group (0xff: none); keys nullptr:
/// none kept (every next pass parses).
struct GroupKeys {
  const FlowKey* keys = nullptr;
  const uint8_t* gid = nullptr;
  uint32_t n = 0;
};

template <ActionSink S>
class RecircSink {
 public:
  RecircSink(S& sink, RecircState& st, int64_t now_ms) noexcept
      : sink_(&sink), st_(&st), now_(now_ms) {}
  /// The time of the batch: every pass's ct() and "used" times.
  int64_t now_ms() const noexcept { return now_; }

  void output(uint32_t port, Packet& p, bool last) {
    if (!st_->is_clone(&p)) return sink_->output(port, p, last);
    sink_->output(port, p, false);  // the sink copies; the clone stays ours
    if (last) st_->release(&p);
  }
  void drop(Packet& p) {
    if (st_->is_clone(&p))
      st_->release(&p);
    else
      sink_->drop(p);
  }

  void conntrack(const DpCtSpec& spec, std::span<Packet*> g) noexcept {
    // A group of one: every group of a one-packet batch, a PMD's usual
    // poll when it keeps up.
    if (g.size() == 1) return conntrack_one(spec, *g[0]);
    ct::Conntrack& tracker = st_->tracker();
    const Shortcuts sc = begin(tracker, spec, g.size());
    for (size_t off = 0; off < g.size(); off += kBatchSize)
      track(tracker, spec.params, g.subspan(off, std::min<size_t>(kBatchSize, g.size() - off)), sc);
  }
  void ct_clear(std::span<Packet*> g) noexcept {
    for (Packet* p : g) {
      PacketMeta& m = p->meta;
      m.ct_state = 0, m.ct_zone = 0, m.ct_mark = 0, m.ct_label_id = 0;
      m.ct_node = nullptr;
    }
  }
  void recirculate(uint32_t id, std::span<Packet*> g, bool last) {
    if (defer_ && last) {  // held for Datapath's inline next pass
      defer_ = false;
      deferred_ = Deferred{id, g};
      return;
    }
    // The group's keys, in the group's order (its packets are the batch's
    // with gid == group_, in batch order, and no action before a recirc
    // that keeps keys removes one), when its actions keep the frame.
    const FlowKey* gk[kBatchSize];
    bool have = false;
    if (src_ && src_->keys && g.size() <= kBatchSize &&
        (flow_ ? flow_->keeps_key : recirc_keeps_key(*acts_))) {
      st_->enable_keys();
      size_t k = 0;
      for (uint32_t i = 0; i < src_->n && k < g.size(); ++i)
        if (src_->gid[i] == group_) gk[k++] = &src_->keys[i];
      have = k == g.size();
    }
    const bool keyed = !st_->next_key.empty();
    for (size_t j = 0; j < g.size(); ++j) {
      Packet* p = g[j];
      Packet* q =
          st_->next.size() < RecircState::kMaxPending ? (last ? p : st_->clone(*p)) : nullptr;
      if (!q) {
        ++st_->recirc_drops;
        if (last) drop(*p);
        continue;
      }
      q->meta.recirc_id = id;
      if (keyed) {
        const size_t at = st_->next.size();
        const FlowKey* k = have && !q->meta.malformed ? gk[j] : nullptr;
        if (k && src_->keys == st_->batch.keys.data()) {
          st_->next_store[at] = *k;
          k = &st_->next_store[at];
        }
        st_->next_key[at] = k;
      }
      st_->next.push_back(q);
    }
  }
  /// The group the executor runs next: where its keys are (src, or
  /// nullptr: the next pass parses its packets), its flow (nullptr:
  /// uncached) and actions.  A recirc passes on the keys when the actions
  /// keep the frame as parsed at every recirc (the flow's keeps_key, else
  /// recirc_keeps_key(*acts)).
  void set_group(const GroupKeys* src, const MegaflowEntry* flow, const DpActionList* acts,
                 uint8_t group) noexcept {
    src_ = src;
    flow_ = flow;
    acts_ = acts;
    group_ = group;
  }

  /// The next recirc that consumes its packets (last) is held instead of
  /// queued, for the datapath to run the next pass inline
  /// (DatapathConfig::recirc_inline) or queue it: take_deferred().
  void defer_recirc() noexcept { defer_ = true; }
  struct Deferred {
    uint32_t id = 0;
    std::span<Packet*> g;  // empty: nothing held
  };
  /// The recirc held since defer_recirc(), if any; stops holding.
  Deferred take_deferred() noexcept {
    defer_ = false;
    return std::exchange(deferred_, Deferred{});
  }

 private:
  // What may answer a ct() before the tracker's lookup: the packet's
  // connection from its last ct() in this batch (cached), its flow's hint
  // (hints, valid at generation gen).
  struct Shortcuts {
    bool cached;
    RecircState::HintEntry* hints;
    uint64_t gen;
  };
  // conntrack() of a group of one: track() without the result array and
  // the list of packets left for the lookup (fw_udp at batch 1: -89
  // instructions a packet, session 22).
  [[gnu::always_inline]] void conntrack_one(const DpCtSpec& spec, Packet& p) noexcept {
    ct::Conntrack& tracker = st_->tracker();
    const Shortcuts sc = begin(tracker, spec, 1);
    ct::CtResult r;
    size_t hinted = 0;
    if (shortcut(tracker, spec.params, p, sc, r, hinted)) {
      st_->ct_hinted += hinted;
    } else {
      Packet* one[1] = {&p};
      tracker.execute(std::span<Packet* const>(one, 1), spec.params, now_, &r);
      if (sc.hints) remember(sc.hints, one, 1, sc.gen);
    }
    set_result(p.meta, r);
  }
  // A ct()'s set-up over n packets: the batch's read section, the count,
  // and what may answer before the tracker's lookup.
  [[gnu::always_inline]] Shortcuts begin(ct::Conntrack& tracker, const DpCtSpec& spec,
                                         size_t n) noexcept {
    // One read section from the first ct() to the end of the batch (all its
    // passes): the connection a packet's ct() found stays allocated, so its
    // next ct() may start from it (meta.ct_node, Conntrack::try_cached).
    // Before this batch's first ct() no packet can have a connection of
    // this read section (Datapath::process zeroes meta.ct_node on receive;
    // a node from before the guard would not be protected by it anyway),
    // so the per-packet cache test is skipped: it is the first ct() of
    // every firewalled packet.
    const bool first = !guard_;
    if (first) guard_.emplace();
    st_->ct_packets += n;
    const bool cacheable = ct::Conntrack::cacheable(spec.params);
    Shortcuts sc{!first && cacheable, hint_table(cacheable), 0};
    // The generation before any lookup of this call: a hint taken from
    // these lookups is valid while it stays so (Conntrack::try_hint).
    if (sc.hints) sc.gen = tracker.generation();
    return sc;
  }
  // The hint table when this ct() may use it (cacheable, hints on), else
  // nullptr.
  RecircState::HintEntry* hint_table(bool cacheable) noexcept {
    return cacheable && st_->hints_on ? st_->hint_table() : nullptr;
  }
  // ct() over up to 32 packets: each result into its packet's metadata.
  // Packets whose last ct() in this batch found their connection start
  // from it, then packets whose flow's hint is their connection, each
  // result written as it is found; the rest go through the tracker's batch
  // lookup.  (One pass: a scan for any cached packet first cost ~7
  // instructions per packet on the second ct(), where nearly all are.)
  // The tracker reads no packet's ct_state/zone/mark/label, so the order
  // of these writes is free.
  [[gnu::always_inline]] void track(ct::Conntrack& tracker, const ct::CtParams& params,
                                    std::span<Packet*> g, const Shortcuts& sc) noexcept {
    const size_t n = g.size();
    Packet* rest[kBatchSize];
    Packet* const* todo = g.data();  // the packets the lookup answers
    size_t k = n;
    if (sc.cached || sc.hints) {
      k = 0;
      size_t hinted = 0;
      for (size_t i = 0; i < n; ++i) {
        ct::CtResult r;
        if (shortcut(tracker, params, *g[i], sc, r, hinted))
          set_result(g[i]->meta, r);
        else
          rest[k++] = g[i];
      }
      st_->ct_hinted += hinted;
      todo = rest;
    }
    if (!k) return;
    // Not initialised: execute writes each result whole.
    ScratchArray<ct::CtResult, kBatchSize> results;
    ct::CtResult* const res = results.data();
    tracker.execute(std::span<Packet* const>(todo, k), params, now_, res);
    if (sc.hints) remember(sc.hints, todo, k, sc.gen);
    for (size_t j = 0; j < k; ++j) set_result(todo[j]->meta, res[j]);
  }
  // A packet's ct() answered before the tracker's lookup: from its last
  // ct() in this batch (cached), else from its flow's hint (hinted: +1).
  [[gnu::always_inline]] bool shortcut(ct::Conntrack& tracker, const ct::CtParams& params,
                                       Packet& p, const Shortcuts& sc, ct::CtResult& r,
                                       size_t& hinted) noexcept {
    if (sc.cached && p.meta.ct_node && tracker.try_cached_for(p, params, now_, r)) return true;
    if (sc.hints) {
      const ct::Conntrack::Hint* h = RecircState::hint_of(sc.hints, p.meta.hash);
      if (h && h->gen == sc.gen && h->node && tracker.try_hint(p, *h, params, now_, r)) {
        ++hinted;
        return true;
      }
    }
    return false;
  }
  // The packet's ct() result into its metadata (the label as its id).
  [[gnu::always_inline]] void set_result(PacketMeta& m, const ct::CtResult& r) noexcept {
    m.ct_state = r.state;
    m.ct_zone = r.zone;
    m.ct_mark = r.mark;
    m.ct_label_id = r.label.zero() ? 0 : st_->labels.id(label_bytes(r.label));
  }
  // The connections execute() left in meta.ct_node (found lock-free, or
  // TCP found under its lock) as hints for their flows' next packets,
  // taken at generation gen.
  static void remember(RecircState::HintEntry* hints, Packet* const* pkts, size_t n,
                       uint64_t gen) noexcept {
    for (size_t i = 0; i < n; ++i)
      if (const void* node = pkts[i]->meta.ct_node)
        RecircState::set_hint(hints, pkts[i]->meta.hash, node, gen);
  }

  S* sink_;
  RecircState* st_;
  int64_t now_;
  std::optional<rcu::ReadGuard> guard_;  // taken by the first ct() of the batch
  const GroupKeys* src_ = nullptr;       // set_group()
  const MegaflowEntry* flow_ = nullptr;
  const DpActionList* acts_ = nullptr;
  uint8_t group_ = 0;
  bool defer_ = false;  // defer_recirc()
  Deferred deferred_;
};

}  // namespace flowpath
