// flowpath/openflow/wire.hpp — bounds-checked big-endian reading and
// writing of OpenFlow wire bytes, and the decode error that carries the
// OpenFlow error a peer gets back.
//
// Every read goes through Reader, which checks the length before it
// touches a byte and throws DecodeError (never reads past its span).  A
// Reader carries the error to report when a length is wrong (BAD_REQUEST/
// BAD_LEN for a message, BAD_ACTION/BAD_LEN inside actions, ...), so a
// sub-reader over an action list reports the action's error, as OVS does.
//
// Errors are named version-independently (OfpErrc); wire_error() gives
// the (type, code) pair for OpenFlow 1.0 or 1.3 as Open vSwitch 3.1 sends
// it (OF1.0 has no BAD_MATCH/BAD_INSTRUCTION: OVS uses its Nicira codes
// under BAD_REQUEST there, e.g. OFPBMC_BAD_FIELD = (1, 257)).
//
// Cost: a bounds check per read.  Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "flowpath/core/error.hpp"

namespace flowpath::openflow {

inline constexpr uint8_t kOfp10 = 0x01;
inline constexpr uint8_t kOfp13 = 0x04;
inline constexpr uint8_t kOfp14 = 0x05;
inline constexpr size_t kHeaderLen = 8;
inline constexpr size_t kMaxMessageLen = 65535;  // the 16-bit length field
inline constexpr uint32_t kNiciraVendor = 0x00002320;
/// ONF's experimenter id: OVS's OpenFlow 1.3 bundle extension (ONFT 2300,
/// 2301) and its errors (ONF1.3 2300..2315) travel under it.
inline constexpr uint32_t kOnfExperimenter = 0x4F4E4600;

/// OpenFlow errors by meaning; wire_error() maps them per version.
enum class OfpErrc : uint8_t {
  kHelloIncompatible,
  kBadVersion,
  kBadType,
  kBadStat,
  kBadVendor,
  kBadSubtype,
  kBadLen,
  kBadTableId,  // BAD_REQUEST (1.3)
  kBadPort,
  kActionBadType,
  kActionBadLen,
  kActionBadVendor,
  kActionBadVendorType,
  kActionBadOutPort,
  kActionBadArgument,
  kActionBadSetType,
  kActionBadSetLen,
  kActionBadSetArgument,
  kInstUnknown,
  kInstUnsup,
  kInstBadTableId,
  kInstBadLen,
  kMatchBadType,
  kMatchBadLen,
  kMatchBadWildcards,
  kMatchBadField,
  kMatchBadValue,
  kMatchBadMask,
  kMatchBadPrereq,
  kMatchDupField,
  kFlowModBadCommand,
  kFlowModOverlap,
  kFlowModBadFlags,
  kFlowModUnknown,  // FLOW_MOD_FAILED/UNKNOWN
  // OFPET_BUNDLE_FAILED (OpenFlow 1.4 type 17; ONF experimenter errors
  // 2300 + code in 1.3, as OVS sends them)
  kBundleUnknown,
  kBundleBadId,
  kBundleExist,
  kBundleClosed,
  kBundleOutOfBundles,
  kBundleBadType,
  kBundleBadFlags,
  kBundleMsgBadLen,
  kBundleMsgBadXid,
  kBundleMsgUnsup,
  kBundleMsgTooMany,
  kBundleMsgFailed,
  kBundleTimeout,
  // OFPET_PORT_MOD_FAILED (1.0: type 4, 1.1+: type 7)
  kPortModBadPort,
  kPortModBadHwAddr,
};

/// An error as sent on the wire.  In OpenFlow 1.0, errors that the
/// standard lacks travel as Nicira vendor errors (`nx`): type NXET_VENDOR
/// (0xb0c2), code NXVC_VENDOR_ERROR (0), then {vendor, type, code}.  In
/// 1.3, an experimenter error (`exp` != 0: OFPET_EXPERIMENTER 0xffff, the
/// 16-bit exp_type in `code`, then the 32-bit experimenter id).
struct WireError {
  uint16_t type, code;
  bool nx = false;
  uint32_t exp = 0;
  friend bool operator==(const WireError&, const WireError&) = default;
};

/// (type, code) of `e` in OpenFlow `version`, as Open vSwitch 3.1 sends it
/// (its lib/ofp-errors.h table).
inline WireError wire_error(OfpErrc e, uint8_t version) noexcept {
  using E = OfpErrc;
  const bool v10 = version == kOfp10;
  auto pick = [&](WireError of10, WireError of13) { return v10 ? of10 : of13; };
  const WireError unencodable{1, 521, true};  // NXBRC_UNENCODABLE_ERROR
  // OFPBFC_* (code): OFPET_BUNDLE_FAILED (17) from 1.4, ONF experimenter
  // error 2300 + code in 1.3; 1.0 has no bundles (OVS: unencodable).
  auto bundle = [&](uint16_t code) -> WireError {
    if (v10) return unencodable;
    if (version >= 5) return {17, code};
    return {0xffff, uint16_t(2300 + code), false, kOnfExperimenter};
  };
  switch (e) {
    case E::kHelloIncompatible:
      return {0, 0};
    case E::kBadVersion:
      return {1, 0};
    case E::kBadType:
      return {1, 1};
    case E::kBadStat:
      return {1, 2};
    case E::kBadVendor:
      return {1, 3};
    case E::kBadSubtype:
      return {1, 4};
    case E::kBadLen:
      return {1, 6};
    case E::kBadTableId:
      return pick({1, 512, true}, {1, 9});
    case E::kBadPort:
      return pick({1, 514, true}, {1, 11});
    case E::kActionBadType:
      return {2, 0};
    case E::kActionBadLen:
      return {2, 1};
    case E::kActionBadVendor:
      return {2, 2};
    case E::kActionBadVendorType:
      return {2, 3};
    case E::kActionBadOutPort:
      return {2, 4};
    case E::kActionBadArgument:
      return {2, 5};
    case E::kActionBadSetType:
      return pick({1, 523, true}, {2, 13});
    case E::kActionBadSetLen:
      return pick({1, 524, true}, {2, 14});
    case E::kActionBadSetArgument:
      return pick({1, 525, true}, {2, 15});
    case E::kInstUnknown:
      return pick(unencodable, {3, 0});
    case E::kInstUnsup:
      return pick({2, 257, true}, {3, 1});
    case E::kInstBadTableId:
      return pick(unencodable, {3, 2});
    case E::kInstBadLen:
      return pick(unencodable, {3, 7});
    case E::kMatchBadType:
      return pick({1, 256, true}, {4, 0});  // NXBRC_NXM_INVALID
    case E::kMatchBadLen:
      return pick({1, 256, true}, {4, 1});
    case E::kMatchBadWildcards:
      return pick({1, 262, true}, {4, 5});
    case E::kMatchBadField:
      return pick({0, 263, true}, {4, 6});
    case E::kMatchBadValue:
      return pick({1, 258, true}, {4, 7});
    case E::kMatchBadMask:
      return pick({1, 259, true}, {4, 8});
    case E::kMatchBadPrereq:
      return pick({1, 260, true}, {4, 9});
    case E::kMatchDupField:
      return pick({1, 261, true}, {4, 10});
    case E::kFlowModBadCommand:
      return pick({3, 4}, {5, 6});
    case E::kFlowModOverlap:
      return pick({3, 1}, {5, 3});
    case E::kFlowModBadFlags:
      return pick({3, 258, true}, {5, 7});
    case E::kFlowModUnknown:  // 1.1+ only (OVS: OFPFMFC_UNKNOWN)
      return pick(unencodable, {5, 0});
    case E::kBundleUnknown:
      return bundle(0);
    case E::kBundleBadId:
      return bundle(2);
    case E::kBundleExist:
      return bundle(3);
    case E::kBundleClosed:
      return bundle(4);
    case E::kBundleOutOfBundles:
      return bundle(5);
    case E::kBundleBadType:
      return bundle(6);
    case E::kBundleBadFlags:
      return bundle(7);
    case E::kBundleMsgBadLen:
      return bundle(8);
    case E::kBundleMsgBadXid:
      return bundle(9);
    case E::kBundleMsgUnsup:
      return bundle(10);
    case E::kBundleMsgTooMany:
      return bundle(12);
    case E::kBundleMsgFailed:
      return bundle(13);
    case E::kBundleTimeout:
      return bundle(14);
    case E::kPortModBadPort:
      return pick({4, 0}, {7, 0});
    case E::kPortModBadHwAddr:
      return pick({4, 1}, {7, 1});
  }
  return {1, 1};
}

/// A peer sent something we cannot accept; `errc` is the OpenFlow error
/// to answer with (openflow/codec.hpp builds the OFPT_ERROR).
struct DecodeError : Error {
  OfpErrc errc;
  DecodeError(OfpErrc e, const std::string& what) : Error(what), errc(e) {}
};

/// Bounds-checked big-endian reader over a span.
class Reader {
 public:
  Reader(std::span<const uint8_t> b, OfpErrc len_err = OfpErrc::kBadLen,
         const char* what = "message")
      : b_(b), len_err_(len_err), what_(what) {}

  size_t remaining() const noexcept { return b_.size() - pos_; }
  size_t pos() const noexcept { return pos_; }
  bool empty() const noexcept { return remaining() == 0; }
  const uint8_t* cur() const noexcept { return b_.data() + pos_; }

  void need(size_t n) const {
    if (n > remaining())
      throw DecodeError(len_err_, std::string(what_) + ": truncated, needs " + std::to_string(n) +
                                      " bytes, has " + std::to_string(remaining()));
  }
  uint8_t u8() { return uint8_t(take(1)); }
  uint16_t u16() { return uint16_t(take(2)); }
  uint32_t u32() { return uint32_t(take(4)); }
  uint64_t u64() { return take(8); }
  void skip(size_t n) {
    need(n);
    pos_ += n;
  }
  void copy(void* out, size_t n) {
    need(n);
    std::memcpy(out, cur(), n);
    pos_ += n;
  }
  std::span<const uint8_t> bytes(size_t n) {
    need(n);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  /// A reader over the next n bytes (consumed here), with its own error.
  Reader sub(size_t n, OfpErrc len_err, const char* what) {
    return Reader(bytes(n), len_err, what);
  }
  Reader sub(size_t n) { return sub(n, len_err_, what_); }
  /// A fixed-size NUL-padded string field.
  std::string str(size_t n) {
    auto s = bytes(n);
    size_t len = 0;
    while (len < n && s[len]) ++len;
    return std::string(reinterpret_cast<const char*>(s.data()), len);
  }
  OfpErrc len_err() const noexcept { return len_err_; }

 private:
  uint64_t take(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | b_[pos_ + i];
    pos_ += n;
    return v;
  }
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  OfpErrc len_err_;
  const char* what_;
};

/// Stores the low `n` bytes of `v` (n <= 8) big-endian at p; returns p + n.
inline uint8_t* store_be(uint8_t* p, uint64_t v, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * (n - 1 - i)));
  return p + n;
}

/// Big-endian writer appending to a byte vector.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  size_t size() const noexcept { return out_.size(); }
  void u8(uint64_t v) { put(v, 1); }
  void u16(uint64_t v) { put(v, 2); }
  void u32(uint64_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  /// The low `n` bytes of `v` (n <= 8), most significant first.
  void uint(uint64_t v, size_t n) { put(v, n); }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  /// `n` zero bytes appended, returned to be filled (with store_be): one
  /// size check for a run of fields instead of one per field.
  uint8_t* extend(size_t n) {
    size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }
  void bytes(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void bytes(std::span<const uint8_t> s) { out_.insert(out_.end(), s.begin(), s.end()); }
  void str(const std::string& s, size_t n) {
    size_t k = s.size() < n - 1 ? s.size() : n - 1;  // keep a NUL
    bytes(s.data(), k);
    zeros(n - k);
  }
  void pad_to(size_t align, size_t from = 0) {
    while ((out_.size() - from) % align) out_.push_back(0);
  }
  /// Overwrites a 16-bit field at `at` (lengths known only at the end).
  void patch16(size_t at, uint64_t v) {
    out_[at] = uint8_t(v >> 8);
    out_[at + 1] = uint8_t(v);
  }
  std::vector<uint8_t>& buf() noexcept { return out_; }

 private:
  // One size check per field, not per byte (a flow dump writes ~10 MB).
  void put(uint64_t v, size_t n) {
    size_t at = out_.size();
    out_.resize(at + n);
    uint8_t* p = out_.data() + at;
    for (size_t i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * (n - 1 - i)));
  }
  std::vector<uint8_t>& out_;
};

}  // namespace flowpath::openflow
