// flowpath/datapath/recirc_actions.hpp — what a flow's datapath actions
// do to its frame before a recirc, decided once per megaflow.
//
// recirculates(acts): the actions hold a recirc.  recirc_keeps_key(acts):
// the frame reaches every recirc as parsed, so the next pass may reuse the
// keys of this one (RecircSink::recirculate) or run inline
// (Datapath::execute).  The miss handler stores both answers in the
// megaflow it installs (MegaflowEntry::recirculates and keeps_key: a live
// entry's actions never change, revalidation replaces the entry instead),
// so the fast path reads a bit per group instead of scanning the actions.
// Cost: one pass over the actions.  Thread-safety: pure.
#pragma once

#include <cstddef>

#include "flowpath/action/dp_action.hpp"

namespace flowpath {

inline bool recirculates(const DpActionList& acts) noexcept {
  for (const DpAction& a : acts)
    if (a.type == DpActionType::kRecirc) return true;
  return false;
}

// Whether a flow's frame reaches every recirc in `acts` as parsed: no
// action before the last recirc may rewrite it (outputs, ct_clear and a
// ct() without nat only read it or write metadata).
inline bool recirc_keeps_key(const DpActionList& acts) noexcept {
  size_t last = acts.size();
  for (size_t i = acts.size(); i-- > 0;)
    if (acts[i].type == DpActionType::kRecirc) {
      last = i;
      break;
    }
  if (last == acts.size()) return false;
  for (size_t i = 0; i < last; ++i) {
    const DpAction& a = acts[i];
    switch (a.type) {
      case DpActionType::kOutput:
      case DpActionType::kCtClear:
      case DpActionType::kRecirc:
        break;
      case DpActionType::kCt:
        if (a.ct->params.nat.present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace flowpath
