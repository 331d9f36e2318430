// flowpath/bridge/of_cookie_index.hpp — the rules of a switch's OpenFlow
// tables by cookie, so a flow-mod selecting by a full cookie mask
// (`del-flows BR cookie=0x1/-1`, a controller removing what it added)
// finds its rules without scanning every table (Open vSwitch keeps the
// same index, ofproto.c's cookies hmap).
//
// Cost: add/remove/take O(1) average; find O(1) + the rules returned.
// Memory: one hash node (pointer + shared_ptr) per rule.
// Thread-safety: none; the owning OpenFlowTable's.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "flowpath/bridge/of_rule.hpp"

namespace flowpath {

class OfCookieIndex {
 public:
  using Rules = std::unordered_map<const OfRule*, OfRulePtr>;
  void add(const OfRulePtr& r) { by_cookie_[r->cookie].emplace(r.get(), r); }
  void remove(const OfRule* r) {
    auto it = by_cookie_.find(r->cookie);
    if (it == by_cookie_.end()) return;
    it->second.erase(r);
    if (it->second.empty()) by_cookie_.erase(it);
  }
  size_t count(uint64_t cookie) const {
    const Rules* r = find(cookie);
    return r ? r->size() : 0;
  }
  /// Removes every rule with this cookie at once and hands their set over
  /// (the caller may free it later: a big set's nodes cost a free each).
  Rules take(uint64_t cookie) {
    Rules out;
    if (auto it = by_cookie_.find(cookie); it != by_cookie_.end()) {
      out = std::move(it->second);
      by_cookie_.erase(it);
    }
    return out;
  }
  /// The rules with exactly this cookie (nullptr: none); valid until the
  /// next add or remove.
  const Rules* find(uint64_t cookie) const {
    auto it = by_cookie_.find(cookie);
    return it == by_cookie_.end() ? nullptr : &it->second;
  }

 private:
  std::unordered_map<uint64_t, Rules> by_cookie_;
};

}  // namespace flowpath
