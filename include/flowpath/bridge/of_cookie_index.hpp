// flowpath/bridge/of_cookie_index.hpp — the rules of a switch's OpenFlow
// tables by cookie, so a flow-mod selecting by a full cookie mask
// (`del-flows BR cookie=0x1/-1`, a controller removing what it added)
// finds its rules without scanning every table (Open vSwitch keeps the
// same index, ofproto.c's cookies hmap).  Each cookie also counts its
// rules per table, so a delete of a whole cookie knows which tables it
// empties without touching one rule (bridge/openflow_table.hpp).
//
// Cost: add/remove/take O(1) average (+ the cookie's tables, a handful);
// find O(1) + the rules returned.  Memory: one hash node (pointer +
// shared_ptr) per rule.  Thread-safety: none; the owning OpenFlowTable's.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flowpath/bridge/of_rule.hpp"

namespace flowpath {

class OfCookieIndex {
 public:
  using Rules = std::unordered_map<const OfRule*, OfRulePtr>;
  /// The rules of one cookie and how many of them each table holds.
  struct Set {
    Rules rules;
    std::vector<std::pair<uint8_t, size_t>> per_table;  // (table, rules), few entries
  };

  void add(const OfRulePtr& r) {
    Set& s = by_cookie_[r->cookie];
    if (s.rules.emplace(r.get(), r).second) ++slot(s, r->table_id);
  }
  void remove(const OfRule* r) {
    auto it = by_cookie_.find(r->cookie);
    if (it == by_cookie_.end() || it->second.rules.erase(r) == 0) return;
    --slot(it->second, r->table_id);
    if (it->second.rules.empty()) by_cookie_.erase(it);
  }
  size_t count(uint64_t cookie) const {
    const Set* s = find_set(cookie);
    return s ? s->rules.size() : 0;
  }
  /// Removes every rule with this cookie at once and hands their set over
  /// (the caller may free it later: a big set's nodes cost a free each).
  Set take(uint64_t cookie) {
    Set out;
    if (auto it = by_cookie_.find(cookie); it != by_cookie_.end()) {
      out = std::move(it->second);
      by_cookie_.erase(it);
    }
    return out;
  }
  /// The rules with exactly this cookie (nullptr: none); valid until the
  /// next add or remove.
  const Rules* find(uint64_t cookie) const {
    const Set* s = find_set(cookie);
    return s ? &s->rules : nullptr;
  }
  const Set* find_set(uint64_t cookie) const {
    auto it = by_cookie_.find(cookie);
    return it == by_cookie_.end() ? nullptr : &it->second;
  }
  /// f(rule) for every rule whose cookie is not `cookie`: O(those rules +
  /// cookies), the survivors of a delete of that whole cookie.
  template <class F>
  void for_each_except(uint64_t cookie, F&& f) const {
    for (const auto& [c, s] : by_cookie_)
      if (c != cookie)
        for (const auto& [p, r] : s.rules) f(r);
  }

 private:
  static size_t& slot(Set& s, uint8_t table) {
    for (auto& [t, n] : s.per_table)
      if (t == table) return n;
    return s.per_table.emplace_back(table, 0).second;
  }
  std::unordered_map<uint64_t, Set> by_cookie_;
};

}  // namespace flowpath
