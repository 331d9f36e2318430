// flowpath/flow/match.hpp — a match: a flow-key value plus a mask.
//
// Invariant: value == value & mask (bits outside the mask are zero), so two
// matches are equal exactly when their bytes are equal.  The field registry
// and the ovs-ofctl text syntax build and print Matches (flow/fields.hpp,
// flow/ofctl_text.hpp); classifiers store them.
//
// Thread-safety: plain value type.
#pragma once

#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

struct Match {
  FlowKey value;  // already masked
  FlowMask mask;  // 1 bits are significant

  Match() = default;
  Match(const FlowKey& v, const FlowMask& m) noexcept : value(masked(v, m)), mask(m) {}

  bool matches(const FlowKey& key) const noexcept { return masked_equal(key, mask, value); }
  /// Re-establishes the invariant after fields were set directly.
  void normalize() noexcept { apply_mask(value, mask, value); }

  friend bool operator==(const Match&, const Match&) noexcept = default;
};

}  // namespace flowpath
