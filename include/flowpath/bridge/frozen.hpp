// flowpath/bridge/frozen.hpp — what a recirculation resumes, and the
// interned parameters of datapath ct() actions.
//
//   FrozenTable ft;
//   uint32_t id = ft.intern(FrozenState{...});   // recirc(id) in the actions
//   const FrozenState* s = ft.find(id);          // the upcall of pass 2
//   const DpCtSpec* spec = ft.ct_spec(call);     // DpAction::conntrack(spec)
//
// A ct(table=T) forks translation (bridge/xlate.hpp): the datapath runs the
// tracker, then recirculates the packet with recirc_id = id, and the miss
// of that pass resumes translation in table T of the same bridge with the
// state frozen at the ct(): the OpenFlow registers (Neutron's tables 72 and
// 82 match reg5/reg6 after recirculation), the packet's in_port as
// OpenFlow saw it and the port the packet entered the bridge through (for
// NORMAL), as OVS's frozen_state keeps them (ofproto-dpif-rid.h).
//
// Id policy: one id per distinct frozen state, kept for the life of the
// Ofproto (OVS frees an id when no megaflow references it; here the set of
// states is bounded by what the flow tables can produce — Neutron's are a
// few per port — and capped at kMaxIds, beyond which intern() returns 0
// and the translation drops).  An id is never reused, so a megaflow or a
// packet in flight holding a stale id can never resume the wrong state.
// DpCtSpecs likewise: one per distinct ct() text, stable addresses, so two
// equal ct actions compare equal (the revalidator compares action lists).
//
// Cost: a map lookup per ct() per translation (slow path only).
// Thread-safety: the caller holds the Ofproto's lock; DpCtSpecs are
// immutable once made, and PMDs read them through installed megaflows.
#pragma once

#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/flow/pipeline_meta.hpp"

namespace flowpath {

struct FrozenState {
  std::string bridge;         // the bridge translation resumes in
  uint32_t entry_ofport = 0;  // the port the packet entered that bridge through
  uint32_t in_port = 0;       // in_port as OpenFlow saw it at the ct()
  uint8_t table = 0;          // ct(table=T)
  PipelineMeta meta{};        // registers (conj_id and ct_label zeroed)

  std::string key() const {
    std::string k = bridge;
    k.push_back('\0');
    char b[9 + sizeof(PipelineMeta)];
    std::memcpy(b, &entry_ofport, 4);
    std::memcpy(b + 4, &in_port, 4);
    b[8] = char(table);
    std::memcpy(b + 9, &meta, sizeof meta);
    k.append(b, sizeof b);
    return k;
  }
};

class FrozenTable {
 public:
  static constexpr uint32_t kMaxIds = 1u << 20;

  /// The id of `s` (1, 2, ...), made on first use; 0 when kMaxIds are taken.
  uint32_t intern(const FrozenState& s) {
    auto [it, fresh] = ids_.try_emplace(s.key(), 0);
    if (fresh) {
      if (states_.size() >= kMaxIds) {
        ids_.erase(it);
        return 0;
      }
      states_.push_back(s);
      it->second = uint32_t(states_.size());
    }
    return it->second;
  }
  const FrozenState* find(uint32_t id) const noexcept {
    return id && id <= states_.size() ? &states_[id - 1] : nullptr;
  }
  size_t size() const noexcept { return states_.size(); }

  /// The interned spec whose dpctl text is `text`, made by make() on first use.
  template <class Make>
  const DpCtSpec* ct_spec(const std::string& text, Make&& make) {
    auto it = specs_.find(text);
    if (it != specs_.end()) return it->second;
    spec_store_.push_back(DpCtSpec{make(), text});
    specs_.emplace(text, &spec_store_.back());
    return &spec_store_.back();
  }

 private:
  std::map<std::string, uint32_t> ids_;
  std::deque<FrozenState> states_;
  std::map<std::string, const DpCtSpec*> specs_;
  std::deque<DpCtSpec> spec_store_;  // stable addresses
};

}  // namespace flowpath
