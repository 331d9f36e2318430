// flowpath/bridge/of_rule.hpp — one OpenFlow rule, the selector of
// modify/delete flow-mods, and the `ovs-ofctl dump-flows` line of a rule.
//
// A rule's RuleStats (core/stats.hpp) is shared with every megaflow the
// slow path installed from it: the fast path credits hits there, the
// control side reads them for dump-flows and idle timeouts.
//
// Thread-safety: rules are owned and changed by the control thread only;
// `stats` may be updated from datapath threads at any time.
#pragma once

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "flowpath/core/stats.hpp"
#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath {

struct OfRule {
  Match match;
  int32_t priority = kOfDefaultPriority;
  uint64_t cookie = 0;
  uint8_t table_id = 0;
  uint16_t idle_timeout = 0;  // seconds, 0 = none
  uint16_t hard_timeout = 0;
  uint16_t importance = 0;  // OpenFlow 1.4 flow-mod's: kept and dumped (no eviction), as OVS
  OfActionList actions;
  std::shared_ptr<RuleStats> stats;
  int64_t created_ms = 0;   // Clock::now_ms at ADD
  int64_t modified_ms = 0;  // at ADD or the last MODIFY
  uint64_t seq = 0;         // insertion order

  /// Last hit, or creation when never hit.
  int64_t last_used_ms() const noexcept {
    int64_t used = stats ? stats->used_ms() : 0;
    return used > created_ms ? used : created_ms;
  }
  bool outputs_to(uint32_t port) const noexcept {
    for (const auto& a : actions)
      if (a.type == OfActionType::kOutput && a.port == port) return true;
    return false;
  }
  /// A clause of conjunctive matches (its actions are conjunction(...)):
  /// it never wins a lookup itself (OVS's "soft" match).
  bool is_conjunctive() const noexcept {
    return !actions.empty() && actions[0].type == OfActionType::kConjunction;
  }
  /// Kept beside the classifier, in the table's ordered side list: rules
  /// that match pipeline metadata (the classifier sees only FlowKey) and
  /// conjunction clauses.
  bool needs_side_list() const noexcept { return match.has_meta() || is_conjunctive(); }
};
using OfRulePtr = std::shared_ptr<OfRule>;

/// Which rules a modify or delete applies to.
struct OfFlowFilter {
  Match match;                            // strict: equal; else: rule at least as specific
  int32_t priority = kOfDefaultPriority;  // strict only
  bool strict = false;
  uint8_t table = kOfTableAll;
  uint64_t cookie = 0, cookie_mask = 0;  // (rule.cookie & mask) == (cookie & mask)
  uint32_t out_port = kOfppNone;         // delete only: rule must output there

  /// From flow text parsed with FlowTextMode::kFilter.
  static OfFlowFilter from(const OfctlFlow& f, bool strict) {
    OfFlowFilter x;
    x.match = f.match;
    x.priority = f.priority;
    x.strict = strict;
    x.table = f.table;
    x.cookie = f.cookie;
    x.cookie_mask = f.cookie_mask;
    x.out_port = f.out_port;
    return x;
  }
  /// Non-strict selection: every packet `rule` matches, this filter matches.
  bool covers(const Match& rule) const noexcept {
    for (size_t i = 0; i < FlowKey::kWords; ++i) {
      uint64_t fm = match.mask.word(i);
      if (fm & ~rule.mask.word(i)) return false;
      if ((rule.value.word(i) ^ match.value.word(i)) & fm) return false;
    }
    for (size_t i = 0; i < PipelineMeta::kWords; ++i) {
      uint64_t fm = match.meta_mask.words()[i];
      if (fm & ~rule.meta_mask.words()[i]) return false;
      if ((rule.meta_value.words()[i] ^ match.meta_value.words()[i]) & fm) return false;
    }
    return true;
  }
};

/// "12s" or "735.544s", as ovs-ofctl prints durations.
inline std::string format_duration_ms(int64_t ms) {
  if (ms < 0) ms = 0;
  char b[40];
  if (ms % 1000)
    std::snprintf(b, sizeof b, "%" PRId64 ".%03ds", ms / 1000, int(ms % 1000));
  else
    std::snprintf(b, sizeof b, "%" PRId64 "s", ms / 1000);
  return b;
}

/// One `ovs-ofctl dump-flows` line for `r` at time `now_ms`:
/// cookie=0x0, duration=735.544s, table=0, n_packets=70, n_bytes=9976,
/// [idle_timeout=N, ][hard_timeout=N, ]idle_age=17, [hard_age=N, ]MATCH actions=...
/// hard_age appears only when it differs from the duration (after a modify).
inline std::string format_rule_stats(const OfRule& r, int64_t now_ms,
                                     const PortNamer* namer = nullptr) {
  char b[160];
  uint64_t packets = r.stats ? r.stats->packets() : 0;
  uint64_t bytes = r.stats ? r.stats->bytes() : 0;
  std::snprintf(b, sizeof b,
                "cookie=0x%" PRIx64 ", duration=%s, table=%u, n_packets=%" PRIu64
                ", n_bytes=%" PRIu64 ", ",
                r.cookie, format_duration_ms(now_ms - r.created_ms).c_str(), unsigned(r.table_id),
                packets, bytes);
  std::string s = b;
  if (r.idle_timeout) s += "idle_timeout=" + std::to_string(r.idle_timeout) + ", ";
  if (r.hard_timeout) s += "hard_timeout=" + std::to_string(r.hard_timeout) + ", ";
  int64_t duration_s = (now_ms - r.created_ms) / 1000;
  s += "idle_age=" + std::to_string((now_ms - r.last_used_ms()) / 1000) + ", ";
  int64_t hard_age = (now_ms - r.modified_ms) / 1000;
  if (hard_age != duration_s) s += "hard_age=" + std::to_string(hard_age) + ", ";
  std::string m = format_match(r.match, r.priority, namer);
  s += m.empty() ? "" : m + " ";
  return s + "actions=" + format_actions(r.actions, namer);
}

}  // namespace flowpath
