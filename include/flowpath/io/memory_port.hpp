// flowpath/io/memory_port.hpp — a port whose wire is a vector of frames.
//
// Usage (tests, benchmarks, replay):
//   flowpath::MemoryPort port({.port_no = 1});
//   port.inject(frame_bytes, timestamp_ns);      // queue for receive
//   flowpath::Batch batch;
//   port.rx_burst(batch);                        // up to 32 packets
//   ... process ...
//   other.tx_burst(batch);                       // copies into other.sent()
//
// Receive: frames injected with inject() are delivered in order by
// rx_burst(), each copied into a PacketBuffer (the caller's, or a pool of
// 32 owned by the port) with in_port = Config::port_no and its timestamp.
// Packets from the port's own pool stay valid until its next rx_burst().
// With Config::loop the queue repeats forever (benchmarks: endless traffic
// without allocation).  has_next()/next_timestamp_ns() let a replay driver
// merge several ports in timestamp order; `until_ns` stops a burst at the
// first frame stamped later than it.
//
// Transmit: tx() appends a copy to sent() (Config::keep_tx), or only counts
// when keep_tx is false (a sink for benchmarks: no allocation).  Beyond
// Config::tx_limit stored frames, or if storing fails, the packet is a drop.
//
// Frames are stored back to back in one byte vector (FrameQueue), so 100,000
// small frames cost ~7 MB, not 100,000 PacketBuffers.
//
// Cost: rx one memcpy per packet; tx one memcpy (keep_tx) or nothing.
// Thread-safety: one thread per port.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "flowpath/core/batch.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/io/port_counters.hpp"

namespace flowpath {

/// Frames with timestamps, stored contiguously.
class FrameQueue {
 public:
  struct Frame {
    std::span<const uint8_t> bytes;
    uint64_t timestamp_ns;
  };
  void push(std::span<const uint8_t> frame, uint64_t timestamp_ns) {
    entries_.push_back({bytes_.size(), uint32_t(frame.size()), timestamp_ns});
    bytes_.insert(bytes_.end(), frame.begin(), frame.end());
  }
  size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  Frame operator[](size_t i) const noexcept {
    const Entry& e = entries_[i];
    return {{bytes_.data() + e.offset, e.len}, e.timestamp_ns};
  }
  void clear() noexcept {
    entries_.clear();
    bytes_.clear();
  }

 private:
  struct Entry {
    size_t offset;
    uint32_t len;
    uint64_t timestamp_ns;
  };
  std::vector<uint8_t> bytes_;
  std::vector<Entry> entries_;
};

class MemoryPort {
 public:
  struct Config {
    uint32_t port_no = 0;
    bool loop = false;                                     // rx repeats the injected frames forever
    bool keep_tx = true;                                   // false: tx only counts (sink)
    size_t tx_limit = std::numeric_limits<size_t>::max();  // stored frames
  };
  static constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

  MemoryPort() : MemoryPort(Config()) {}
  explicit MemoryPort(Config config)
      : config_(config), pool_(std::make_unique<std::array<PacketBuffer, kBatchSize>>()) {}

  void inject(std::span<const uint8_t> frame, uint64_t timestamp_ns = 0) {
    rx_queue_.push(frame, timestamp_ns);
  }
  void inject(const Packet& pkt) { inject(pkt.bytes(), pkt.timestamp_ns); }

  bool has_next() const noexcept { return next_ < rx_queue_.size(); }
  uint64_t next_timestamp_ns() const noexcept {
    return has_next() ? rx_queue_[next_].timestamp_ns : kNoLimit;
  }
  size_t pending() const noexcept { return rx_queue_.size() - next_; }

  /// Appends up to min(room in batch, bufs.size()) packets, the k-th one
  /// received by this call in bufs[k].  Returns the number appended.
  uint32_t rx_burst(Batch& batch, std::span<PacketBuffer> bufs,
                    uint64_t until_ns = kNoLimit) noexcept {
    uint32_t n = 0;
    while (n < bufs.size() && !batch.full() && has_next()) {
      FrameQueue::Frame f = rx_queue_[next_];
      if (f.timestamp_ns > until_ns) break;
      PacketBuffer& b = bufs[n++];
      b.assign(f.bytes);
      b->timestamp_ns = f.timestamp_ns;
      b->in_port = config_.port_no;
      batch.push(&b.packet());
      ++counters_.rx;
      counters_.rx_bytes += b->size();
      if (++next_ == rx_queue_.size() && config_.loop) next_ = 0;
    }
    return n;
  }
  /// Same, into the port's own 32 buffers (overwritten by the next call).
  uint32_t rx_burst(Batch& batch, uint64_t until_ns = kNoLimit) noexcept {
    return rx_burst(batch, std::span<PacketBuffer>(*pool_), until_ns);
  }

  /// Sends one packet: stored in sent() or counted; false when dropped.
  bool tx(const Packet& pkt) noexcept {
    if (config_.keep_tx) {
      if (sent_.size() >= config_.tx_limit) return drop();
      try {
        sent_.push(pkt.bytes(), pkt.timestamp_ns);
      } catch (...) {
        return drop();
      }
    }
    ++counters_.tx;
    counters_.tx_bytes += pkt.size();
    return true;
  }
  /// Sends every packet of the batch; returns how many were not dropped.
  uint32_t tx_burst(const Batch& batch) noexcept {
    uint32_t ok = 0;
    for (const Packet* p : batch.packets()) ok += tx(*p);
    return ok;
  }

  const FrameQueue& sent() const noexcept { return sent_; }
  void clear_sent() noexcept { sent_.clear(); }
  const PortCounters& counters() const noexcept { return counters_; }
  uint32_t port_no() const noexcept { return config_.port_no; }
  const Config& config() const noexcept { return config_; }

 private:
  bool drop() noexcept {
    ++counters_.drops;
    return false;
  }

  Config config_;
  std::unique_ptr<std::array<PacketBuffer, kBatchSize>> pool_;
  FrameQueue rx_queue_;
  FrameQueue sent_;
  size_t next_ = 0;
  PortCounters counters_;
};

}  // namespace flowpath
