// flowpath/datapath/change_journal.hpp — what changed in the slow path, in
// order, so that each datapath invalidates only the cached flows a change
// can affect (datapath/dependency_index.hpp).
//
// A producer (Ofproto, TableUpcall) pushes one CacheChange per change that
// may alter a translation's answer:
//   kMac   (owner, vlan, mac): a MAC entry was learned, moved, aged out,
//          evicted, removed or made static;
//   kRule  (owner, table, match): a rule with this match was added,
//          modified or removed in that OpenFlow table;
//   kAll   anything else (a port changed, a MAC table flush): every cached
//          flow must go.
// `owner` names the table's owner (a bridge's index in its Ofproto).
// Every change gets the next sequence number.  Readers keep their own
// cursor; the journal is a ring of `capacity` changes, and a reader that
// fell further behind than that is told so (read() returns false) and must
// assume that anything changed.
//
// Translations report the sequence number after which they ran
// (UpcallResult::journal_seq = next_seq() once translated, including the
// MACs they learned themselves): a change numbered below it is already in
// the decision.
//
// Cost: push O(1) (a Match copy for kRule); read O(changes read).
// Memory: capacity * sizeof(CacheChange) (~270 bytes), allocated on the
// first push.  Thread-safety: none; the producer's lock covers push and
// every reader's read().
#pragma once

#include <cstdint>
#include <vector>

#include "flowpath/flow/match.hpp"

namespace flowpath {

struct CacheChange {
  enum class Kind : uint8_t { kMac, kRule, kAll };
  Kind kind = Kind::kAll;
  uint8_t table = 0;
  uint16_t vlan = 0;
  uint32_t owner = 0;
  EthAddr mac{};
  Match match{};
  uint64_t seq = 0;  // filled by the journal

  static CacheChange all() { return CacheChange{}; }
  static CacheChange mac_changed(uint32_t owner, uint16_t vlan, const EthAddr& mac) {
    CacheChange c;
    c.kind = Kind::kMac;
    c.owner = owner;
    c.vlan = vlan;
    c.mac = mac;
    return c;
  }
  static CacheChange rule_changed(uint32_t owner, uint8_t table, const Match& match) {
    CacheChange c;
    c.kind = Kind::kRule;
    c.owner = owner;
    c.table = table;
    c.match = match;
    return c;
  }
};

class ChangeJournal {
 public:
  static constexpr size_t kDefaultCapacity = 4096;

  explicit ChangeJournal(size_t capacity = kDefaultCapacity) : capacity_(capacity ? capacity : 1) {}

  void push(CacheChange c) {
    if (ring_.empty()) ring_.resize(capacity_);
    c.seq = next_;
    ring_[next_ % capacity_] = c;
    ++next_;
  }

  /// The number the next change will get (= changes pushed so far).
  uint64_t next_seq() const noexcept { return next_; }

  /// Appends the changes from *cursor on to `out`, at most `max`, and moves
  /// the cursor past them.  False when some of them were overwritten (the
  /// reader lagged more than capacity changes): the cursor then jumps to
  /// next_seq() and the reader must treat it as "everything changed".
  bool read(uint64_t* cursor, std::vector<CacheChange>& out, size_t max = SIZE_MAX) const {
    if (*cursor > next_) *cursor = next_;  // a cursor from the future: nothing to read
    if (next_ - *cursor > capacity_) {
      *cursor = next_;
      return false;
    }
    for (; *cursor < next_ && max; ++*cursor, --max) out.push_back(ring_[*cursor % capacity_]);
    return true;
  }

  size_t capacity() const noexcept { return capacity_; }

 private:
  size_t capacity_;
  std::vector<CacheChange> ring_;
  uint64_t next_ = 0;
};

/// What one translation consulted (UpcallResult::deps).
struct TableDep {
  uint32_t owner = 0;
  uint8_t table = 0;
  FlowKey key{};  // the lookup key, masked by wc
  FlowMask wc{};  // the bits that lookup consulted
};
struct MacDep {
  uint32_t owner = 0;
  uint16_t vlan = 0;
  EthAddr mac{};
};
struct XlateDeps {
  std::vector<TableDep> tables;
  std::vector<MacDep> macs;
  void clear() noexcept {
    tables.clear();
    macs.clear();
  }
};

}  // namespace flowpath
