// flowpath/io/pcap_port.hpp — a port that receives from one pcap file and
// transmits into another (replay mode: pcap in, pcap out, no root).
//
// Usage:
//   flowpath::PcapPort port({.port_no = 1, .in_path = "vm1-in.pcap",
//                            .out_path = "out/vm1.pcap"});
//   flowpath::Batch batch;
//   while (port.rx_burst(batch)) { ... ; batch.clear(); }
//   port.tx(pkt);            // a record stamped with pkt.timestamp_ns
//   port.close();            // flushes out_path; throws Error on failure
//
// Either path may be empty: no input means rx_burst() never delivers; no
// output means every tx() is a drop.  The output file is created (empty)
// at construction so that a port nothing left through still has its file.
//
// Replay across several ports: the port keeps the next record read ahead,
// so has_next()/next_timestamp_ns() show what comes next, and
// rx_burst(..., until_ns) stops before the first frame stamped later than
// until_ns.  A driver merges ports by repeatedly taking from the port with
// the smallest next_timestamp_ns() up to the second smallest.
//
// Errors: the constructor throws flowpath::Error naming the file (missing
// input, wrong link type, output not creatable).  A damaged input record
// ends reception after every intact record was delivered; error() then
// holds the reader's message (empty after a clean end).
//
// Cost: one memcpy per received packet plus buffered file I/O.
// Thread-safety: one thread per port.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "flowpath/core/batch.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/io/pcap_reader.hpp"
#include "flowpath/io/pcap_writer.hpp"
#include "flowpath/io/port_counters.hpp"

namespace flowpath {

class PcapPort {
 public:
  struct Config {
    uint32_t port_no = 0;
    std::string in_path{};   // empty: nothing to receive
    std::string out_path{};  // empty: tx drops
    TsPrecision out_precision = TsPrecision::kNano;
  };
  static constexpr uint64_t kNoLimit = ~uint64_t{0};

  explicit PcapPort(Config config)
      : config_(std::move(config)),
        ahead_(std::make_unique<PacketBuffer>()),
        pool_(std::make_unique<std::array<PacketBuffer, kBatchSize>>()) {
    if (!config_.in_path.empty()) {
      reader_.emplace(config_.in_path, config_.port_no);
      read_ahead();
    }
    if (!config_.out_path.empty()) writer_.emplace(config_.out_path, config_.out_precision);
  }

  bool has_next() const noexcept { return have_ahead_; }
  uint64_t next_timestamp_ns() const noexcept {
    return have_ahead_ ? ahead_->packet().timestamp_ns : kNoLimit;
  }

  /// Appends up to min(room in batch, bufs.size()) packets stamped at most
  /// until_ns, the k-th in bufs[k].  Returns the number appended.
  uint32_t rx_burst(Batch& batch, std::span<PacketBuffer> bufs,
                    uint64_t until_ns = kNoLimit) noexcept {
    uint32_t n = 0;
    while (n < bufs.size() && !batch.full() && have_ahead_ &&
           ahead_->packet().timestamp_ns <= until_ns) {
      const Packet& a = ahead_->packet();
      PacketBuffer& b = bufs[n++];
      b.assign(a.bytes());
      b->timestamp_ns = a.timestamp_ns;
      b->in_port = config_.port_no;
      batch.push(&b.packet());
      ++counters_.rx;
      counters_.rx_bytes += a.size();
      read_ahead();
    }
    return n;
  }
  /// Same, into the port's own 32 buffers (overwritten by the next call).
  uint32_t rx_burst(Batch& batch, uint64_t until_ns = kNoLimit) noexcept {
    return rx_burst(batch, std::span<PacketBuffer>(*pool_), until_ns);
  }

  /// Writes one record; false (a drop) when the port has no output file.
  bool tx(const Packet& pkt) noexcept {
    if (!writer_ || !writer_->is_open()) {
      ++counters_.drops;
      return false;
    }
    writer_->write(pkt);
    ++counters_.tx;
    counters_.tx_bytes += pkt.size();
    return true;
  }
  uint32_t tx_burst(const Batch& batch) noexcept {
    uint32_t ok = 0;
    for (const Packet* p : batch.packets()) ok += tx(*p);
    return ok;
  }

  /// Flushes and closes the output file; throws Error if writing failed.
  void close() {
    if (writer_) writer_->close();
  }

  /// The input's damage report; empty while fine and after a clean end.
  const std::string& error() const noexcept { return reader_ ? reader_->error() : kEmpty(); }
  const PortCounters& counters() const noexcept { return counters_; }
  uint32_t port_no() const noexcept { return config_.port_no; }
  const Config& config() const noexcept { return config_; }

 private:
  static const std::string& kEmpty() noexcept {
    static const std::string empty;
    return empty;
  }
  void read_ahead() noexcept { have_ahead_ = reader_ && reader_->next(*ahead_); }

  Config config_;
  std::unique_ptr<PacketBuffer> ahead_;
  std::unique_ptr<std::array<PacketBuffer, kBatchSize>> pool_;
  std::optional<PcapReader> reader_;
  std::optional<PcapWriter> writer_;
  PortCounters counters_;
  bool have_ahead_ = false;
};

}  // namespace flowpath
