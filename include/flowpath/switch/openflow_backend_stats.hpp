// flowpath/switch/openflow_backend_stats.hpp — OfprotoBackend's stats
// replies (declared in switch/openflow_backend.hpp, whose header comment
// gives the semantics): flow and aggregate stats from the bridge's tables,
// port stats from the Switch's port counters, fixed desc and table data.
//
// A flow dump (append_flow_stats) is encoded from the rules where they
// are, with no FlowStats per rule: only the selection runs under the
// Ofproto's mutex, where it pins the rules (a published rule never changes
// but for its atomic counters: OpenFlowTable::modify copies), and the
// encoding runs after the unlock, so upcalls and flow-mods wait ~the sort,
// not the ~10 MB of encoding.  The entries are the table as of the
// selection.
//
// Cost: flow and aggregate stats O(rules log rules) (the selection's
// sort); table stats O(tables); port stats O(ports).
// Thread-safety: as OfprotoBackend (the Ofproto's mutex, then a port's,
// never a PMD's while holding the Ofproto's).
#pragma once

#include <algorithm>
#include <mutex>

#include "flowpath/openflow/flow_stats_stream.hpp"
#include "flowpath/switch/openflow_backend.hpp"

namespace flowpath {

inline void OfprotoBackend::append_flow_stats(const openflow::StatsRequest& rq, uint8_t version,
                                              uint32_t xid, std::vector<uint8_t>& out) {
  std::vector<std::shared_ptr<const OfRule>> rules;
  int64_t now;
  {
    std::lock_guard lock(of_.mutex());
    now = of_.clock()->now_ms();
    rules = select_pinned(rq);
  }
  out.reserve(out.size() + rules.size() * 112);  // ~the mean entry: no regrowth copies
  openflow::FlowStatsStream s(out, version, xid, rq.match_format);
  openflow::FlowStats head;
  // The rules are scattered heap objects, each with its action array and
  // counters elsewhere: the dump waits on memory more than it computes.
  // So the rule kAhead entries on is fetched early, and its actions and
  // counters kAhead / 2 entries on (its pointers are in cache by then);
  // each pin is dropped right after its entry, while its control block is
  // still in cache (not in a second cold pass when the vector goes).
  constexpr size_t kAhead = 8;
  const size_t n = rules.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) prefetch_object(rules[i + kAhead].get(), sizeof(OfRule));
    if (i + kAhead / 2 < n) {
      const OfRule& next = *rules[i + kAhead / 2];
      if (!next.actions.empty())
        prefetch_object(next.actions.data(),
                        std::min<size_t>(next.actions.size() * sizeof(OfAction), 256));
      if (next.stats) prefetch_object(next.stats.get(), sizeof(RuleStats));
    }
    const OfRule& r = *rules[i];
    stats_head(head, r, now);
    s.add(head, r.match, r.actions);
    rules[i].reset();
  }
  s.finish();
}

/// Asks for the cache lines of [p, p + n) (a hint, never a fault).
inline void OfprotoBackend::prefetch_object(const void* p, size_t n) noexcept {
  const char* c = static_cast<const char*>(p);
  for (size_t off = 0; off < n; off += 64) __builtin_prefetch(c + off);
}

/// Every field of `r`'s flow stats entry but the match and instructions.
inline void OfprotoBackend::stats_head(openflow::FlowStats& s, const OfRule& r, int64_t now) {
  s.table_id = r.table_id;
  int64_t age = now - r.created_ms < 0 ? 0 : now - r.created_ms;
  s.duration_sec = uint32_t(age / 1000);
  s.duration_nsec = uint32_t(age % 1000) * 1000000u;
  s.priority = r.priority;
  s.idle_timeout = r.idle_timeout;
  s.hard_timeout = r.hard_timeout;
  s.importance = r.importance;
  s.idle_age = uint16_t(std::min<int64_t>((now - r.last_used_ms()) / 1000, 0xffff));
  s.hard_age = uint16_t(std::min<int64_t>((now - r.modified_ms) / 1000, 0xffff));
  s.cookie = r.cookie;
  s.packet_count = r.stats ? r.stats->packets() : 0;
  s.byte_count = r.stats ? r.stats->bytes() : 0;
}

inline openflow::StatsReply OfprotoBackend::stats(const openflow::StatsRequest& rq) {
  using T = openflow::StatsType;
  openflow::StatsReply rep;
  rep.type = rq.type;
  rep.match_format = rq.match_format;
  if (rq.type == T::kPort) return port_stats(rq, rep), rep;
  if (rq.type == T::kPortDesc) return rep.port_descs = port_descs(), rep;
  std::lock_guard lock(of_.mutex());
  int64_t now = of_.clock()->now_ms();
  switch (rq.type) {
    case T::kDesc:
      rep.desc = {"flowpath", "flowpath switch", "flowpath", "None", bridge_};
      break;
    case T::kFlow: {
      auto rules = select(rq);
      rep.flows.reserve(rules.size());  // 100,000 entries: no regrowth copies
      for (const OfRule* r : rules) {
        openflow::FlowStats& f = rep.flows.emplace_back();
        stats_head(f, *r, now);
        f.match = r->match;
        f.instructions.actions = r->actions;
      }
      break;
    }
    case T::kAggregate:
      for (const OfRule* r : select(rq)) {
        ++rep.aggregate.flow_count;
        rep.aggregate.packet_count += r->stats ? r->stats->packets() : 0;
        rep.aggregate.byte_count += r->stats ? r->stats->bytes() : 0;
      }
      break;
    case T::kTable: {
      // ovs-ofctl asks for these before every add-flows, dump-flows and
      // del-flows in OpenFlow 1.0 (its table names): counted per table,
      // not by listing (and sorting) every rule.
      const BridgeTables& t = bridge().tables();
      for (uint8_t id = 0; id < kNumTables; ++id)
        rep.tables.push_back({id, id ? "table" + std::to_string(id) : "classifier", 0x3fffff,
                              1000000, uint32_t(t.size(id)), 0, 0});
      break;
    }
    case T::kTableFeatures:
      for (uint8_t id = 0; id < kNumTables; ++id)
        rep.table_features.push_back(
            {id, id ? "table" + std::to_string(id) : "classifier", 0, 0, 0, 1000000});
      break;
    default:
      break;
  }
  return rep;
}

inline void OfprotoBackend::port_stats(const openflow::StatsRequest& rq,
                                       openflow::StatsReply& rep) {
  std::vector<std::pair<uint32_t, uint32_t>> ports;  // ofport, dp_port
  {
    std::lock_guard lock(of_.mutex());
    for (const BridgePort* p : bridge().ports())
      if (rq.port_no == kOfppNone || rq.port_no == p->ofport())
        ports.emplace_back(p->ofport(), p->dp_port);
  }
  for (auto [ofport, dp] : ports) {
    openflow::PortStats s;
    s.port_no = ofport;
    // By number: ports() lists the open ports only, so an index would
    // shift once a port has gone.
    SwitchPort* sp = nullptr;
    if (sw_)
      for (SwitchPort* q : sw_->ports())
        if (q->dp_port() == dp) sp = q;
    if (sp) {
      std::lock_guard lock(sp->domain());
      SwitchPortStats st = sp->stats();
      s.counters[0] = st.rx, s.counters[1] = st.tx;
      s.counters[4] = st.rx_dropped, s.counters[5] = st.tx_dropped;
    }
    rep.ports.push_back(s);
  }
}

}  // namespace flowpath
