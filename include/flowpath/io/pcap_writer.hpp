// flowpath/io/pcap_writer.hpp — writes Ethernet frames to a pcap file.
//
// Usage:
//   flowpath::PcapWriter out("out.pcap");            // nanosecond file
//   out.write(pkt);                                   // pkt.timestamp_ns
//   out.write(frame_bytes, timestamp_ns);
//   out.close();                                      // throws on I/O error
//
// Through libpcap (pcap_open_dead_with_tstamp_precision + pcap_dump), so
// tcpdump, Wireshark and libpcap read what we write.  Link type Ethernet;
// TsPrecision::kNano writes the nanosecond magic (a1b23c4d), kMicro the
// classic one (a1b2c3d4, timestamps rounded down to microseconds).  Frames
// longer than the snapshot length are recorded clipped, with their original
// length in the record header, as a capture would.
//
// Errors: the constructor throws flowpath::Error naming the file when it
// cannot be created; close() throws when buffered data could not be written
// (disk full).  The destructor closes silently.
//
// Cost: one buffered fwrite of header + frame per packet.
// Thread-safety: one thread per writer.
#pragma once

#include "flowpath/io/pcap_api.hpp"

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <utility>

#include "flowpath/core/error.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/io/pcap_reader.hpp"

namespace flowpath {

enum class TsPrecision { kMicro, kNano };

class PcapWriter {
 public:
  static constexpr uint32_t kDefaultSnaplen = 262144;  // tcpdump's default

  explicit PcapWriter(std::string path, TsPrecision precision = TsPrecision::kNano,
                      uint32_t snaplen = kDefaultSnaplen)
      : path_(std::move(path)), precision_(precision), snaplen_(snaplen) {
    unsigned prec =
        precision == TsPrecision::kNano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
    dead_.reset(pcap_open_dead_with_tstamp_precision(DLT_EN10MB, int(snaplen), prec));
    if (!dead_) throw Error(pcap_detail::file_message(path_, "cannot create a pcap handle"));
    dumper_ = pcap_dump_open(dead_.get(), path_.c_str());
    if (!dumper_) throw Error(pcap_detail::file_message(path_, pcap_geterr(dead_.get())));
  }
  PcapWriter(PcapWriter&& o) noexcept
      : path_(std::move(o.path_)),
        precision_(o.precision_),
        snaplen_(o.snaplen_),
        dead_(std::move(o.dead_)),
        dumper_(std::exchange(o.dumper_, nullptr)),
        records_(o.records_) {}
  PcapWriter& operator=(PcapWriter&&) = delete;
  PcapWriter(const PcapWriter&) = delete;
  ~PcapWriter() {
    if (dumper_) pcap_dump_close(dumper_);
  }

  /// Appends one record; the frame must be non-null when len > 0.
  void write(std::span<const uint8_t> frame, uint64_t timestamp_ns) noexcept {
    if (!dumper_) return;
    pcap_pkthdr h{};
    uint64_t frac = timestamp_ns % 1'000'000'000u;
    h.ts.tv_sec = time_t(timestamp_ns / 1'000'000'000u);
    h.ts.tv_usec = suseconds_t(precision_ == TsPrecision::kNano ? frac : frac / 1000);
    h.len = uint32_t(frame.size());
    h.caplen = h.len < snaplen_ ? h.len : snaplen_;
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame.data());
    ++records_;
  }
  void write(const Packet& pkt) noexcept { write(pkt.bytes(), pkt.timestamp_ns); }

  /// Pushes buffered records to the file; throws Error when that fails.
  void flush() {
    if (dumper_ && (pcap_dump_flush(dumper_) != 0 || std::ferror(pcap_dump_file(dumper_))))
      throw Error(pcap_detail::file_message(path_, "write failed"));
  }
  /// Flushes and closes; throws Error when the data could not be written.
  void close() {
    if (!dumper_) return;
    bool bad = pcap_dump_flush(dumper_) != 0 || std::ferror(pcap_dump_file(dumper_));
    pcap_dump_close(dumper_);
    dumper_ = nullptr;
    if (bad) throw Error(pcap_detail::file_message(path_, "write failed"));
  }

  const std::string& path() const noexcept { return path_; }
  uint64_t records() const noexcept { return records_; }
  bool is_open() const noexcept { return dumper_ != nullptr; }

 private:
  std::string path_;
  TsPrecision precision_;
  uint32_t snaplen_;
  pcap_detail::PcapHandle dead_;
  pcap_dumper_t* dumper_ = nullptr;
  uint64_t records_ = 0;
};

}  // namespace flowpath
