// flowpath/switch/switch_sink.hpp — where a PMD's datapath sends packets:
// the ActionSink (action/executor.hpp) that routes output(dp_port, ...)
// to the switch's port objects.
//
//   SwitchSink sink(table, /*pmd=*/0);     // the switch's port table:
//                                          // slot dp_port - 1, atomic
//   sink.begin(origin);                    // the port the batch came from
//   dp.process(batch, sink);               // PMD mutex held
//   sink.flush_local();                    // still held
//   unlock; sink.finish_foreign(own_mutex);
//
// Routing.  A final output (last=true) to a port of the same pool (AF_XDP
// ports of this PMD's UMEM, or the origin port itself) hands the frame
// over with no copy; to any other port of this PMD the frame is copied
// and the original returns to its origin's pool.  A non-final output
// (last=false) is always a copy, made at once (a later action may rewrite
// the packet).  drop() returns the packet to its origin and counts it as
// the origin's rx_dropped.  So every received packet ends in exactly one
// place: transmitted or queued on some port, or back in its pool.
//
// Ports of another PMD.  Their pools and rings belong to that PMD, and we
// must not take its mutex while holding ours (two PMDs sending to each
// other would deadlock).  So outputs to them are deferred: a final one
// keeps the packet (its frame stays ours, nobody else can free it), a
// non-final one is copied into one of the sink's staging buffers; after
// the PMD released its own mutex, finish_foreign() takes each foreign
// port's mutex in turn, copies the frames into that port and flushes it,
// then retakes the own mutex to return the kept originals to their pool.
// A non-final output that finds no free staging buffer is dropped and
// counted (staging_overflow).  With one PMD none of this happens.
//
// The port table changes while PMDs run (Switch::apply): each slot is an
// atomic pointer read with acquire.  An output to an empty slot — a port
// removed while a batch was in flight, or a number not yet published —
// is dropped: a final one counts as the origin's rx_dropped and in
// `drops`, so conservation holds; both kinds count in `to_removed`.
// Pointers read here stay valid until the PMD's next generation fence
// (switch.hpp), after which the switch may close the port.
//
// Cost per packet: a table lookup and the port's tx; flush once per port
// per batch.  Never allocates after construction, never throws.
// Thread-safety: one sink per PMD thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "flowpath/core/batch.hpp"
#include "flowpath/switch/switch_port.hpp"

namespace flowpath {

struct SwitchSinkStats {
  uint64_t finals = 0;            // final outputs (packets that left)
  uint64_t copies = 0;            // non-final outputs (extra copies)
  uint64_t drops = 0;             // packets dropped
  uint64_t foreign = 0;           // outputs to another PMD's port
  uint64_t staging_overflow = 0;  // non-final foreign copies lost
  uint64_t to_removed = 0;        // outputs to an empty port slot
};

/// The switch's port table as the PMDs see it (index dp_port - 1).
using PortTable = std::span<const std::atomic<SwitchPort*>>;

class SwitchSink {
 public:
  static constexpr uint32_t kStaging = 64;

  SwitchSink(PortTable ports, unsigned pmd) : ports_(ports), pmd_(pmd), staging_(kStaging) {
    dirty_.reserve(ports.size());
    mark_.assign(ports.size() + 1, 0);
  }

  void begin(SwitchPort& origin) noexcept { origin_ = &origin; }

  void output(uint32_t dp_port, Packet& p, bool last) noexcept {
    SwitchPort* dst = dp_port >= 1 && dp_port <= ports_.size()
                          ? ports_[dp_port - 1].load(std::memory_order_acquire)
                          : nullptr;
    if (!dst) {
      ++stats_.to_removed;
      if (last) drop(p);
      return;
    }
    if (last)
      ++stats_.finals;
    else
      ++stats_.copies;
    if (dst->pmd() != pmd_) return defer(dst, p, last);
    bool hand_over = last && dst->shares_pool(*origin_);
    dst->tx(p, hand_over);
    if (last && !hand_over) origin_->release(p);
    if (!mark_[dp_port]) {
      mark_[dp_port] = 1;
      dirty_.push_back(dst);
    }
  }
  void drop(Packet& p) noexcept {
    ++stats_.drops;
    origin_->count_rx_drop();
    origin_->release(p);
  }

  /// Flushes this PMD's ports that got output (own mutex held).
  void flush_local() noexcept {
    for (SwitchPort* d : dirty_) {
      d->flush();
      mark_[d->dp_port()] = 0;
    }
    dirty_.clear();
  }

  bool has_foreign() const noexcept { return nforeign_ != 0; }

  /// Delivers the deferred outputs to other PMDs' ports; call with no
  /// mutex held.  `own` is this PMD's mutex (for returning originals).
  void finish_foreign(std::mutex& own) noexcept {
    bool sent[kMaxForeign] = {};
    for (uint32_t i = 0; i < nforeign_; ++i) {
      if (sent[i]) continue;
      SwitchPort* dst = foreign_[i].dst;
      std::lock_guard lock(dst->domain());
      for (uint32_t j = i; j < nforeign_; ++j)
        if (foreign_[j].dst == dst) {
          dst->tx(*foreign_[j].pkt, false);
          sent[j] = true;
        }
      dst->flush();
    }
    {
      std::lock_guard lock(own);
      for (uint32_t i = 0; i < nforeign_; ++i)
        if (foreign_[i].origin) foreign_[i].origin->release(*foreign_[i].pkt);
    }
    nforeign_ = 0;
    staged_ = 0;
  }

  const SwitchSinkStats& stats() const noexcept { return stats_; }
  void clear_stats() noexcept { stats_ = {}; }

 private:
  struct Foreign {
    SwitchPort* dst;
    Packet* pkt;
    SwitchPort* origin;  // non-null: return pkt to it afterwards
  };

  void defer(SwitchPort* dst, Packet& p, bool last) noexcept {
    ++stats_.foreign;
    Foreign f{dst, &p, last ? origin_ : nullptr};
    if (!last) {
      if (staged_ == kStaging || nforeign_ == kMaxForeign) {
        ++stats_.staging_overflow;
        return;
      }
      PacketBuffer& b = staging_[staged_++];
      b.assign(p.bytes());
      f.pkt = &b.packet();
    } else if (nforeign_ == kMaxForeign) {  // cannot happen: <= 32 finals per batch
      drop(p);
      return;
    }
    foreign_[nforeign_++] = f;
  }

  static constexpr uint32_t kMaxForeign = kBatchSize + kStaging;

  PortTable ports_;
  unsigned pmd_;
  SwitchPort* origin_ = nullptr;
  std::vector<SwitchPort*> dirty_;
  std::vector<uint8_t> mark_;
  std::vector<PacketBuffer> staging_;
  uint32_t staged_ = 0;
  Foreign foreign_[kMaxForeign];
  uint32_t nforeign_ = 0;
  SwitchSinkStats stats_;
};

}  // namespace flowpath
