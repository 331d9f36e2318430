// flowpath/openflow/tlv_plan.hpp — OXM/NXM match encoding for many matches
// of few shapes (a flow dump): the same bytes as encode_tlvs
// (openflow/nxm_encode.hpp), with the field walk done once per shape.
//
//   TlvPlanCache plans;                       // one per dump (FlowStatsStream)
//   for (...) plans.encode(w, rule.match, TlvDialect::kNxm);
//   encode_oxm_match(w, match, plans);        // ofp_match, OpenFlow 1.3
//
// Why: encode_tlvs probes ~30 fields per match (which to write, which
// header, masked or not, prerequisites, every mask bit carried) and most
// of them are absent; a dump of 100,000 rules spent three quarters of its
// instructions there.  Rules share a few mask shapes, and everything that
// walk decides follows from the shape: the masks, and the few values that
// choose headers (dl_type, nw_proto, the ICMPv6 type for ND fields, the
// VLAN CFI bit for OXM's "no tag").  So the first match of a shape is
// encoded by encode_tlvs, which records the entries it wrote (the plan);
// later matches of that shape replay the plan: per entry its fixed header,
// then value (and mask) bytes read from the match.  A match that
// encode_tlvs refuses throws as before and leaves no plan.
//
// Cost: per match a key of 28 words (copy, hash, compare) plus the written
// entries; a shape's first match costs one encode_tlvs.  kSlots plans,
// direct-mapped by hash: more shapes than that only cost re-walks.
// Thread-safety: none; one cache per encoding thread (it is a memo, the
// bytes never depend on what it holds).
#pragma once

#include <array>
#include <cstring>
#include <vector>

#include "flowpath/openflow/nxm_encode.hpp"

namespace flowpath::openflow {

class TlvPlanCache {
 public:
  static constexpr size_t kSlots = 64;

  /// encode_tlvs(w, m, d): the same bytes and errors; returns the length.
  size_t encode(Writer& w, const Match& m, TlvDialect d) {
    Key k = key(m, d);
    Plan& p = slots_[hash(k) % kSlots];
    if (p.valid && p.key == k) return replay(w.extend(p.bytes), m, p.steps), p.bytes;
    p.valid = false;
    p.steps.clear();
    p.bytes = encode_tlvs(w, m, d, nullptr, &p.steps);  // may throw: no plan
    p.key = k;
    p.valid = true;
    return p.bytes;
  }

 private:
  static constexpr size_t kKeyWords = FlowKey::kWords + PipelineMeta::kWords + 1;
  using Key = std::array<uint64_t, kKeyWords>;
  struct Plan {
    Key key{};
    nxm::TlvSteps steps;
    size_t bytes = 0;  // what the steps write
    bool valid = false;
  };

  // The masks and the values that choose encode_tlvs's path.  Raw values
  // (masked or not): a key finer than needed costs a walk, never bytes.
  static Key key(const Match& m, TlvDialect d) {
    Key k;
    for (size_t i = 0; i < FlowKey::kWords; ++i) k[i] = m.mask.word(i);
    for (size_t i = 0; i < PipelineMeta::kWords; ++i)
      k[FlowKey::kWords + i] = m.meta_mask.words()[i];
    k[kKeyWords - 1] = get_field(m.value, FieldId::kDlType) |
                       get_field(m.value, FieldId::kNwProto) << 16 |
                       get_field(m.value, FieldId::kIcmpv6Type) << 24 |
                       (get_field(m.value, FieldId::kVlanTci) & kVlanCfi) << 32 | uint64_t(d) << 48;
    return k;
  }
  static size_t hash(const Key& k) noexcept {
    uint64_t h = 0;
    for (size_t i = 0; i < kKeyWords; ++i)
      h += (k[i] ^ (k[i] >> 29)) * (0x9e3779b97f4a7c15ull + 2 * i);
    return size_t(h ^ (h >> 32));
  }
  // A field as get_field reads it (fields.hpp), its FieldInfo known.
  static uint64_t read(const Match& m, const FieldInfo& f, bool mask) noexcept {
    const uint8_t* p = field_bytes(m, f, mask);
    return p ? (fields_detail::load_span(p, f) & f.bits) >> f.shift : 0;
  }
  // What nxm::put_entry / put_vlan write for the plan's entries, into
  // the plan's bytes at p (zeroed: OFPVID_NONE's value is left as is).
  static void replay(uint8_t* p, const Match& m, const nxm::TlvSteps& steps) {
    for (const nxm::TlvStep& s : steps) {
      p = store_be(p, s.header, 4);
      if (s.vlan_none) {
        p += 2;
        continue;
      }
      if (s.kind == nxm::Kind::kIpv6) {
        std::memcpy(p, field_bytes(m, *s.f, false), 16), p += 16;
        if (s.masked) std::memcpy(p, field_bytes(m, *s.f, true), 16), p += 16;
        continue;
      }
      uint64_t v = read(m, *s.f, false), mk = read(m, *s.f, true);
      if (s.kind == nxm::Kind::kVlanVid) v &= 0x1fff, mk &= 0x1fff;
      if (s.kind == nxm::Kind::kInPort32) v = nxm::port_to_of13(uint32_t(v));
      p = store_be(p, v, s.len);
      if (s.masked) p = store_be(p, mk, s.len);
    }
  }

  std::array<Plan, kSlots> slots_{};
};

/// encode_oxm_match(w, m) through a plan cache.
inline void encode_oxm_match(Writer& w, const Match& m, TlvPlanCache& plans) {
  size_t at = w.size();
  w.u16(1);  // OFPMT_OXM
  w.u16(0);
  size_t n = plans.encode(w, m, TlvDialect::kOxm);
  w.patch16(at + 2, 4 + n);
  w.pad_to(8, at);
}

}  // namespace flowpath::openflow
