// flowpath/classify/classifier.hpp — the priority classifier: highest-
// priority rule matching a key, incremental updates, megaflow masks, and
// lock-free readers.  Drop-in for LinearClassifier (same API and semantics:
// highest priority wins, equal priorities -> first inserted wins, insert of
// an existing match+priority replaces its value).
//
// Design (TupleMerge, Daly et al. 2019, with versioned rules).  Open
// vSwitch keeps one hash table per distinct mask ("tuple space search"):
// exact, but ClassBench port ranges expand into thousands of masks and a
// lookup probes them all.  Here a table's mask only has to be *contained*
// in a rule's mask: a rule with nw_src /27 and ports [1024, 2047] can live
// in a table hashing nw_src /24 and tp_dst's top 5 bits; the collision list
// of a bucket (sorted by rank) checks the remaining bits and the exact port
// ranges.  A new table gets a relaxed mask (IPv4 prefixes rounded down to
// Config::ipv4_step bits, ranged ports wildcarded), so a few dozen tables
// hold 100K rules; when a bucket exceeds Config::collision_limit a rule goes
// to a more specific table instead.  Tables are visited in order of the
// highest rank they hold, and the walk stops as soon as the best match so
// far outranks every remaining table.  Ranges are native (no expansion).
//
// Megaflow masks (lookup with wc).  The mask is built from what the walk
// consulted: for each probed table its mask (or, on a miss, only the prefix
// of one address field that no rule in the table shares, via the prefix
// tries of prefix_trie.hpp; for a table whose probe found no node, the
// narrower of the leading port bits no rule of the table shares, via the
// table's ports trie, ports_trie.hpp, and the first field where the key
// leaves the bits all the table's rules agree on, as Open vSwitch's staged
// lookup stops at the stage that missed), for each rule checked in a bucket the bits that
// prove its mismatch (a field prefix down to the first differing bit, or
// the port prefix deciding a range) and for the winner its mask and range
// prefixes.  Tables skipped by the early exit add nothing.  Any key that
// agrees on those bits takes the same walk and gets the same rule.
//
// Concurrency.  Every update publishes a new version; rules carry
// [add_version, remove_version).  A lookup reads the version once and only
// sees rules live in it, so readers always see a rule set that existed.
// Structures are swapped with release stores (tuple_table.hpp) and removed
// rules are unlinked, then freed, each after an epoch grace period
// (epoch.hpp).  Writers are serialised by an internal mutex.
//
// Cost: lookup ~ tables probed x (mask+hash of the mask's words + one
// bucket); insert/remove O(tables) subset tests + one node copy.
// Thread-safety: any number of concurrent lookups with one or more writers.
// A returned Rule* stays valid while the caller holds an rcu::ReadGuard
// (or, without one, until the next update).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "flowpath/classify/classifier_rule.hpp"
#include "flowpath/classify/epoch.hpp"
#include "flowpath/classify/prefix_trie.hpp"
#include "flowpath/classify/tuple_table.hpp"
#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath {

struct ClassifierConfig {
  uint32_t collision_limit = 16;  // rules per bucket before a new table
  uint8_t ipv4_step = 16;         // relaxed IPv4 prefixes: multiples of this
  uint8_t ipv6_step = 16;
  bool prefix_tracking = true;  // tries on nw_src/nw_dst/ipv6_src/ipv6_dst
  bool ports_tracking = true;   // per-table tries on tp_src:tp_dst
  bool common_bits = true;      // per-table bits all its rules agree on
};

template <class T>
class Classifier {
 public:
  using Rule = classify_detail::ClassifierRule<T>;
  using Table = classify_detail::RankedTable<Rule>;

  explicit Classifier(ClassifierConfig cfg = {}) : cfg_(cfg) { publish_list(); }
  ~Classifier() {
    rec_.drain();
    for (Table* t : dead_tables_) delete t;
    for (Table* t : tables_) {
      t->for_each_rule([](Rule* r) { delete r; });
      delete t;
    }
    ::operator delete(list_.load(std::memory_order_relaxed));
  }
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  /// Inserts, or replaces the value of the rule with the same match,
  /// priority (and ranges); returns true when a rule was replaced.
  bool insert(const Match& m, int32_t priority, T value) {
    return insert(m, priority, std::move(value), PortRanges{});
  }
  bool insert(const Match& m, int32_t priority, T value, const PortRanges& ranges) {
    std::lock_guard lock(mu_);
    uint64_t v = version_.load(std::memory_order_relaxed) + 1;
    Rule* old = find_rule(m, priority, ranges);
    auto* r = new Rule(m, priority, std::move(value), ranges);
    r->add_version = v;
    if (old) {
      r->seq = old->seq;
      r->rank = old->rank;
      old->remove_version.store(v, std::memory_order_relaxed);
      erase_index(old);
      add_to_table(old->table, r);
      schedule_unlink(old);
    } else {
      r->seq = next_seq_++;
      r->rank = classify_detail::make_rank(priority, r->seq);
      place(r);
      ++n_rules_;
    }
    index_.emplace(r->identity_hash(), r);
    finish_update(v);
    return old != nullptr;
  }

  bool remove(const Match& m, int32_t priority) { return remove(m, priority, PortRanges{}); }
  bool remove(const Match& m, int32_t priority, const PortRanges& ranges) {
    std::lock_guard lock(mu_);
    Rule* old = find_rule(m, priority, ranges);
    if (!old) return false;
    uint64_t v = version_.load(std::memory_order_relaxed) + 1;
    old->remove_version.store(v, std::memory_order_relaxed);
    erase_index(old);
    schedule_unlink(old);
    --n_rules_;
    finish_update(v);
    return true;
  }

  /// Best rule for key, or nullptr.  ORs the consulted bits into *wc.
  const Rule* lookup(const FlowKey& key, FlowMask* wc = nullptr) const {
    rcu::ReadGuard guard;
    uint64_t v = version_.load(std::memory_order_acquire);
    const auto* list = list_.load(std::memory_order_acquire);
    return wc ? lookup_wc(*list, v, key, *wc) : lookup_fast(*list, v, key);
  }

  /// out[i] = lookup(keys[i]); probes tables for many keys at once.
  void lookup_batch(std::span<const FlowKey> keys, const Rule** out) const {
    rcu::ReadGuard guard;
    uint64_t v = version_.load(std::memory_order_acquire);
    const auto* list = list_.load(std::memory_order_acquire);
    for (size_t i = 0; i < keys.size(); i += kBatch) {
      size_t n = std::min(kBatch, keys.size() - i);
      lookup_chunk(*list, v, keys.data() + i, n, out + i);
    }
  }

  size_t size() const noexcept { return n_rules_; }
  size_t n_tables() const noexcept { return tables_.size(); }
  /// Bytes held by rules, tables, tries and the writer's index (estimate).
  size_t memory_bytes() const {
    size_t b = sizeof(*this) + index_.size() * 32 + index_.bucket_count() * 8;
    for (const Table* t : tables_) b += t->memory_bytes();
    b += n_rules_ * sizeof(Rule) + tries_.memory_bytes();
    return b;
  }
  const ClassifierConfig& config() const noexcept { return cfg_; }

 private:
  using List = classify_detail::TableList<Table>;
  static constexpr size_t kBatch = 32;

  // ---- readers -------------------------------------------------------------
  const Rule* lookup_fast(const List& list, uint64_t v, const FlowKey& key) const {
    const Rule* best = nullptr;
    uint64_t best_rank = 0;
    uint64_t kw[FlowKey::kWords];
    for (uint32_t i = 0; i < list.n; ++i) {
      const auto& e = list.e[i];
      if (e.max_rank <= best_rank) break;
      uint64_t h = e.t->extract(key, kw);
      if (const auto* node = e.t->find(h, kw)) scan(node, v, key, best, best_rank);
    }
    return best;
  }
  template <class Node>
  static void scan(const Node* node, uint64_t v, const FlowKey& key, const Rule*& best,
                   uint64_t& best_rank) {
    for (uint32_t j = 0; j < node->n_rules; ++j) {
      const Rule* r = node->rules()[j];
      if (r->rank <= best_rank) return;
      if (r->visible(v) && r->matches(key)) {
        best = r;
        best_rank = r->rank;
        return;
      }
    }
  }
  const Rule* lookup_wc(const List& list, uint64_t v, const FlowKey& key, FlowMask& wc) const {
    const Rule* best = nullptr;
    uint64_t best_rank = 0;
    uint64_t kw[FlowKey::kWords];
    classify_detail::TrieResult tr = tries_.probe(key, cfg_.prefix_tracking);
    for (uint32_t i = 0; i < list.n; ++i) {
      const auto& e = list.e[i];
      if (e.max_rank <= best_rank) break;
      if (tr.explain_skip(e.t->prefix_lens(), wc)) continue;
      uint64_t h = e.t->extract(key, kw);
      const auto* node = e.t->find(h, kw);
      if (!node) {
        explain_table_miss(*e.t, key, wc);
        continue;
      }
      mask_union(wc, e.t->mask());
      for (uint32_t j = 0; j < node->n_rules; ++j) {
        const Rule* r = node->rules()[j];
        if (r->rank <= best_rank) break;
        if (!r->visible(v)) continue;
        if (r->explain(key, wc)) {
          best = r;
          best_rank = r->rank;
          break;
        }
      }
    }
    return best;
  }
  /// ORs into wc bits that prove the key misses table t (its probe found
  /// no node).  Two narrow explanations:
  ///  - a: the table's common bits (all its rules agree on them; the key
  ///    does not): the first differing field's prefix down to the
  ///    differing bit, as Open vSwitch's staged lookup stops at the stage
  ///    that missed;
  ///  - b: the ports trie: tp_src:tp_dst's prefix one bit past the longest
  ///    one any rule of the table shares (OVS's ports trie).
  /// a wins when its field is neither a port nor an address (in_port,
  /// dl_type, nw_proto, ct_state...: fields most lookups unwildcard
  /// anyway, so its bits cost nothing where b's would be extra: a TCP key
  /// against a UDP DHCP table gets no port bit, as in OVS), and then adds
  /// the field's common bits whole; else the one adding fewer new bits.  Without either, the
  /// table's whole mask.
  void explain_table_miss(const Table& t, const FlowKey& key, FlowMask& wc) const noexcept {
    FlowMask a{};
    const auto* c = cfg_.common_bits ? t.common() : nullptr;
    bool have_a = c && classify_detail::explain_mismatch(key, c->mask, c->value, a);
    if (have_a && !ports_or_address_only(a)) {
      // A protocol/metadata field: its common bits whole, as OVS's staged
      // lookup adds its stage's mask (ct_state=+est+trk pins both bits).
      whole_field(a, c->mask);
      mask_union(wc, a);  // a wins outright: no trie walk
      return;
    }
    if (have_a && new_bits(a, wc) == 0) return;  // already proven
    int pbits = -1;
    if (int plen = t.ports_len(); plen && cfg_.ports_tracking) {
      int m = t.ports_trie().match_len(classify_detail::ports_value(key), plen);
      if (m < plen) pbits = m + 1;  // m == -1 (nothing stored): 0 bits
    }
    if (have_a && pbits >= 0) {
      FlowMask b{};
      classify_detail::or_ports_prefix(b, pbits);
      if (new_bits(b, wc) < new_bits(a, wc)) have_a = false;
    }
    if (have_a)
      mask_union(wc, a);
    else if (pbits >= 0)
      classify_detail::or_ports_prefix(wc, pbits);
    else
      mask_union(wc, t.mask());
  }
  /// Widens a (one field's prefix) to that field's bits of mask.
  static void whole_field(FlowMask& a, const FlowMask& mask) noexcept {
    uint8_t* ab = classify_detail::bytes_of(a);
    const uint8_t* mb = classify_detail::bytes_of(mask);
    size_t b = 0;
    while (b < sizeof(FlowKey) && !ab[b]) ++b;
    if (b == sizeof(FlowKey)) return;
    size_t start = classify_detail::kFieldStart[b];
    for (size_t i = start; i < sizeof(FlowKey) && classify_detail::kFieldStart[i] == start; ++i)
      ab[i] = mb[i];
  }
  static bool ports_or_address_only(FlowMask m) noexcept {
    m.tp_src = Be16{};
    m.tp_dst = Be16{};
    for (auto f : classify_detail::kAddrFields) classify_detail::set_prefix(m, f, 0);
    for (size_t w = 0; w < FlowKey::kWords; ++w)
      if (m.word(w)) return false;
    return true;
  }
  static int new_bits(const FlowMask& add, const FlowMask& wc) noexcept {
    int n = 0;
    for (size_t w = 0; w < FlowKey::kWords; ++w) n += std::popcount(add.word(w) & ~wc.word(w));
    return n;
  }
  void lookup_chunk(const List& list, uint64_t v, const FlowKey* keys, size_t n,
                    const Rule** out) const {
    uint64_t best_rank[kBatch] = {};
    uint64_t h[kBatch];
    uint64_t kw[kBatch][FlowKey::kWords];
    const typename Table::Node* nodes[kBatch];
    for (size_t k = 0; k < n; ++k) out[k] = nullptr;
    for (uint32_t i = 0; i < list.n; ++i) {
      const auto& e = list.e[i];
      bool any = false;
      for (size_t k = 0; k < n; ++k) {
        if (best_rank[k] >= e.max_rank) continue;
        any = true;
        h[k] = e.t->extract(keys[k], kw[k]);
        __builtin_prefetch(e.t->slot_address(h[k]));
      }
      if (!any) break;
      // Second pass: slots are in cache; find nodes and prefetch their first
      // rule, so the third pass's rule checks overlap their misses.
      for (size_t k = 0; k < n; ++k) {
        nodes[k] = best_rank[k] >= e.max_rank ? nullptr : e.t->find(h[k], kw[k]);
        if (nodes[k]) __builtin_prefetch(nodes[k]->rules()[0]);
      }
      for (size_t k = 0; k < n; ++k)
        if (nodes[k]) scan(nodes[k], v, keys[k], out[k], best_rank[k]);
    }
  }

  // ---- writer --------------------------------------------------------------
  Rule* find_rule(const Match& m, int32_t priority, const PortRanges& rg) const {
    auto [b, e] = index_.equal_range(classify_detail::identity_hash(m, priority, rg));
    for (auto it = b; it != e; ++it)
      if (it->second->same_identity(m, priority, rg)) return it->second;
    return nullptr;
  }
  void erase_index(Rule* r) {
    auto [b, e] = index_.equal_range(r->identity_hash());
    for (auto it = b; it != e; ++it)
      if (it->second == r) {
        index_.erase(it);
        return;
      }
  }
  /// Chooses a table (first fit in rank order whose bucket has room, else a
  /// new relaxed table, else the rule's exact tuple) and links r into it.
  void place(Rule* r) {
    FlowMask dm;
    FlowKey dv;
    r->determined(dm, dv);
    uint64_t kw[FlowKey::kWords];
    for (Table* t : tables_) {
      if (!classify_detail::mask_subset(t->mask(), dm)) continue;
      const auto* node = t->find(t->extract(dv, kw), kw);
      if (!node || node->n_rules < cfg_.collision_limit) return add_to_table(t, r);
    }
    FlowMask relaxed = classify_detail::relax(dm, cfg_.ipv4_step, cfg_.ipv6_step);
    Table* t = table_with(relaxed);
    if (!t)
      t = new_table(relaxed);  // no table of this shape yet
    else if (Table* exact = table_with(dm))
      t = exact;  // relaxed bucket full
    else if (!(relaxed == dm))
      t = new_table(dm);
    add_to_table(t, r);
  }
  Table* table_with(const FlowMask& m) const {
    for (Table* t : tables_)
      if (t->mask() == m) return t;
    return nullptr;
  }
  Table* new_table(const FlowMask& m) {
    auto* t = new Table(m);
    tables_.push_back(t);
    list_dirty_ = true;
    return t;
  }
  void add_to_table(Table* t, Rule* r) {
    r->table = t;
    if (t->link(r, rec_)) list_dirty_ = true;
    if (cfg_.prefix_tracking) tries_.add(*r);
    if (cfg_.ports_tracking) t->track_ports(*r, +1);
    if (cfg_.common_bits) t->track_common(*r, rec_);
  }
  void schedule_unlink(Rule* r) {
    rec_.retire([this, r] { unlink(r); });
  }
  void unlink(Rule* r) {
    Table* t = r->table;
    if (t->unlink(r, rec_)) list_dirty_ = true;
    if (cfg_.prefix_tracking) tries_.remove(*r);
    if (cfg_.ports_tracking) t->track_ports(*r, -1);
    rec_.retire([r] { delete r; });
    if (t->n_rules() == 0) {
      tables_.erase(std::find(tables_.begin(), tables_.end(), t));
      list_dirty_ = true;
      dead_tables_.push_back(t);
    }
  }
  void finish_update(uint64_t v) {
    if (list_dirty_) publish_list();
    version_.store(v, std::memory_order_release);
    rec_.collect();
    if (list_dirty_) publish_list();
    for (Table* t : dead_tables_) rec_.retire([t] { delete t; });
    dead_tables_.clear();
  }
  void publish_list() {
    std::stable_sort(tables_.begin(), tables_.end(),
                     [](const Table* a, const Table* b) { return a->max_rank() > b->max_rank(); });
    List* nl = List::make(tables_);
    List* old = list_.exchange(nl, std::memory_order_acq_rel);
    if (old) rec_.retire([old] { ::operator delete(old); });
    list_dirty_ = false;
  }

  ClassifierConfig cfg_;
  std::mutex mu_;
  std::atomic<uint64_t> version_{1};
  std::atomic<List*> list_{nullptr};
  std::vector<Table*> tables_;  // writer's view, sorted like the list
  std::vector<Table*> dead_tables_;
  bool list_dirty_ = false;
  std::unordered_multimap<uint64_t, Rule*> index_;
  classify_detail::PrefixTries tries_;
  rcu::Reclaimer rec_;
  size_t n_rules_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace flowpath
