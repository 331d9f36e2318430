// flowpath/bridge/xlate_ct.hpp — a translation's datapath actions with its
// connection-tracking hand-offs in place.
//
//   DpActionList acts = dp_actions_with_ct(xlate_result, frozen_table);
//
// Translation records each ct()/ct_clear as an XlateCtCall at its position
// in XlateResult::actions (bridge/xlate.hpp); this inserts the datapath
// actions there: ct(...) with the DpCtSpec interned in the FrozenTable,
// then recirc(id) for a ct(table=T) with the id of the state it freezes
// (bridge/frozen.hpp), or ct_clear.  A recirc id that cannot be allocated
// (FrozenTable::kMaxIds) makes the whole flow drop (an empty list).
//
// Cost: O(actions + ct calls), a map lookup per ct call (slow path only).
// Thread-safety: the caller holds the Ofproto's lock (the FrozenTable's).
#pragma once

#include "flowpath/bridge/frozen.hpp"
#include "flowpath/bridge/xlate.hpp"

namespace flowpath {

inline DpActionList dp_actions_with_ct(const XlateResult& x, FrozenTable& frozen) {
  DpActionList out;
  out.reserve(x.actions.size() + 2 * x.ct_calls.size());
  size_t next = 0;
  for (size_t k = 0; k < x.ct_calls.size(); ++k) {
    const XlateCtCall& c = x.ct_calls[k];
    out.insert(out.end(), x.actions.begin() + ptrdiff_t(next), x.actions.begin() + ptrdiff_t(c.at));
    next = c.at;
    if (c.clear) {
      out.push_back(DpAction::ct_clear());
      continue;
    }
    XlateCtCall plain = c;  // the spec's text has no recirc()
    plain.args.table = 255;
    out.push_back(
        DpAction::conntrack(frozen.ct_spec(format_dp_ct(plain), [&] { return dp_ct_params(c); })));
    if (c.args.table == 255) continue;
    const uint32_t id = frozen.intern(x.freezes[k]);
    if (!id) return {};
    out.push_back(DpAction::recirc(id));
  }
  out.insert(out.end(), x.actions.begin() + ptrdiff_t(next), x.actions.end());
  return out;
}

}  // namespace flowpath
