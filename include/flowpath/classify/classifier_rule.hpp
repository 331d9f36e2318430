// flowpath/classify/classifier_rule.hpp — the classifier's rule record, the
// ranked table wrapper and the published table list (internals of
// classifier.hpp).
//
// A rule's *rank* orders it totally: priority first, then insertion order
// (earlier wins), packed into one integer so that lookups compare once.
// Its *determined* mask is the key bits every matching key has fixed: the
// match mask plus the common prefix of each port range; a table may hold
// the rule when the table's mask is a subset of it.
//
// Thread-safety: Rule fields are immutable once published except
// remove_version (atomic).  RankedTable and TableList writer-side only,
// except the reader methods inherited from TupleTable.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "flowpath/classify/ports_trie.hpp"
#include "flowpath/classify/tuple_table.hpp"
#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath::classify_detail {

inline constexpr uint64_t kNeverRemoved = ~uint64_t{0};

inline uint64_t make_rank(int32_t priority, uint64_t seq) noexcept {
  uint64_t p = static_cast<uint32_t>(priority) ^ 0x80000000u;
  return (p << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(seq));
}

inline uint64_t identity_hash(const Match& m, int32_t priority, const PortRanges& rg) noexcept {
  uint64_t w[2 * FlowKey::kWords + 2];
  for (size_t i = 0; i < FlowKey::kWords; ++i) {
    w[i] = m.value.word(i);
    w[FlowKey::kWords + i] = m.mask.word(i);
  }
  w[2 * FlowKey::kWords] = static_cast<uint32_t>(priority);
  std::memcpy(&w[2 * FlowKey::kWords + 1], &rg, sizeof rg);
  return hash_words64(w, std::size(w));
}

inline bool mask_subset(const FlowMask& a, const FlowMask& b) noexcept {
  uint64_t extra = 0;
  for (size_t i = 0; i < FlowKey::kWords; ++i) extra |= a.word(i) & ~b.word(i);
  return extra == 0;
}

/// The relaxed mask of a new table for a rule with determined mask dm:
/// CIDR address prefixes rounded down to multiples of the step, partial
/// port prefixes (ranges) dropped.  Always a subset of dm.
inline FlowMask relax(FlowMask dm, int ipv4_step, int ipv6_step) noexcept {
  for (int i = 0; i < 4; ++i) {
    AddrField f = kAddrFields[i];
    int len = leading_ones(dm, f);
    FlowMask probe{};
    set_prefix(probe, f, len);
    bool cidr = std::memcmp(bytes_of(probe) + f.offset, bytes_of(dm) + f.offset, f.width) == 0;
    if (!cidr) continue;
    int step = i < 2 ? ipv4_step : ipv6_step;
    set_prefix(dm, f, step > 0 ? len - len % step : len);
  }
  if (dm.tp_src.raw != 0xffff) dm.tp_src = Be16{};
  if (dm.tp_dst.raw != 0xffff) dm.tp_dst = Be16{};
  return dm;
}

template <class Rule>
class RankedTable;

template <class T>
struct ClassifierRule {
  Match match;
  int32_t priority;
  T value;
  PortRanges ranges;
  uint64_t seq = 0;   // insertion order (kept by a replacing insert)
  uint64_t rank = 0;  // make_rank(priority, seq)
  uint64_t add_version = 0;
  std::atomic<uint64_t> remove_version{kNeverRemoved};
  bool has_ranges;
  RankedTable<ClassifierRule>* table = nullptr;  // writer only

  ClassifierRule(const Match& m, int32_t p, T v, const PortRanges& rg)
      : match(m), priority(p), value(std::move(v)), ranges(rg), has_ranges(!rg.full()) {}

  bool visible(uint64_t v) const noexcept {
    return add_version <= v && v < remove_version.load(std::memory_order_relaxed);
  }
  bool matches(const FlowKey& key) const noexcept {
    return match.matches(key) && (!has_ranges || ranges.contain(key));
  }
  /// matches(), also ORing into wc the bits that decided it.
  bool explain(const FlowKey& key, FlowMask& wc) const noexcept {
    if (explain_mismatch(key, match.mask, match.value, wc)) return false;
    if (has_ranges) {
      uint16_t s = key.tp_src.host(), d = key.tp_dst.host();
      explain_range(wc.tp_src, s, ranges.tp_src);
      if (!ranges.tp_src.contains(s)) return false;
      explain_range(wc.tp_dst, d, ranges.tp_dst);
      if (!ranges.tp_dst.contains(d)) return false;
    }
    mask_union(wc, match.mask);
    return true;
  }
  void determined(FlowMask& dm, FlowKey& dv) const noexcept {
    dm = match.mask;
    dv = match.value;
    Be16 ms{prefix_mask16(ranges.tp_src.prefix_len())};
    Be16 md{prefix_mask16(ranges.tp_dst.prefix_len())};
    dm.tp_src |= ms;
    dm.tp_dst |= md;
    dv.tp_src |= Be16{ranges.tp_src.lo} & ms;
    dv.tp_dst |= Be16{ranges.tp_dst.lo} & md;
  }
  uint64_t identity_hash() const noexcept {
    return classify_detail::identity_hash(match, priority, ranges);
  }
  bool same_identity(const Match& m, int32_t p, const PortRanges& rg) const noexcept {
    return priority == p && ranges == rg && match == m;
  }
};

/// A TupleTable plus the writer's bookkeeping: ranks held (for the max),
/// the prefix length of each tracked address field in its mask, and the
/// ports trie of its rules (ports_trie.hpp) when its mask fixes leading
/// bits of tp_src:tp_dst.
template <class Rule>
class RankedTable : public TupleTable<Rule> {
  using Base = TupleTable<Rule>;

 public:
  explicit RankedTable(const FlowMask& m) : Base(m) {
    for (int i = 0; i < 4; ++i) lens_[i] = static_cast<uint8_t>(leading_ones(m, kAddrFields[i]));
    ports_len_ = static_cast<uint8_t>(ports_prefix_len(m));
  }
  const uint8_t* prefix_lens() const noexcept { return lens_; }
  /// Leading ones of the mask on tp_src:tp_dst (0: no ports trie).
  int ports_len() const noexcept { return ports_len_; }
  const PortsTrie& ports_trie() const noexcept { return ports_; }
  /// Bits of the mask on which every rule ever linked agrees, and their
  /// values (nullptr: no rule yet).  A key that differs on them misses the
  /// table whatever its other bits.  Only shrinks (a removed rule leaves
  /// the bits as they were: fewer than possible, never wrong), so it is
  /// replaced at most once per bit of the mask.
  struct Common {
    FlowMask mask;
    FlowKey value;
  };
  const Common* common() const noexcept { return common_.load(std::memory_order_acquire); }
  /// Narrows common() to agree with r (writer, before r is published).
  void track_common(const Rule& r, rcu::Reclaimer& rec) {
    FlowMask dm;
    FlowKey dv;
    r.determined(dm, dv);
    const FlowMask& t = this->mask();
    const Common* old = common_.load(std::memory_order_relaxed);
    auto* c = new Common;
    bool changed = !old;
    for (size_t w = 0; w < FlowKey::kWords; ++w) {
      uint64_t v = dv.word(w) & t.word(w);
      uint64_t m = old ? old->mask.word(w) & ~(v ^ old->value.word(w)) : t.word(w);
      changed |= old && m != old->mask.word(w);
      c->mask.words()[w] = m;
      c->value.words()[w] = v & m;
    }
    if (!changed) {
      delete c;
      return;
    }
    common_.store(c, std::memory_order_release);
    if (old) rec.retire([old] { delete old; });
  }
  ~RankedTable() { delete common_.load(std::memory_order_relaxed); }

  /// Adds (+1) or removes (-1) r's port prefix (writer; r in this table).
  void track_ports(const Rule& r, int delta) {
    if (!ports_len_) return;
    FlowMask dm;
    FlowKey dv;
    r.determined(dm, dv);
    ports_.update(ports_value(dv), ports_len_, delta);
  }
  uint64_t max_rank() const noexcept { return ranks_.empty() ? 0 : *ranks_.rbegin(); }
  size_t n_rules() const noexcept { return ranks_.size(); }
  size_t memory_bytes() const noexcept {
    return Base::memory_bytes() + ranks_.size() * 48 + ports_.memory_bytes() +
           (common() ? sizeof(Common) : 0);
  }

  /// Links r into its bucket; true when the table's max rank changed.
  bool link(Rule* r, rcu::Reclaimer& rec) {
    auto [h, node] = this->locate(*r);
    std::vector<Rule*>& v = scratch_;
    v.assign(node ? node->rules() : nullptr, node ? node->rules() + node->n_rules : nullptr);
    auto pos = v.begin();
    while (pos != v.end() && (*pos)->rank >= r->rank) ++pos;
    v.insert(pos, r);
    this->put(h, node, this->make_node(h, this->kw_, v.data(), static_cast<uint32_t>(v.size())),
              rec);
    uint64_t before = max_rank();
    ranks_.insert(r->rank);
    return max_rank() != before;
  }
  /// Unlinks r; true when the table's max rank changed.
  bool unlink(Rule* r, rcu::Reclaimer& rec) {
    auto [h, node] = this->locate(*r);
    std::vector<Rule*>& v = scratch_;
    v.assign(node->rules(), node->rules() + node->n_rules);
    std::erase(v, r);
    auto* nn = v.empty() ? nullptr
                         : this->make_node(h, this->kw_, v.data(), static_cast<uint32_t>(v.size()));
    this->put(h, node, nn, rec);
    uint64_t before = max_rank();
    ranks_.erase(ranks_.find(r->rank));
    return max_rank() != before;
  }

 private:
  alignas(64) uint8_t lens_[4] = {};  // read by lookup_wc: apart from ranks_
  uint8_t ports_len_ = 0;
  std::atomic<const Common*> common_{nullptr};
  PortsTrie ports_;
  alignas(64) std::multiset<uint64_t> ranks_;
  std::vector<Rule*> scratch_;
};

/// Immutable, rank-sorted array of tables that readers walk.
template <class Table>
struct TableList {
  struct Entry {
    const Table* t;
    uint64_t max_rank;
  };
  uint32_t n;
  Entry* e;

  static TableList* make(const std::vector<Table*>& tables) {
    void* mem = ::operator new(sizeof(TableList) + tables.size() * sizeof(Entry));
    auto* l = static_cast<TableList*>(mem);
    l->n = static_cast<uint32_t>(tables.size());
    l->e = reinterpret_cast<Entry*>(l + 1);
    for (size_t i = 0; i < tables.size(); ++i) l->e[i] = {tables[i], tables[i]->max_rank()};
    return l;
  }
};

}  // namespace flowpath::classify_detail
