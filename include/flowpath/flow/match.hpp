// flowpath/flow/match.hpp — a match: a flow-key value plus a mask, and
// the same over the pipeline metadata (registers, conj_id, ct_label; see
// flow/pipeline_meta.hpp), which only OpenFlow tables consult.
//
// Invariant: value == value & mask (bits outside the mask are zero), so two
// matches are equal exactly when their bytes are equal.  The field registry
// and the ovs-ofctl text syntax build and print Matches (flow/fields.hpp,
// flow/ofctl_text.hpp); classifiers store them.
//
// Thread-safety: plain value type.
#pragma once

#include "flowpath/flow/flow_key.hpp"
#include "flowpath/flow/pipeline_meta.hpp"

namespace flowpath {

struct Match {
  FlowKey value;            // already masked
  FlowMask mask;            // 1 bits are significant
  PipelineMeta meta_value;  // already masked
  PipelineMeta meta_mask;   // all zero unless a register/conj_id/ct_label is matched

  Match() = default;
  Match(const FlowKey& v, const FlowMask& m) noexcept : value(masked(v, m)), mask(m) {}

  /// The key part only: callers that may see metadata matches use the
  /// two-argument form (has_meta() says which).
  bool matches(const FlowKey& key) const noexcept { return masked_equal(key, mask, value); }
  bool matches(const FlowKey& key, const PipelineMeta& meta) const noexcept {
    return masked_equal(key, mask, value) && meta.masked_equal(meta_mask, meta_value);
  }
  bool has_meta() const noexcept { return !meta_mask.is_zero(); }
  /// Re-establishes the invariant after fields were set directly.
  void normalize() noexcept {
    apply_mask(value, mask, value);
    meta_value.apply_mask(meta_mask);
  }

  friend bool operator==(const Match&, const Match&) noexcept = default;
};

}  // namespace flowpath
