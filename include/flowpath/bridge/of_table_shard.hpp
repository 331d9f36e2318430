// flowpath/bridge/of_table_shard.hpp — one OpenFlow table of an
// OpenFlowTable (bridge/openflow_table.hpp): where its rules are kept and
// how a lookup finds the best one.
//
//   OfTableShard<LinearClassifier<OfRulePtr>> t;
//   t.place(rule);  t.index.emplace(OfRuleKey{rule->match, rule->priority}, rule);
//   const OfRule* r = t.lookup(key, &wc, &meta);
//   t.erase(*r);
//
// A rule lives in the classifier (matches on FlowKey bits only) or, when it
// matches pipeline metadata (registers, conj_id, ct_label) or is a
// conjunction clause, in the side list ordered by priority, then age.
// The index finds a rule by (match, priority) in O(1); priorities counts
// the rules per priority (OpenFlowTable::max_priority).
// Lookup: the classifier, then the side list down to its hit's priority
// (their key masks go into wc, with the ports cut to the deciding prefix
// when only the ports differ: the registers themselves never reach a
// megaflow, they derive from the key).  Conjunctive match as OVS: clauses
// above the best ordinary rule are collected; when all N clauses of an ID
// matched, the table is looked up again with conj_id=ID and a rule found
// there above the ordinary one wins.
//
// Cost: lookup = one classifier lookup + the side rules above its hit;
// place/erase = one classifier insert/remove (side list: O(side rules)).
// Thread-safety: none; the OpenFlowTable's owner serialises changes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "flowpath/bridge/of_rule.hpp"
#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/ct_label_ids.hpp"

namespace flowpath {

/// A rule's identity within its table: OpenFlow's (match, priority).
struct OfRuleKey {
  Match match;
  int32_t priority;
  friend bool operator==(const OfRuleKey&, const OfRuleKey&) = default;
};
struct OfRuleKeyHash {
  size_t operator()(const OfRuleKey& k) const noexcept {
    uint64_t h = uint64_t(k.priority) * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < FlowKey::kWords; ++i) {
      h = (h ^ k.match.value.word(i)) * 0xff51afd7ed558ccdull;
      h = (h ^ k.match.mask.word(i)) * 0xc4ceb9fe1a85ec53ull;
      h ^= h >> 29;
    }
    return size_t(h);
  }
};

template <class Classifier>
struct OfTableShard {
  Classifier cls;
  std::unordered_map<OfRuleKey, OfRulePtr, OfRuleKeyHash> index;
  std::vector<OfRulePtr> side;           // needs_side_list() rules: priority desc, then seq
  std::map<int32_t, size_t> priorities;  // rules per priority (max_priority())

  /// Into the classifier or the side list (not the index, not priorities).
  void place(const OfRulePtr& r) {
    if (!r->needs_side_list()) {
      cls.insert(r->match, r->priority, r);
      return;
    }
    auto before = [](const OfRulePtr& a, const OfRulePtr& b) {
      return a->priority != b->priority ? a->priority > b->priority : a->seq < b->seq;
    };
    side.insert(std::upper_bound(side.begin(), side.end(), r, before), r);
  }
  void unplace(const OfRule& r) {
    if (!r.needs_side_list()) return void(cls.remove(r.match, r.priority));
    std::erase_if(side, [&](const OfRulePtr& x) { return x.get() == &r; });
  }
  /// Out of everything: classifier or side list, index, priorities.
  void erase(const OfRule& r) {
    OfRuleKey k{r.match, r.priority};  // r may die with its index entry
    int32_t priority = r.priority;
    unplace(r);
    index.erase(k);
    if (auto it = priorities.find(priority); it != priorities.end() && --it->second == 0)
      priorities.erase(it);
  }

  /// Best rule for `key` and the registers in `meta`, conjunctions
  /// resolved, or nullptr; ORs consulted bits into *wc.
  const OfRule* lookup(const FlowKey& key, FlowMask* wc, const PipelineMeta& meta) const {
    const OfRule* hard = lookup_plain(key, wc, meta);
    // Soft matches above the hard one: clauses seen per conjunction id.
    struct Conj {
      uint32_t id;
      uint8_t n;
      uint64_t seen;
    };
    std::vector<Conj> conj;
    for (const auto& r : side) {
      if (!beats(*r, hard)) break;
      if (!r->is_conjunctive() || !r->match.matches(key, meta)) continue;
      for (const auto& a : r->actions) {
        auto it = std::find_if(conj.begin(), conj.end(),
                               [&](const Conj& c) { return c.id == a.u32 && c.n == a.n_clauses; });
        if (it == conj.end()) it = conj.insert(conj.end(), Conj{a.u32, a.n_clauses, 0});
        it->seen |= uint64_t(1) << (a.clause - 1);
      }
    }
    for (const auto& c : conj) {
      if (c.seen != (c.n == 64 ? ~uint64_t(0) : (uint64_t(1) << c.n) - 1)) continue;
      PipelineMeta with = meta;
      with.conj_id = Be32{c.id};
      const OfRule* r = lookup_plain(key, wc, with);
      if (r && r != hard && match_has(r->match, FieldId::kConjId) && beats(*r, hard)) return r;
    }
    return hard;
  }

 private:
  static bool beats(const OfRule& a, const OfRule* b) {
    return !b || a.priority > b->priority || (a.priority == b->priority && a.seq < b->seq);
  }
  // A side rule that matches tp_src / tp_dst and whose key bits differ
  // from the key: ORs its mask into wc, without the ports when another
  // field differs (as OVS's staged lookup stops before the L4 stage),
  // else with the ports cut to the prefix that proves the mismatch (the
  // first differing port field down to its differing bit); returns true.  As Open vSwitch's ports
  // trie for a subtable that misses in its last stage: Neutron's DHCP rules
  // (reg5=...,udp,tp_src=68,tp_dst=67) no longer make a megaflow per UDP
  // source port.  The classifier does the same for its tables
  // (classify/ports_trie.hpp).
  static bool explain_ports_miss(const FlowKey& key, const Match& m, FlowMask& wc) {
    FlowMask rest = m.mask, ports{};
    ports.tp_src = rest.tp_src, ports.tp_dst = rest.tp_dst;
    if (!(ports.tp_src.raw | ports.tp_dst.raw)) return false;
    rest.tp_src = rest.tp_dst = Be16{};
    FlowKey rest_values = m.value, port_values{};
    rest_values.tp_src = rest_values.tp_dst = Be16{};
    port_values.tp_src = m.value.tp_src, port_values.tp_dst = m.value.tp_dst;
    if (!masked_equal(key, rest, rest_values)) {  // missed before the ports:
      mask_union(wc, rest);                       // OVS's staged lookup stops
      return true;                                // there, adding no port bit
    }
    FlowMask why{};
    if (!classify_detail::explain_mismatch(key, ports, port_values, why)) return false;
    mask_union(wc, rest);
    mask_union(wc, why);
    return true;
  }
  // Classifier, then the side list down to the hit's priority.
  const OfRule* lookup_plain(const FlowKey& key, FlowMask* wc, const PipelineMeta& meta) const {
    auto* hit = cls.lookup(key, wc);
    const OfRule* best = hit ? hit->value.get() : nullptr;
    for (const auto& r : side) {
      if (!beats(*r, best)) break;
      if (wc && explain_ports_miss(key, r->match, *wc)) continue;
      if (wc) {
        mask_union(*wc, r->match.mask);
        // ct_label rides in the key as an id (flow/ct_label_ids.hpp): a
        // consulted label bit pins the whole id.
        if (!CtLabelIds::is_zero(r->match.meta_mask.ct_label)) wc->ct_label_id = ~0u;
      }
      if (!r->is_conjunctive() && r->match.matches(key, meta)) return r.get();
    }
    return best;
  }
};

}  // namespace flowpath
