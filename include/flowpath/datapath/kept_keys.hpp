// flowpath/datapath/kept_keys.hpp — the flow keys a recirculated pass may
// reuse instead of parsing its packets again (internal to datapath.hpp).
//
// A packet recirculated after ct() takes another pass through the
// datapath, which parsed it again because its flow's actions may have
// rewritten the frame (ct(nat), a set_field, a VLAN op).  Most do not:
// Neutron's firewall runs `ct(zone=N),recirc(id)` on an unchanged frame,
// so the second parse redid the first.  KeptKeys remembers, parallel to
// RecircState::next, the key of each queued packet whose group ran only
// actions that leave the frame as it is (output, ct() without nat,
// ct_clear, recirc); the parser's metadata (offsets, malformed) is then
// still the frame's too.  Everything else is parsed again: a group with
// any other action, a clone (a recirc that is not the packet's last use
// queues a copy, not the packet), a packet the run did not queue in order.
//
// Protocol (Datapath::execute and recirculate):
//   before(acts, group, index, n, g)  while the group is intact (the
//                            executor may overwrite its tail)
//   after(g, next, batch)    once its actions ran: one entry per packet the
//                            run queued (next[size()..]), kept or not
//   advance()                at the start of a pass: next becomes current
//   restore(batch, off)      fills a recirculated batch's keys, the batch
//                            being current[off, off + count); returns the
//                            malformed packets (counted as a parse would)
//   clear()                  after the last pass
// The key kept is the whole key of the queuing pass; the next pass
// overwrites its recirc_id and ct_* from the packet's metadata as before.
//
// Cost: one scan of the group's actions; for a recirculating group a copy
// of its ≤32 packet pointers, then a 128-byte key copy per packet instead
// of a parse.  Memory: two arrays of RecircState::kMaxPending keys (64 KB).
// Thread-safety: the datapath's thread.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "flowpath/action/dp_action.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/datapath/recirc_sink.hpp"
#include "flowpath/parse/parser.hpp"

namespace flowpath {

class KeptKeys {
 public:
  struct Group {
    bool keep = false;  // recirculates, and no action rewrites the frame
    uint32_t n = 0;
    Packet* pkts[kBatchSize];
    uint8_t index[kBatchSize];  // pkts[k] is batch.pkts[index[k]]
  };

  KeptKeys() : cur_keys_(RecircState::kMaxPending), next_keys_(RecircState::kMaxPending) {
    cur_ok_.reserve(RecircState::kMaxPending);
    next_ok_.reserve(RecircState::kMaxPending);
  }

  /// True when no action of the list can change the frame's bytes.
  static bool preserves_frame(const DpActionList& acts, bool& recirc) noexcept {
    for (const DpAction& a : acts) {
      switch (a.type) {
        case DpActionType::kOutput:
        case DpActionType::kCtClear:
          break;
        case DpActionType::kRecirc:
          recirc = true;
          break;
        case DpActionType::kCt:
          if (a.ct == nullptr || a.ct->params.nat.present) return false;  // NAT rewrites
          break;
        default:
          return false;
      }
    }
    return true;
  }

  void before(const DpActionList& acts, Packet* const* group, const uint8_t* index, uint32_t n,
              Group& g) const noexcept {
    bool recirc = false;
    g.keep = preserves_frame(acts, recirc) && recirc;
    g.n = g.keep ? n : 0;
    for (uint32_t k = 0; k < g.n; ++k) g.pkts[k] = group[k], g.index[k] = index[k];
  }

  void after(const Group& g, const std::vector<Packet*>& next, const Batch& batch) noexcept {
    uint32_t k = 0;  // the run queues the group's packets in the group's order
    for (size_t j = next_ok_.size(); j < next.size(); ++j) {
      bool ok = false;
      for (uint32_t m = k; m < g.n && !ok && j < next_keys_.size(); ++m) {
        if (g.pkts[m] != next[j]) continue;
        next_keys_[j] = batch.keys[g.index[m]];
        ok = true;
        k = m + 1;
      }
      next_ok_.push_back(ok);
    }
  }

  void advance() noexcept {
    std::swap(cur_keys_, next_keys_);
    std::swap(cur_ok_, next_ok_);
    next_ok_.clear();
  }

  uint64_t restore(Batch& batch, size_t off) const noexcept {
    uint64_t bad = 0;
    for (uint32_t i = 0; i < batch.count; ++i) {
      const size_t j = off + i;
      if (j < cur_ok_.size() && cur_ok_[j]) {
        batch.keys[i] = cur_keys_[j];
        bad += batch.pkts[i]->meta.malformed;
      } else {
        bad += !parse_packet(*batch.pkts[i], batch.keys[i]);
      }
    }
    return bad;
  }

  void clear() noexcept {
    cur_ok_.clear();
    next_ok_.clear();
  }

 private:
  std::vector<FlowKey> cur_keys_, next_keys_;
  std::vector<uint8_t> cur_ok_, next_ok_;  // entry j: keys_[j] holds for packet j
};

}  // namespace flowpath
