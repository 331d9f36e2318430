// flowpath/openflow/bundle.hpp — one connection's open bundles (OpenFlow
// 1.4 bundles, and OVS's ONF extension of them in 1.3), sans-I/O: what
// Connection (openflow/connection.hpp) keeps between OFPT_BUNDLE_CONTROL
// and OFPT_BUNDLE_ADD_MESSAGE messages, with Open vSwitch's rules
// (ofproto/bundles.c, ofproto.c handle_bundle_*):
//
//   open     an id in use → that bundle is discarded and BAD_ID; else a
//            new open bundle with the request's flags
//   add      to an unknown id: opens it (OVS does too); to a closed one →
//            discarded, BUNDLE_CLOSED; other flags than the bundle's →
//            discarded, BAD_FLAGS
//   close    unknown → BAD_ID; closed already → discarded, BUNDLE_CLOSED;
//            other flags → discarded, BAD_FLAGS
//   commit   unknown → BAD_ID; other flags → BAD_FLAGS; the bundle is
//            discarded whatever the outcome
//   discard  unknown → BAD_ID
//
// Limits (OVS has only the idle timeout): at most kMaxBundles open per
// connection (OUT_OF_BUNDLES), kMaxMessages per bundle (MSG_TOO_MANY: the
// message is not added, the bundle stays), and a bundle untouched for
// idle_timeout_ms (OVS's 10 s default) is discarded (a later commit gets
// BAD_ID).  The bundles go with the connection: a closed connection's
// bundles are never committed.
//
// A bundle keeps each decoded flow-mod and the first 64 bytes of the add
// message that carried it (the data of the error that names it: its xid is
// the flow-mod's, so ovs-ofctl prints the flow-mod it sent).
// Cost: an open bundle holds its flow-mods (sizeof(FlowMod) each, ~1 KB).
// Thread-safety: none; the connection's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "flowpath/openflow/codec.hpp"

namespace flowpath::openflow {

class BundleSet {
 public:
  static constexpr size_t kMaxBundles = 64;
  static constexpr size_t kMaxMessages = size_t(1) << 18;  // ~150 MB of flow-mods

  struct Bundle {
    uint16_t flags = 0;
    bool closed = false;
    int64_t used_ms = 0;
    std::vector<FlowMod> fms;
    std::vector<std::vector<uint8_t>> raws;  // error data of each (≤ 64 bytes)
  };

  explicit BundleSet(int64_t idle_timeout_ms = 10000) : idle_ms_(idle_timeout_ms) {}

  std::optional<OfpErrc> open(uint32_t id, uint16_t flags, int64_t now) {
    if (bundles_.erase(id)) return OfpErrc::kBundleBadId;
    if (bundles_.size() >= kMaxBundles) return OfpErrc::kBundleOutOfBundles;
    bundles_[id] = Bundle{flags, false, now, {}, {}};
    return std::nullopt;
  }
  std::optional<OfpErrc> add(uint32_t id, uint16_t flags, FlowMod fm, std::span<const uint8_t> raw,
                             int64_t now) {
    auto it = bundles_.find(id);
    if (it == bundles_.end()) {
      if (bundles_.size() >= kMaxBundles) return OfpErrc::kBundleOutOfBundles;
      it = bundles_.emplace(id, Bundle{flags, false, now, {}, {}}).first;
    } else if (it->second.closed) {
      bundles_.erase(it);
      return OfpErrc::kBundleClosed;
    } else if (it->second.flags != flags) {
      bundles_.erase(it);
      return OfpErrc::kBundleBadFlags;
    }
    Bundle& b = it->second;
    b.used_ms = now;
    if (b.fms.size() >= kMaxMessages) return OfpErrc::kBundleMsgTooMany;
    b.fms.push_back(std::move(fm));
    b.raws.emplace_back(raw.begin(),
                        raw.begin() + std::ptrdiff_t(std::min(raw.size(), kErrorDataLen)));
    return std::nullopt;
  }
  std::optional<OfpErrc> close(uint32_t id, uint16_t flags, int64_t now) {
    auto it = bundles_.find(id);
    if (it == bundles_.end()) return OfpErrc::kBundleBadId;
    if (it->second.closed) {
      bundles_.erase(it);
      return OfpErrc::kBundleClosed;
    }
    if (it->second.flags != flags) {
      bundles_.erase(it);
      return OfpErrc::kBundleBadFlags;
    }
    it->second.closed = true;
    it->second.used_ms = now;
    return std::nullopt;
  }
  /// Takes the bundle out for its commit (BAD_ID, BAD_FLAGS: nothing to commit).
  std::optional<Bundle> take_for_commit(uint32_t id, uint16_t flags, OfpErrc& err) {
    auto it = bundles_.find(id);
    if (it == bundles_.end()) return err = OfpErrc::kBundleBadId, std::nullopt;
    Bundle b = std::move(it->second);
    bundles_.erase(it);
    if (b.flags != flags) return err = OfpErrc::kBundleBadFlags, std::nullopt;
    return b;
  }
  std::optional<OfpErrc> discard(uint32_t id) {
    if (!bundles_.erase(id)) return OfpErrc::kBundleBadId;
    return std::nullopt;
  }

  /// Discards the bundles idle for idle_timeout_ms; returns how many.
  size_t expire(int64_t now) {
    return std::erase_if(bundles_,
                         [&](const auto& kv) { return now - kv.second.used_ms >= idle_ms_; });
  }
  /// When expire() next has work (INT64_MAX: no bundle).
  int64_t next_expiry() const noexcept {
    int64_t t = INT64_MAX;
    for (const auto& [id, b] : bundles_) t = std::min(t, b.used_ms + idle_ms_);
    return t;
  }
  size_t size() const noexcept { return bundles_.size(); }
  const Bundle* find(uint32_t id) const {
    auto it = bundles_.find(id);
    return it == bundles_.end() ? nullptr : &it->second;
  }

 private:
  int64_t idle_ms_;
  std::map<uint32_t, Bundle> bundles_;
};

}  // namespace flowpath::openflow
