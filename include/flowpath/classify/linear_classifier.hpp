// flowpath/classify/linear_classifier.hpp — the reference classifier.
//
// Ten lines of logic: rules in a vector, lookup scans them all and keeps
// the best.  It defines the semantics every faster classifier is tested
// against (tests/classify): the highest priority wins; among equal
// priorities the rule inserted first wins.  insert() with the same match
// and priority as an existing rule replaces it (OpenFlow ADD).
//
// The megaflow mask it reports is the union of the masks of every rule it
// looked at, which is correct (any key agreeing on those bits sees the same
// outcome for every rule) but far from minimal.
//
// Cost: O(rules) per lookup.  Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

#include "flowpath/flow/match.hpp"

namespace flowpath {

template <class T>
class LinearClassifier {
 public:
  struct Rule {
    Match match;
    int32_t priority;
    T value;
    uint64_t seq;
  };

  /// Inserts, or replaces the value of the rule with the same match and
  /// priority; returns true when a rule was replaced.
  bool insert(const Match& m, int32_t priority, T value) {
    for (auto& r : rules_)
      if (r.priority == priority && r.match == m) {
        r.value = std::move(value);
        return true;
      }
    rules_.push_back(Rule{m, priority, std::move(value), next_seq_++});
    return false;
  }

  bool remove(const Match& m, int32_t priority) {
    for (auto it = rules_.begin(); it != rules_.end(); ++it)
      if (it->priority == priority && it->match == m) {
        rules_.erase(it);
        return true;
      }
    return false;
  }

  /// Best rule for key, or nullptr.  ORs the consulted bits into *wc.
  const Rule* lookup(const FlowKey& key, FlowMask* wc = nullptr) const {
    const Rule* best = nullptr;
    for (const auto& r : rules_) {
      if (wc) mask_union(*wc, r.match.mask);
      if (r.match.matches(key) && (!best || r.priority > best->priority ||
                                   (r.priority == best->priority && r.seq < best->seq)))
        best = &r;
    }
    return best;
  }

  size_t size() const noexcept { return rules_.size(); }
  const std::vector<Rule>& rules() const noexcept { return rules_; }

 private:
  std::vector<Rule> rules_;
  uint64_t next_seq_ = 0;
};

}  // namespace flowpath
