// flowpath/classify/megaflow_entry.hpp — one cached datapath flow.
//
// A megaflow is what the slow path decided for a whole class of packets:
// the match (masked key + mask: every bit the decision consulted), the
// datapath actions, and the OpenFlow rules' counters to credit.  The
// megaflow cache owns entries; the exact-match cache and a batch in flight
// point at them.
//
// Lifetime.  Entries live in a pool and are never freed while the cache
// exists, so a pointer stays dereferenceable.  Removing an entry sets
// `dead` and bumps `serial`; whoever kept a pointer also kept the serial it
// saw and must check `alive(serial)` before using the entry (the EMC does).
// A recycled entry has a new serial, so an old pointer can never serve the
// new flow's actions to the old flow's packets.
//
// Layout: a hit touches two adjacent cache lines: line 0 (actions, rule
// counters, packet/byte counts) and line 1 (time, flags, serial, and a
// compact copy of the subtable's masked words to confirm the match on).
// Cost: crediting a group is four stores plus, per rule, two loads and
// three stores (RuleStats: no locked add unless another writer owns the
// rule; once every rule is known to be the entry's writer's, rules_owned
// skips the owner tests).  Thread-safety: owned by one datapath thread; the
// counters are plain (read them from that thread, e.g. through
// dpctl_dump_flows()).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/core/stats.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath {

struct alignas(64) MegaflowEntry {
  static constexpr uint32_t kCompactWords = 5;

  // Cache line 0: what executing and crediting a hit reads and writes.
  DpActionList actions;
  std::vector<std::shared_ptr<RuleStats>> rule_stats;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  // Cache line 1: the rest of a hit's working set.
  int64_t used_ms = 0;  // 0 = never
  uint16_t tcp_flags = 0;
  bool dead : 1 = true;  // pooled and unused, or removed
  // Every rule_stats entry is owned by the writer that credits this entry
  // (its datapath's): crediting skips RuleStats' owner test.  Cleared by
  // set_rule_stats.
  bool rules_owned : 1 = false;
  // recirculates(actions) and recirc_keeps_key(actions)
  // (datapath/recirc_actions.hpp), set by the datapath's miss handler at
  // install; left true and false (no shortcut) by any other installer.
  bool recircs : 1 = true;
  bool keeps_key : 1 = false;
  uint8_t batch_group = 0;   // the datapath's regrouping scratch:
  uint32_t batch_tag = 0;    //   group index in batch number batch_tag
  uint32_t serial = 1;       // changes whenever the entry dies
  uint32_t filter_hash = 0;  // the cache's pre-filter hash of match.value
  // The subtable's masked words of match.value (its first kCompactWords),
  // so that confirming a hit reads this line instead of the match.
  uint64_t compact[kCompactWords] = {};
  // Cold: the full match (dump-flows, revalidation, wider masks).
  Match match;  // masked key + megaflow mask (in_port always exact)
  uint32_t subtable = 0;
  uint32_t slot = 0;

  bool alive(uint32_t seen_serial) const noexcept { return !dead && serial == seen_serial; }

  /// Credits a group of `n` packets (`n_bytes` before actions) to this flow
  /// and, as writer `w`, to every OpenFlow rule it came from.
  /// An entry is credited by one writer besides StatsWriter::shared().
  void credit(StatsWriter w, uint64_t n, uint64_t n_bytes, int64_t now_ms,
              uint16_t flags) noexcept {
    packets += n;
    bytes += n_bytes;
    used_ms = now_ms;
    tcp_flags |= flags;
    if (rules_owned && w.id != StatsWriter::kShared) [[likely]] {
      for (const auto& s : rule_stats) s->add_as_owner(n, n_bytes, now_ms);
      return;
    }
    credit_rules(w, n, n_bytes, now_ms);
  }
  /// credit()'s rules through RuleStats::add, noting whether `w` owns them
  /// all (out of line: the fast path's caller stays small enough for GCC
  /// to inline the action executor into it).
  [[gnu::noinline]] void credit_rules(StatsWriter w, uint64_t n, uint64_t n_bytes,
                                      int64_t now_ms) noexcept {
    bool owned = true;
    for (const auto& s : rule_stats) owned &= s->add(w, n, n_bytes, now_ms);
    if (w.id != StatsWriter::kShared) rules_owned = owned;
  }
  void set_rule_stats(const std::vector<std::shared_ptr<RuleStats>>& stats) {
    rule_stats = stats;
    rules_owned = false;
  }
};

}  // namespace flowpath
