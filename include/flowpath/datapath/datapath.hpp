// flowpath/datapath/datapath.hpp — the userspace datapath fast path.
//
// Usage:
//   TableUpcall<> table;                 // or a bridge's slow path
//   Datapath<TableUpcall<>> dp(table);
//   dp.process(batch, sink);             // sink: an ActionSink
//
// process(batch, sink):
//   parse     every packet → batch.keys (malformed packets keep the part of
//             the key that was valid and are classified with it, as OVS)
//   hash      the full key → batch.hashes (flow_hash.hpp: the 15-word hash,
//             computed over the words the packet filled)
//   EMC       exact-match cache (classify/emc.hpp), per datapath
//   megaflow  batch lookup of the EMC misses (classify/megaflow_cache.hpp)
//   upcall    for each remaining miss: handler.upcall(key, &pkt, r); the
//             megaflow (r.mask | in_port exact) is installed, unless a
//             limit refuses it — then that packet runs r.actions uncached
//   regroup   packets with the same flow form one group
//   execute   each group's actions once (action/executor.hpp) into sink
//             (a ct() starts a packet from its flow's connection hint when
//             it is still exactly the connection: ct_hints, recirc_sink.hpp);
//             the flow's and its OpenFlow rules' counters are credited
//             once per group
//   recirculate  packets that a recirc(id) action queued (after a ct(),
//             datapath/recirc_sink.hpp) take another pass: their previous
//             pass's key when no action before the recirc can have changed
//             the frame (recirc_keeps_key: outputs, ct_clear, ct() without
//             nat), else re-parsed (NAT, a rewrite), key.recirc_id = id and key.ct_* from
//             the tracker's result (ct_label as its id: ct_label_ids.hpp),
//             then EMC, megaflow, upcall (the handler resumes the frozen
//             translation the id names) and execute, in batches of up to
//             32, until no packet recirculates; a packet on its 7th pass
//             (OVS's limit of 6 recirculations) is dropped and counted.
//             Every megaflow matches recirc_id exactly, so each pass has
//             its own flows.  A pass of exactly the received packets in
//             their order, keys kept (a firewall's second pass when the
//             batch took one flow) classifies batch.keys in place, no copy;
//             their recirc_id/ct_* are zeroed again before process()
//             returns (XdpOffload::offer reads the first pass's keys).
//             Such a pass takes a packet's EMC answer from the one
//             remembered beside its previous pass's slot for the same
//             pass fields when it is exactly the probe's (Emc::next_of,
//             recirc_emc_next): no hash, no probe.
//             When every such answer of the pass is one megaflow
//             without a recirc, the pass runs at the first pass's
//             recirc instead of being queued: that flow's actions over
//             the same group (recirc_inline; no queue, no regrouping).
// Every packet ends in the sink exactly once: an output (last=true) or
// drop().  A failed upcall drops the packet and counts it as lost.
//
// Correct under change (docs/datapath.md, "Revalidation").  Before each
// batch the datapath applies every slow-path change made visible since the
// last batch, so no packet of this batch can be forwarded by a decision
// older than a change that invalidated it.  Three ways, by config:
//  * Invalidation::kIndexed (default, for a JournaledUpcallHandler): each
//    change in the handler's journal removes only the megaflows whose
//    translation consulted what changed (datapath/dependency_index.hpp: a
//    MAC entry, or an OpenFlow lookup the changed rule overlaps); they are
//    translated again lazily on their next miss, so the work of a batch is
//    one index probe per change plus one removal per affected flow, and
//    re-translation is paced by the misses (at most a batch's worth of
//    upcalls per batch).  A kAll change, or a reader that fell behind the
//    journal's ring, empties both caches.  Handlers without a journal fall
//    back to kRevalidate.
//  * Invalidation::kRevalidate: when generation() moved, every megaflow is
//    re-translated with handler.upcall(key, nullptr, r) (no side effects)
//    and removed unless the same mask and actions come back — inline,
//    O(megaflows) translations per change (kept for comparison).
//  * Invalidation::kFlush empties both caches on every generation change.
// Removing a megaflow kills its EMC entries with it (serial check).
//
// Cost per packet: parse + hash + EMC probe on a hit; + one megaflow
// subtable probe per subtable tried on an EMC miss; an upcall on a miss.
// Thread-safety: one thread per Datapath (its caches are per-thread).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "flowpath/action/executor.hpp"
#include "flowpath/classify/emc.hpp"
#include "flowpath/classify/megaflow_cache.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/core/clock.hpp"
#include "flowpath/core/scratch_array.hpp"
#include "flowpath/datapath/datapath_config.hpp"
#include "flowpath/datapath/dependency_index.hpp"
#include "flowpath/datapath/dp_format.hpp"
#include "flowpath/datapath/flow_hash.hpp"
#include "flowpath/datapath/miss_handler.hpp"
#include "flowpath/datapath/pmd_stats.hpp"
#include "flowpath/datapath/recirc_sink.hpp"
#include "flowpath/datapath/upcall.hpp"
#include "flowpath/parse/parser.hpp"
#include "flowpath/simd/hash.hpp"

namespace flowpath {

template <UpcallHandler H, class B = simd::Default>
class Datapath {
  // A group of a pass: packets of one flow (or one uncached upcall).
  struct Group {
    MegaflowEntry* flow;
    const UpcallResult* uncached;
    uint32_t n, start;
    uint64_t bytes;
    uint16_t flags;
  };

 public:
  explicit Datapath(H& handler, DatapathConfig cfg = {})
      : handler_(&handler),
        cfg_(cfg),
        megaflows_(cfg.megaflow),
        emc_(cfg.emc),
        misses_(handler, megaflows_),
        seen_generation_(handler.generation()) {
    if constexpr (JournaledUpcallHandler<H>) cursor_ = handler.change_seq();
    recirc_.set_tracker(cfg.conntrack);
    recirc_.hints_on = cfg.ct_hints && cfg.emc_enabled;
  }

  ///
  /// The time is config().clock's, except that the system clock is read
  /// again only when kClockReuseCycles have passed since its last read
  /// (batch_now_ms): the time a batch uses may be up to 1 ms behind.
  template <ActionSink S>
  void process(Batch& batch, S& sink) noexcept {
    if (batch.count == 0) return;
    const uint64_t t0 = read_cycles();
    process_at(batch, sink, batch_now_ms(t0), t0);
  }
  /// process(batch, sink) at now_ms, a time the caller read from
  /// config().clock for its whole pass (a PMD reads it once per pass and
  /// also hands it to its XDP offload's sweep).  Every pass of the batch
  /// (recirculations too) uses it: the tracker's times and the megaflows'
  /// "used".
  template <ActionSink S>
  void process(Batch& batch, S& sink, int64_t now_ms) noexcept {
    if (batch.count != 0) process_at(batch, sink, now_ms, read_cycles());
  }
  /// Cycles (read_cycles: the TSC, else ns) during which process(batch,
  /// sink) reuses its last read of the system clock: 2^19, under 0.53 ms
  /// at 1 GHz or more, so the time it uses is at most 1 ms behind.
  static constexpr uint64_t kClockReuseCycles = uint64_t(1) << 19;

 private:
  // process() of a non-empty batch at now_ms; t0: read_cycles() on entry.
  template <ActionSink S>
  void process_at(Batch& batch, S& sink, int64_t now_ms, uint64_t t0) noexcept {
    const uint32_t n = batch.count;
    revalidate_if_needed();
    stats_.packets += n;
    for (uint32_t i = 0; i < n; ++i) {  // received packets are untracked
      PacketMeta& m = batch.pkts[i]->meta;
      m.recirc_id = 0, m.ct_state = 0, m.ct_zone = 0, m.ct_mark = 0, m.ct_label_id = 0;
      m.ct_node = nullptr;
    }
    RecircSink<S> rs(sink, recirc_, now_ms);
    run_pass(batch, rs, false, 0);
    if (!recirc_.next.empty()) recirculate(batch, rs);
    if (keys_dirty_) untrack_keys(batch);
    stats_.cycles += read_cycles() - t0;
  }

  // The time of a batch process(batch, sink) received at cycles t0: a
  // manual (test) clock is always read (one load); the system clock when
  // kClockReuseCycles have passed since its last read, else that read's
  // ms (session 21: the read was ~35 instructions a batch, ~4% of a
  // one-packet batch of plain traffic).  A cycle counter that went back
  // (another CPU's TSC) reads again: the difference wraps to a large one.
  int64_t batch_now_ms(uint64_t t0) noexcept {
    if (!clock_reusable_ || t0 - clock_read_at_ >= kClockReuseCycles) {
      clock_ms_ = cfg_.clock->now_ms();
      clock_read_at_ = t0;
      clock_reusable_ = system_clock_;
    }
    return clock_ms_;
  }

 public:
  /// Applies pending changes now (process() does it itself).
  void revalidate_if_needed() {
    if constexpr (JournaledUpcallHandler<H>) {
      if (indexed()) {
        apply_changes();
        return;
      }
    }
    uint64_t g = handler_->generation();
    if (g == seen_generation_) return;
    seen_generation_ = g;
    ++stats_.revalidations;
    if (cfg_.invalidation == Invalidation::kFlush) {
      stats_.revalidated_out += megaflows_.size();
      megaflows_.flush();
      return;
    }
    stats_.revalidated_out += misses_.revalidate_all();
  }

  /// Empties both caches.
  void flush() {
    megaflows_.flush();
    deps_.clear();
  }

  /// True when changes invalidate by dependency (kIndexed with a journal).
  static constexpr bool kJournaled = JournaledUpcallHandler<H>;
  bool indexed() const noexcept {
    return kJournaled && cfg_.invalidation == Invalidation::kIndexed;
  }
  const DependencyIndex& dependencies() const noexcept { return deps_; }

  const PmdStats& stats() const noexcept { return stats_; }
  std::string pmd_stats_show() const {
    return flowpath::pmd_stats_show(stats_, cfg_.numa_id, cfg_.core_id);
  }
  void pmd_stats_clear() noexcept { stats_ = PmdStats{}; }

  /// `ovs-appctl dpctl/dump-flows` text, one megaflow per line.
  std::string dpctl_dump_flows(const DpPortNamer& port_name = {}) const {
    std::string out;
    int64_t now = cfg_.clock->now_ms();
    megaflows_.for_each([&](const MegaflowEntry& e) {
      out += format_megaflow(e, now, port_name);
      out += '\n';
    });
    return out;
  }

  /// The connection tracker ct() actions run (created if none was given).
  ct::Conntrack& conntrack() { return recirc_.tracker(); }
  const RecircState& recirc() const noexcept { return recirc_; }

  MegaflowCache<B>& megaflows() noexcept { return megaflows_; }
  const MegaflowCache<B>& megaflows() const noexcept { return megaflows_; }
  Emc& emc() noexcept { return emc_; }
  H& handler() noexcept { return *handler_; }
  const DatapathConfig& config() const noexcept { return cfg_; }

 private:
  // One pass over a batch: parse (a recirculated pass takes its key from
  // the previous pass when the frame is unchanged, recirc_id and ct_* from
  // the packet's metadata), cached lookups, upcalls, execution.  `off`: a
  // recirculated batch's first packet in recirc_.cur.
  // `in_place`: batch is the received one and recirc_.cur its packets in
  // its order, their keys where the previous pass left them.
  template <ActionSink S>
  void run_pass(Batch& batch, RecircSink<S>& rs, bool recirculated, size_t off,
                bool in_place = false) noexcept {
    ParseStats ps;
    if (in_place) {
      ps.packets = batch.count;
      recirc_.keys_reused += batch.count;
      recirc_.keys_in_place += batch.count;
    } else if (recirculated && !recirc_.cur_key.empty())
      parse_or_reuse(batch, off, ps);
    else
      parse_batch(batch, ps);
    stats_.malformed += ps.malformed;
    ++stats_.batches;
    if (recirculated)
      for (uint32_t i = 0; i < batch.count; ++i)
        set_pass_fields(batch.keys[i], batch.pkts[i]->meta);
    ScratchArray<PacketPlan, kBatchSize> plans;  // not initialised: classify_cached writes each
    PacketPlan* const plan = plans.data();
    uint32_t todo = classify_cached(batch, plan, in_place);
    if (todo) misses_.handle(batch, todo, plan, stats_, indexed() ? &deps_ : nullptr);
    execute(batch, plan, rs, !recirculated);
  }

  // A recirculated batch's keys: the previous pass's key where the
  // executor kept it (recirc_.cur_key; the frame is unchanged, so a parse
  // would give the same key: the pass's recirc_id/ct_* are set after),
  // else a parse.  A malformed frame is never kept (it is parsed and
  // counted again, as before).
  void parse_or_reuse(Batch& batch, size_t off, ParseStats& ps) noexcept {
    const FlowKey* const* keys = recirc_.cur_key.data() + off;
    uint64_t bad = 0, reused = 0;
    for (uint32_t i = 0; i < batch.count; ++i) {
      if (keys[i]) {
        batch.keys[i] = *keys[i];
        ++reused;
      } else {
        bad += !parse_packet(*batch.pkts[i], batch.keys[i]);
      }
    }
    ps.packets += batch.count;
    ps.malformed += bad;
    recirc_.keys_reused += reused;
  }

  // The passes after the first: each pass runs the packets the previous
  // one queued, in batches of 32; beyond kMaxDepth they are dropped.
  // `received`: the batch given to process(), whose keys a pass of the
  // same packets in the same order classifies in place (recirc_in_place;
  // their recirc_id/ct_* are zeroed again at the end).
  template <ActionSink S>
  void recirculate(Batch& received, RecircSink<S>& rs) noexcept {
    bool dirty = false;  // an in-place pass ran
    for (int depth = 1; !recirc_.next.empty(); ++depth) {
      recirc_.cur.swap(recirc_.next);
      recirc_.next.clear();
      recirc_.cur_key.swap(recirc_.next_key);
      recirc_.cur_store.swap(recirc_.next_store);
      if (depth > RecircState::kMaxDepth) {
        recirc_.recirc_drops += recirc_.cur.size();
        stats_.recirc_depth_drops += recirc_.cur.size();
        for (Packet* p : recirc_.cur) rs.drop(*p);
        break;
      }
      stats_.recirculations += recirc_.cur.size();
      if (same_order(received)) {
        dirty = keys_dirty_ = true;
        run_pass(received, rs, true, 0, true);
        continue;
      }
      Batch& b = recirc_.batch;
      for (size_t off = 0; off < recirc_.cur.size(); off += kBatchSize) {
        b.clear();
        for (size_t i = off; i < recirc_.cur.size() && !b.full(); ++i) b.push(recirc_.cur[i]);
        run_pass(b, rs, true, off);
      }
    }
    recirc_.cur.clear();
    // The next batch's passes note their EMC slots (for classify_next)
    // while batches keep taking in-place passes; plain traffic does not.
    record_slots_ = dirty && cfg_.recirc_emc_next && cfg_.emc_enabled;
  }

  // The received batch's keys as parse_packet left them (a first pass's,
  // untracked), after a pass that set their pass fields in place.
  void untrack_keys(Batch& received) noexcept {
    const PacketMeta untracked{};
    for (uint32_t i = 0; i < received.count; ++i) set_pass_fields(received.keys[i], untracked);
    keys_dirty_ = false;
  }

  // The key's fields that differ between passes (recirc_id, ct_*), from
  // the packet's metadata.
  static void set_pass_fields(FlowKey& k, const PacketMeta& m) noexcept {
    k.recirc_id = m.recirc_id;
    k.ct_state = m.ct_state;
    k.ct_zone = Be16{m.ct_zone};
    k.ct_mark = Be32{m.ct_mark};
    k.ct_label_id = m.ct_label_id;
  }

  // Whether the pass about to run (recirc_.cur) is the received batch's
  // packets in its order, each keyed at its index there: a firewall's
  // second pass when all its packets took one flow's ct(),recirc.
  bool same_order(const Batch& received) const noexcept {
    const size_t n = recirc_.cur.size();
    if (!cfg_.recirc_in_place || n != received.count || recirc_.cur_key.empty()) return false;
    for (size_t i = 0; i < n; ++i)
      if (recirc_.cur[i] != received.pkts[i] || recirc_.cur_key[i] != &received.keys[i])
        return false;
    return true;
  }

  // kIndexed: every journal change since the last batch removes the
  // megaflows that depend on it.  Cost: one probe per change + one removal
  // per affected flow; a lagging reader or a kAll change flushes instead.
  void apply_changes() {
    if constexpr (JournaledUpcallHandler<H>) {
      if (handler_->change_seq() == cursor_) return;
      changes_.clear();
      bool complete = handler_->read_changes(&cursor_, changes_);
      ++stats_.revalidations;
      stats_.changes += changes_.size();
      auto remove = [this](MegaflowEntry* e) { megaflows_.remove(e); };
      if (!complete) flush_counted();
      for (const CacheChange& c : changes_) {
        if (c.kind == CacheChange::Kind::kAll)
          flush_counted();
        else
          stats_.revalidated_out += deps_.invalidate(c, remove);
      }
    }
  }
  void flush_counted() {
    if (megaflows_.size() == 0) return;
    ++stats_.full_flushes;
    stats_.revalidated_out += megaflows_.size();
    flush();
  }

  // Hash, EMC, megaflow.  Returns the map of packets that missed both.
  // `in_place`: batch's keys are the previous pass's with their pass
  // fields set (run_pass), so the EMC may answer from its previous slots.
  uint32_t classify_cached(Batch& batch, PacketPlan* plan, bool in_place) noexcept {
    const uint32_t n = batch.count;
    MegaflowEntry* flows[kBatchSize];
    uint32_t todo = 0;
    if (cfg_.emc_enabled) {
      // emc_at_ says where this batch's previous pass hit while no EMC
      // slot has been written since (then each slot still holds the key
      // these keys were before their pass fields changed).
      const bool next =
          in_place && slots_of_ == &batch && slots_epoch_ == emc_.epoch() && cfg_.recirc_emc_next;
      slots_of_ = nullptr;
      if (next) {
        todo = classify_next(batch, plan);
      } else if (cfg_.emc_burst && n > 1 && same_key(batch.keys[1], batch.keys[0])) [[unlikely]] {
        todo = classify_burst(batch, plan);
      } else {
        for (uint32_t i = 0; i < n; ++i) {
          uint32_t h = flow_hash<B>(batch.keys[i]);
          batch.hashes[i] = h;
          batch.pkts[i]->meta.hash = h;
          emc_.prefetch(h);
        }
        if (record_slots_) {
          for (uint32_t i = 0; i < n; ++i) {
            uint32_t at;
            MegaflowEntry* e = emc_.lookup(batch.keys[i], batch.hashes[i], at);
            emc_at_[i] = at;
            plan[i] = PacketPlan{e, nullptr};
            todo |= uint32_t(e == nullptr) << i;
          }
          slots_of_ = &batch, slots_epoch_ = emc_.epoch();
        } else {
          for (uint32_t i = 0; i < n; ++i) {
            MegaflowEntry* e = emc_.lookup(batch.keys[i], batch.hashes[i]);
            plan[i] = PacketPlan{e, nullptr};
            todo |= uint32_t(e == nullptr) << i;
          }
        }
      }
      stats_.emc_hits += n - uint32_t(std::popcount(todo));
      if (!todo) return 0;
    } else {  // no EMC: nothing uses the flow hash
      slots_of_ = nullptr;
      for (uint32_t i = 0; i < n; ++i) plan[i] = PacketPlan{};
      todo = n == 32 ? ~0u : (1u << n) - 1;
    }
    uint32_t found =
        megaflows_.lookup_batch(batch.keys.data(), todo, flows, &stats_.subtable_lookups);
    stats_.megaflow_hits += uint32_t(std::popcount(found));
    for (uint32_t m = found; m; m &= m - 1) {
      uint32_t i = uint32_t(std::countr_zero(m));
      plan[i].flow = flows[i];
      __builtin_prefetch(flows[i]->actions.data());
      if (cfg_.emc_enabled) emc_.maybe_insert(batch.keys[i], batch.hashes[i], flows[i]);
    }
    return todo & ~found;
  }

  // a == b, tested first on the words that distinct flows most often
  // differ in (word 4: the IPv4 addresses; word 14: the L4 ports), so a
  // batch of distinct flows, the common case, decides against a burst
  // without the 16-word compare (session 18: ~25 instructions per pass).
  static bool same_key(const FlowKey& a, const FlowKey& b) noexcept {
    const KeyWord *x = a.words(), *y = b.words();
    if (((x[4] ^ y[4]) | (x[14] ^ y[14])) != 0) return false;
    return a == b;
  }

  // classify_cached's hash and EMC probe for an in-place pass whose
  // previous pass's slots are known (emc_at_, this epoch): a packet whose
  // previous slot remembers the answer for its pass fields takes it
  // (Emc::next_of: the probe's answer, without hash or probe); the others
  // hash and probe, and their answers are remembered for their previous
  // slots.  A packet answered from memory has no slot of its own for a
  // next pass (emc_at_ = kNoSlot: that pass probes it).
  uint32_t classify_next(Batch& batch, PacketPlan* plan) noexcept {
    const uint32_t n = batch.count;
    uint32_t prev[kBatchSize];
    uint32_t need = 0;
    if (emc_.has_next())
      for (uint32_t i = 0; i < n; ++i)
        if (emc_at_[i] != Emc::kNoSlot) emc_.prefetch_next(emc_at_[i]);
    for (uint32_t i = 0; i < n; ++i) {
      prev[i] = emc_at_[i];
      uint32_t h;
      MegaflowEntry* e = prev[i] != Emc::kNoSlot && emc_.has_next()
                             ? emc_.next_of(prev[i], batch.keys[i], h)
                             : nullptr;
      if (e) {
        batch.hashes[i] = h;
        batch.pkts[i]->meta.hash = h;
        plan[i] = PacketPlan{e, nullptr};
        emc_at_[i] = Emc::kNoSlot;
      } else {
        need |= 1u << i;
      }
    }
    recirc_.emc_next += n - uint32_t(std::popcount(need));
    uint32_t todo = 0;
    if (need) {
      for (uint32_t m = need; m; m &= m - 1) {
        const uint32_t i = uint32_t(std::countr_zero(m));
        const uint32_t h = flow_hash<B>(batch.keys[i]);
        batch.hashes[i] = h;
        batch.pkts[i]->meta.hash = h;
        emc_.prefetch(h);
      }
      for (uint32_t m = need; m; m &= m - 1) {
        const uint32_t i = uint32_t(std::countr_zero(m));
        MegaflowEntry* e = emc_.lookup(batch.keys[i], batch.hashes[i], emc_at_[i]);
        plan[i] = PacketPlan{e, nullptr};
        todo |= uint32_t(e == nullptr) << i;
        if (e && prev[i] != Emc::kNoSlot)
          emc_.remember_next(prev[i], batch.keys[i], batch.hashes[i], e);
      }
    }
    slots_of_ = &batch, slots_epoch_ = emc_.epoch();
    return todo;
  }

  // classify_cached's hash and EMC probe for a batch that starts with two
  // packets of one flow (a burst): a packet whose key equals the previous
  // packet's takes its hash and EMC answer (the EMC does not change until
  // the lookups are done, so the answer is the lookup's) and its slot,
  // which is noted, as classify_cached notes them, when the batch will
  // recirculate in place, so that the next pass runs inline or from the
  // remembered answers (classify_next; an in-place pass goes there first).
  // Chosen per batch by its first two keys, so a batch of distinct flows
  // pays one compare.
  uint32_t classify_burst(Batch& batch, PacketPlan* plan) noexcept {
    const uint32_t n = batch.count;
    uint32_t dup = 0, todo = 0;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t h;
      if (i && batch.keys[i] == batch.keys[i - 1]) {
        h = batch.hashes[i - 1];
        dup |= 1u << i;
      } else {
        h = flow_hash<B>(batch.keys[i]);
        emc_.prefetch(h);
      }
      batch.hashes[i] = h;
      batch.pkts[i]->meta.hash = h;
    }
    for (uint32_t i = 0; i < n; ++i) {
      MegaflowEntry* e;
      if ((dup >> i) & 1) {
        e = plan[i - 1].flow;
        if (record_slots_) emc_at_[i] = emc_at_[i - 1];
      } else if (record_slots_) {
        e = emc_.lookup(batch.keys[i], batch.hashes[i], emc_at_[i]);
      } else {
        e = emc_.lookup(batch.keys[i], batch.hashes[i]);
      }
      plan[i] = PacketPlan{e, nullptr};
      todo |= uint32_t(e == nullptr) << i;
    }
    if (record_slots_) slots_of_ = &batch, slots_epoch_ = emc_.epoch();
    return todo;
  }

  // Whether the received batch's next pass can be run inline, its first
  // pass having noted its EMC slots (slots_of_, tested first: plain
  // traffic notes none): the in-place pass with remembered EMC answers is
  // on and nothing is queued yet.  (That no slot was written since they
  // were noted is implied by Emc::next_of's own epoch test: an answer
  // remembered before them is served only in the epoch it was taken in.)
  bool inline_ready() const noexcept {
    return cfg_.recirc_inline && cfg_.recirc_in_place && cfg_.recirc_key_reuse &&
           cfg_.recirc_emc_next && cfg_.emc_enabled && emc_.has_next() && recirc_.next.empty();
  }

  // The flow of the next pass (recirc_id = id) of the received batch,
  // whose packets g (in batch order) took its one group, when that pass
  // can run inline: every packet's EMC answer for its pass fields is
  // remembered beside its first pass's slot (Emc::next_of: exactly the
  // probe's) and is one megaflow whose actions do not recirculate.  Then
  // the keys, hashes, slots and counters are as the queued in-place pass
  // (classify_next, execute) leaves them, and the caller runs the flow's
  // actions over g, as that pass would, without the queue, the pass's
  // set-up and its regrouping.  Else nullptr: queue it (the pass fields
  // set here are set again there, and reset by process()).
  MegaflowEntry* inline_flow(Batch& batch, uint32_t id, std::span<Packet*> g) noexcept {
    const uint32_t n = batch.count;
    if (g.size() != n) return nullptr;
    MegaflowEntry* flow = nullptr;
    keys_dirty_ = true;
    for (uint32_t i = 0; i < n; ++i) {
      PacketMeta& m = g[i]->meta;
      if (g[i] != batch.pkts[i] || m.malformed || emc_at_[i] == Emc::kNoSlot) return nullptr;
      m.recirc_id = id;
      set_pass_fields(batch.keys[i], m);
      uint32_t h;
      MegaflowEntry* e = emc_.next_of(emc_at_[i], batch.keys[i], h);
      if (!e || (flow && e != flow)) return nullptr;
      flow = e;
      batch.hashes[i] = h;
      m.hash = h;
    }
    if (flow->recircs) return nullptr;
    // Answered from memory: no slot of their own for a later pass.
    std::fill_n(emc_at_, n, Emc::kNoSlot);
    slots_of_ = &batch, slots_epoch_ = emc_.epoch();
    record_slots_ = true;
    stats_.recirculations += n, ++stats_.batches, stats_.emc_hits += n;
    stats_.groups += 1, stats_.group_packets += n;
    recirc_.keys_reused += n, recirc_.keys_in_place += n, recirc_.emc_next += n;
    recirc_.inlined += n;
    return flow;
  }

  // Regroups packets per flow, runs each group's actions once, credits.
  // `first`: the pass is the received batch's first.
  template <ActionSink S>
  void execute(Batch& batch, const PacketPlan* plan, RecircSink<S>& sink, bool first) noexcept {
    const uint32_t n = batch.count;
    Group groups[kBatchSize];
    uint8_t gid[kBatchSize];
    uint32_t ng = 0, grouped = 0;
    Packet* ordered[kBatchSize];
    if (n == 1) {
      // A batch of one (a PMD's common poll when it keeps up): its group,
      // without the batch tag, the regrouping loop and the ordering.
      Packet* p = batch.pkts[0];
      ordered[0] = p;
      if (!plan[0].flow && !plan[0].uncached) {  // failed upcall: lost, counted
        sink.drop(*p);
        gid[0] = 0xff;
      } else {
        groups[0] = Group{plan[0].flow, plan[0].uncached, 1, 0, p->size(),
                          uint16_t(batch.keys[0].tcp_flags.host() & 0x0fff)};
        gid[0] = 0;
        ng = grouped = 1;
      }
    } else {
      if (++batch_tag_ == 0) [[unlikely]] {  // wrapped: no stale tag may match
        megaflows_.for_each([](MegaflowEntry& e) { e.batch_tag = 0; });
        batch_tag_ = 1;
      }
      for (uint32_t i = 0; i < n; ++i) {
        MegaflowEntry* flow = plan[i].flow;
        if (!flow && !plan[i].uncached) {  // failed upcall: lost, counted
          sink.drop(*batch.pkts[i]);
          gid[i] = 0xff;
          continue;
        }
        // A flow remembers its group in this batch (batch_tag/batch_group in
        // the entry's first line, which execution reads anyway): O(1) per
        // packet instead of a search over the groups.
        uint32_t g = ng;
        if (flow) {
          if (flow->batch_tag == batch_tag_)
            g = flow->batch_group;
          else
            flow->batch_tag = batch_tag_, flow->batch_group = uint8_t(ng);
        }
        if (g == ng) groups[ng++] = Group{flow, plan[i].uncached, 0, 0, 0, 0};
        groups[g].n++;
        groups[g].bytes += batch.pkts[i]->size();
        groups[g].flags |= uint16_t(batch.keys[i].tcp_flags.host() & 0x0fff);
        gid[i] = uint8_t(g);
        ++grouped;
      }
      if (ng == 1 && grouped == n) {
        // One group of every packet (one flow's burst, a firewall's pass):
        // already in order.  A copy, not batch.pkts itself: a failed action
        // compacts its span, and pkts[i] must stay keys[i]'s packet.
        std::copy_n(batch.pkts.data(), n, ordered);
      } else {
        uint32_t fill[kBatchSize];
        for (uint32_t g = 0, start = 0; g < ng; start += groups[g++].n)
          fill[g] = groups[g].start = start;
        for (uint32_t i = 0; i < n; ++i)
          if (gid[i] != 0xff) ordered[fill[gid[i]]++] = batch.pkts[i];
      }
    }

    ActionExecutor<RecircSink<S>> exec(sink);
    const int64_t now = sink.now_ms();
    // Where a recirc finds its packets' keys (RecircSink::recirculate
    // checks the group's actions then, so a flow without recirc pays two
    // stores per group).
    const GroupKeys src{cfg_.recirc_key_reuse ? batch.keys.data() : nullptr, gid, n};
    // The received batch taken whole by one flow: its recirc may run the
    // next pass inline (inline_flow).
    const bool whole = first && slots_of_ == &batch && ng == 1 && grouped == n && inline_ready();
    for (uint32_t g = 0; g < ng; ++g) {
      const Group& gr = groups[g];
      const DpActionList* acts = gr.flow ? &gr.flow->actions : &gr.uncached->actions;
      std::span<Packet*> pkts(ordered + gr.start, gr.n);
      sink.set_group(&src, gr.flow, acts, uint8_t(g));
      // hold: the group's last recirc is held; when its next pass can run
      // inline, the loop runs again with that pass's flow (one call of
      // exec.run: with a second, the compiler called it out of line, +21
      // instructions a packet on plain traffic at batch 4).
      bool hold = whole && (gr.flow ? gr.flow->keeps_key : recirc_keeps_key(*acts));
      for (;;) {
        if (hold) sink.defer_recirc();
        exec.run(*acts, pkts);
        if (!hold) [[likely]]
          break;
        hold = false;
        const auto d = sink.take_deferred();
        if (d.g.empty()) break;
        MegaflowEntry* next = inline_flow(batch, d.id, d.g);
        if (!next) {
          sink.recirculate(d.id, d.g, true);
          break;
        }
        next->credit(writer_, gr.n, gr.bytes, now, gr.flags);  // the same packets
        acts = &next->actions, pkts = d.g;
        sink.set_group(nullptr, next, acts, 0);
      }
      if (gr.flow)
        gr.flow->credit(writer_, gr.n, gr.bytes, now, gr.flags);
      else
        for (const auto& rs : gr.uncached->stats) rs->add(writer_, gr.n, gr.bytes, now);
    }
    stats_.groups += ng;
    stats_.group_packets += grouped;
    stats_.outputs += exec.stats().outputs;
    stats_.action_drops += exec.stats().drops;
  }

  H* handler_;
  DatapathConfig cfg_;
  MegaflowCache<B> megaflows_;
  Emc emc_;
  MissHandler<H, B> misses_;
  uint64_t seen_generation_;
  uint64_t cursor_ = 0;  // kIndexed: the next journal change to apply
  std::vector<CacheChange> changes_;
  DependencyIndex deps_;
  uint32_t batch_tag_ = 0;
  // batch_now_ms: the system clock's last read (ms) and when (cycles).
  bool system_clock_ = cfg_.clock == Clock::system();
  bool clock_reusable_ = false;  // clock_ms_ was read from the system clock
  int64_t clock_ms_ = 0;
  uint64_t clock_read_at_ = 0;
  // Where the last classify_cached's EMC probes hit (Emc::kNoSlot: a miss
  // or not probed), for the keys of batch *slots_of_ (nullptr: none known)
  // at EMC epoch slots_epoch_ (classify_next).
  uint32_t emc_at_[kBatchSize];
  const Batch* slots_of_ = nullptr;
  uint32_t slots_epoch_ = 0;
  bool record_slots_ = false;  // the last batch took an in-place pass
  bool keys_dirty_ = false;    // the received keys hold a later pass's fields
  RecircState recirc_;
  PmdStats stats_;
  // Credits the rules' counters without locked adds (core/stats.hpp).
  StatsWriter writer_ = StatsWriter::unique();
};

}  // namespace flowpath
