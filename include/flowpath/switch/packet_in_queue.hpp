// flowpath/switch/packet_in_queue.hpp — a bridge's ControllerSink
// (bridge/controller_sink.hpp): a bounded queue between the datapath
// threads that produce packet-ins and the OpenFlow service thread that
// sends them.
//
//   PacketInQueue q(1024);
//   bridge.set_controller_sink(&q);          // under the Ofproto's lock
//   q.take(batch);                           // service thread: all queued
//
// A datapath thread never waits on the controller: push is O(1) under a
// mutex held only for the push or the swap in take(), and when the queue
// is full the packet-in is dropped and counted (dropped()), as OVS's
// bounded upcall-to-connmgr queue does.  miss_to_controller() is an atomic
// flag the service sets (an OpenFlow 1.0 connection takes packet-ins).
//
// packet_in_match() turns the pipeline fields a ControllerOutput carries
// into the match of the packet-in message (the service thread's work).
//
// Cost: one move of the event per packet-in (~200 bytes with the pipeline
// fields).  Thread-safety: any number of producers, one consumer.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "flowpath/bridge/controller_sink.hpp"
#include "flowpath/flow/fields.hpp"

namespace flowpath {

/// The pipeline fields an OpenFlow 1.3 packet-in's match (and a Nicira
/// packet-in's metadata) carries beside in_port, as Open vSwitch sends them: each of ct_state,
/// ct_zone, ct_mark, ct_label and reg0..reg15 that is non-zero at the controller action, exact
/// (conj_id is a lookup's, never sent).
inline Match packet_in_match(const ControllerOutput& out) {
  Match m;
  if (out.ct_state) match_set(m, FieldId::kCtState, out.ct_state);
  if (out.ct_zone) match_set(m, FieldId::kCtZone, out.ct_zone);
  if (out.ct_mark) match_set(m, FieldId::kCtMark, out.ct_mark);
  for (size_t i = 0; i < kNumRegs; ++i)
    if (uint32_t r = out.meta.regs[i].host()) match_set(m, reg_field(unsigned(i)), r);
  if (out.meta.ct_label != decltype(out.meta.ct_label){}) {
    m.meta_value.ct_label = out.meta.ct_label;
    m.meta_mask.ct_label.fill(0xff);
  }
  return m;
}

class PacketInQueue : public ControllerSink {
 public:
  explicit PacketInQueue(size_t capacity = 1024) : cap_(capacity) {}

  bool miss_to_controller() const noexcept override {
    return miss_.load(std::memory_order_relaxed);
  }
  void set_miss_to_controller(bool on) noexcept { miss_.store(on, std::memory_order_relaxed); }

  void packet_in(PacketInEvent&& ev) noexcept override {
    std::lock_guard lock(mu_);
    if (q_.size() >= cap_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    try {
      q_.push_back(std::move(ev));
    } catch (...) {  // out of memory: a lost packet-in, never an escape into the PMD
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  /// Moves every queued event into `out` (cleared first), oldest first.
  void take(std::vector<PacketInEvent>& out) {
    out.clear();
    std::lock_guard lock(mu_);
    out.swap(q_);
  }
  /// Packet-ins lost because the queue was full.
  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  size_t capacity() const noexcept { return cap_; }

 private:
  size_t cap_;
  std::mutex mu_;
  std::vector<PacketInEvent> q_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> miss_{false};
};

}  // namespace flowpath
