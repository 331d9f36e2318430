// flowpath/io/pcap_reader.hpp — reads Ethernet frames from a pcap file.
//
// Usage:
//   flowpath::PcapReader in("trace.pcap", /*in_port=*/1);   // throws Error
//   flowpath::PacketBuffer buf;
//   while (in.next(buf)) use(buf.packet());   // timestamp_ns, in_port set
//   if (!in.error().empty()) report(in.error());   // damaged file
//
// Through libpcap, so every pcap variant libpcap reads works (micro- and
// nanosecond magic, either byte order).  The file is always opened at
// nanosecond precision: libpcap scales microsecond files, and
// Packet::timestamp_ns is exact for both.  Only the Ethernet link type
// (DLT_EN10MB) is accepted.
//
// Errors.  The constructor throws flowpath::Error naming the file for a
// missing or unreadable file, a file that is not pcap (or whose file header
// is cut short) and a link type other than Ethernet.  Damage inside the file
// — a record header or record body cut short — is found only when reached:
// every intact record before it is delivered, then next() returns false and
// error() holds a message naming the file and the record number.  A clean
// end of file leaves error() empty.  read_pcap() below wraps this as
// "append everything intact, then throw".
//
// Frames longer than the destination buffer (PacketBuffer: 2048 bytes) are
// clipped to it and counted in clipped(); libpcap itself bounds every
// record by the file's snapshot length, so no length field is trusted.
//
// Cost: one memcpy of the frame per record plus libpcap's buffered read.
// Thread-safety: one thread per reader.
#pragma once

#include "flowpath/io/pcap_api.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/core/error.hpp"
#include "flowpath/core/packet.hpp"

namespace flowpath {

namespace pcap_detail {
struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

/// "'path': msg", without repeating the path when libpcap already led with it.
inline std::string file_message(const std::string& path, std::string msg) {
  if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);
  return "pcap file '" + path + "': " + msg;
}
}  // namespace pcap_detail

class PcapReader {
 public:
  explicit PcapReader(std::string path, uint32_t in_port = 0) : path_(std::move(path)) {
    in_port_ = in_port;
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_.reset(
        pcap_open_offline_with_tstamp_precision(path_.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
    if (!pcap_) throw Error(pcap_detail::file_message(path_, errbuf));
    int dlt = pcap_datalink(pcap_.get());
    if (dlt != DLT_EN10MB) {
      const char* name = pcap_datalink_val_to_name(dlt);
      throw Error(pcap_detail::file_message(
          path_, "link type " + std::to_string(dlt) + " (" + (name ? name : "unknown") +
                     ") is not supported; only Ethernet (EN10MB) is"));
    }
  }

  /// Copies the next record into pkt (its buffer, kMinHeadroom in front).
  /// False at end of file or on damage (see error()).
  bool next(Packet& pkt) noexcept {
    const uint8_t* data = nullptr;
    uint32_t caplen = 0;
    uint64_t ts = 0;
    if (!read_record(data, caplen, ts)) return false;
    uint32_t head = pkt.capacity() > kMinHeadroom ? kMinHeadroom : 0;
    uint32_t room = pkt.capacity() - head;
    uint32_t n = caplen < room ? caplen : room;
    if (n < caplen) ++clipped_;
    pkt.reset(head, n);
    if (n) std::memcpy(pkt.data(), data, n);
    stamp(pkt, ts);
    return true;
  }
  bool next(PacketBuffer& buf) noexcept {
    const uint8_t* data = nullptr;
    uint32_t caplen = 0;
    uint64_t ts = 0;
    if (!read_record(data, caplen, ts)) return false;
    if (caplen > kDefaultFrameSize) ++clipped_;
    buf.assign({data, caplen});
    stamp(buf.packet(), ts);
    return true;
  }

  /// Empty after a clean end of file; otherwise what is wrong and where.
  const std::string& error() const noexcept { return error_; }
  const std::string& path() const noexcept { return path_; }
  uint64_t records() const noexcept { return records_; }  // delivered so far
  uint64_t clipped() const noexcept { return clipped_; }
  bool at_end() const noexcept { return done_; }
  uint32_t in_port() const noexcept { return in_port_; }
  void set_in_port(uint32_t port) noexcept { in_port_ = port; }

 private:
  bool read_record(const uint8_t*& data, uint32_t& caplen, uint64_t& ts) noexcept {
    if (done_) return false;
    pcap_pkthdr* hdr = nullptr;
    const u_char* bytes = nullptr;
    int rc = pcap_next_ex(pcap_.get(), &hdr, &bytes);
    if (rc == 1) {
      data = bytes;
      caplen = hdr->caplen;
      // Opened at nanosecond precision: tv_usec holds nanoseconds.
      ts = uint64_t(hdr->ts.tv_sec) * 1'000'000'000u + uint64_t(hdr->ts.tv_usec);
      ++records_;
      return true;
    }
    done_ = true;
    if (rc != PCAP_ERROR_BREAK) fail(rc);
    return false;
  }
  void fail(int rc) noexcept {
    try {
      std::string why = rc == PCAP_ERROR ? pcap_geterr(pcap_.get()) : "read error";
      error_ = pcap_detail::file_message(
          path_, "record " + std::to_string(records_ + 1) + " is damaged: " + why);
    } catch (...) {
      error_ = "pcap file damaged";  // allocation failed; keep noexcept
    }
  }
  void stamp(Packet& pkt, uint64_t ts) const noexcept {
    pkt.timestamp_ns = ts;
    pkt.in_port = in_port_;
  }

  std::string path_;
  pcap_detail::PcapHandle pcap_;
  std::string error_;
  uint64_t records_ = 0;
  uint64_t clipped_ = 0;
  uint32_t in_port_ = 0;
  bool done_ = false;
};

/// Appends every intact record of the file to out, then throws Error if the
/// file turned out damaged (or cannot be opened).  Returns records appended.
inline size_t read_pcap(const std::string& path, std::vector<PacketBuffer>& out,
                        uint32_t in_port = 0) {
  PcapReader in(path, in_port);
  size_t n = 0;
  PacketBuffer buf;
  while (in.next(buf)) {
    out.push_back(buf);
    ++n;
  }
  if (!in.error().empty()) throw Error(in.error());
  return n;
}

}  // namespace flowpath
