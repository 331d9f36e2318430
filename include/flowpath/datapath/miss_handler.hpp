// flowpath/datapath/miss_handler.hpp — the datapath's slow-path edge:
// upcalls for cache misses, megaflow installation, revalidation.
//
// For each packet that missed both caches, in packet order:
//   1. look the key up in the megaflow cache again — an earlier miss of
//      the same batch may have installed its flow (one upcall per flow, not
//      per packet, as OVS's fast_path_processing does);
//   2. handler.upcall(key, &pkt, r); r.failed or an exception = lost;
//   3. install key & (r.mask | in_port exact) -> r.actions, and record what
//      the translation consulted in the dependency index (when the handler
//      tracks it and the datapath invalidates by dependency).  When the
//      cache refuses (flow or subtable limit) or the handler says the
//      result is not cacheable, the packet runs r.actions from a per-batch
//      scratch result instead: still correct, never cached.
// Scratch results keep their vectors' capacity, so a steady stream of
// uncached flows does not allocate once warm.
//
// revalidate_all() re-translates every megaflow's key without a packet
// (no side effects) and removes those whose mask or actions changed, or
// whose translation became uncacheable (e.g. it now sends to a controller).
//
// Cost: one megaflow probe + one upcall + one install per new flow.
// Thread-safety: the datapath's thread only.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "flowpath/classify/megaflow_cache.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/datapath/dependency_index.hpp"
#include "flowpath/datapath/pmd_stats.hpp"
#include "flowpath/datapath/recirc_actions.hpp"
#include "flowpath/datapath/upcall.hpp"

namespace flowpath {

/// What happens to one packet of a batch: a cached flow, an uncached
/// upcall result (limit reached), or neither (lost).
struct PacketPlan {
  MegaflowEntry* flow = nullptr;
  const UpcallResult* uncached = nullptr;
};

template <UpcallHandler H, class B>
class MissHandler {
 public:
  MissHandler(H& handler, MegaflowCache<B>& megaflows) noexcept
      : handler_(&handler), megaflows_(&megaflows) {}

  /// `deps`: where to record installed flows' dependencies (nullptr: none).
  void handle(Batch& batch, uint32_t todo, PacketPlan* plan, PmdStats& st,
              DependencyIndex* deps = nullptr) noexcept {
    uint32_t n_scratch = 0;
    for (uint32_t m = todo; m; m &= m - 1) {
      const uint32_t i = uint32_t(std::countr_zero(m));
      const FlowKey& key = batch.keys[i];
      MegaflowEntry* found[1] = {nullptr};
      if (megaflows_->lookup_batch(&key, 1u, found, &st.subtable_lookups)) {
        plan[i].flow = found[0];
        ++st.megaflow_hits;
        continue;
      }
      UpcallResult& r = scratch_[n_scratch];
      if (!translate(key, batch.pkts[i], r)) {
        ++st.lost;
        continue;
      }
      ++st.upcall_ok;
      MegaflowEntry* e = nullptr;
      try {
        if (r.cacheable && (!deps || r.tracked)) {
          e = megaflows_->install(key, r.mask, r.actions, r.stats);
          if (e) e->recircs = recirculates(e->actions), e->keeps_key = recirc_keeps_key(e->actions);
          if (e && deps) deps->add(e, r.deps, r.journal_seq);
        }
      } catch (...) {  // allocation failure: run uncached (and forget the flow)
        if (e) megaflows_->remove(e);
        e = nullptr;
      }
      if (e) {
        plan[i].flow = e;
      } else {
        plan[i].uncached = &r;
        ++n_scratch;
        ++st.uncached;
      }
    }
  }

  /// Removes every megaflow whose translation changed; returns how many.
  size_t revalidate_all() {
    std::vector<MegaflowEntry*> all;
    all.reserve(megaflows_->size());
    megaflows_->for_each([&](MegaflowEntry& e) { all.push_back(&e); });
    size_t removed = 0;
    for (MegaflowEntry* e : all) {
      bool ok = translate(e->match.value, nullptr, reval_);
      if (!ok || !reval_.cacheable || !(reval_.mask == e->match.mask) ||
          reval_.actions != e->actions) {
        megaflows_->remove(e);
        ++removed;
      } else if (reval_.stats != e->rule_stats) {
        e->set_rule_stats(reval_.stats);
      }
    }
    return removed;
  }

 private:
  bool translate(const FlowKey& key, const Packet* pkt, UpcallResult& r) noexcept {
    try {
      r.clear();
      handler_->upcall(key, pkt, r);
    } catch (...) {
      r.failed = true;
    }
    if (r.failed) return false;
    r.mask.in_port = 0xffffffffu;
    return true;
  }

  H* handler_;
  MegaflowCache<B>* megaflows_;
  std::array<UpcallResult, kBatchSize> scratch_;
  UpcallResult reval_;
};

}  // namespace flowpath
