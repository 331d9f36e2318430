// flowpath/classify/delta_tuples.hpp — the small incremental part of
// ClassifierV2 (classifier_v2.hpp): rules changed since the last compile,
// in merged tuple tables (the same TupleMerge tables as Classifier, see
// classifier.hpp, without prefix tries: this part is small and usually
// empty right after a compile).
//
// One generation of the delta: rules are linked and never unlinked one by
// one (a removed rule, once quiesced, is only left out when its bucket is
// next copied for an insert); the owner decides visibility (rule versions)
// and drops a whole generation once a compiled forest holds its rules (a
// grace period later).  So a
// table's published max rank only rises, and the tables keep a rule count
// instead of v1 RankedTable's sorted rank multiset (a tree node per rule).
// Cost: insert ~ one hint probe and one node copy (O(tables) subset tests
// when the hinted table's bucket is full); lookup ~ tables probed (a
// filter byte each, see tuple_table.hpp), skipped entirely when empty.
// Rule: a ClassifierRule with the writer fields ihash (identity hash),
// quiesced, dtable, dgen and dhash (ClassifierV2's LogRule).
// Thread-safety: writer methods under the owner's lock; lookup() from any
// thread inside an rcu::ReadGuard.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "flowpath/classify/classifier_rule.hpp"
#include "flowpath/classify/epoch.hpp"
#include "flowpath/classify/tuple_table.hpp"

namespace flowpath::classify_detail {

/// A TupleTable whose buckets hold rank-sorted rules, with a rule count
/// and an upper bound of their ranks.
template <class Rule>
class DeltaTable : public TupleTable<Rule> {
  using Base = TupleTable<Rule>;

 public:
  using Base::Base;
  using Node = typename Base::Node;
  using Dead = std::vector<std::pair<DeltaTable*, Node*>>;  // replaced nodes, to free
  uint64_t max_rank() const noexcept { return max_rank_; }
  size_t n_rules() const noexcept { return n_rules_; }
  size_t memory_bytes() const noexcept { return Base::memory_bytes(); }

  /// Links r into its bucket (a new node replaces the old), leaving out
  /// the bucket's quiesced rules (removed more than a grace period ago),
  /// each passed to drop(q); true when the rank bound rose.  A rule churned
  /// again and again thus keeps one dead copy in its bucket, not one per
  /// update.
  /// dv: r's determined bits (Rule::determined()); r->dhash takes its
  /// bucket's hash, for sweep().  The replaced node goes to dead.
  template <class Drop>
  bool link(Rule* r, const FlowKey& dv, rcu::Reclaimer& rec, Dead& dead, Drop&& drop) {
    auto [h, node] = this->locate_key(dv);
    r->dhash = h;
    uint32_t n = node ? node->n_rules : 0;
    bool placed = false;
    scratch_.clear();
    for (uint32_t i = 0; i < n; ++i) {
      Rule* q = node->rules()[i];
      if (q->quiesced) {
        drop(q);
        --n_rules_;
        continue;
      }
      if (!placed && q->rank < r->rank) scratch_.push_back(r), placed = true;
      scratch_.push_back(q);
    }
    if (!placed) scratch_.push_back(r);
    auto m = static_cast<uint32_t>(scratch_.size());
    retire(this->swap_in(h, node, this->make_node(h, this->kw_, scratch_.data(), m), rec), dead);
    ++n_rules_;
    if (r->rank <= max_rank_) return false;
    max_rank_ = r->rank;
    return true;
  }
  /// Copies r's bucket without its quiesced rules (each passed to
  /// drop(q)), if it holds any: a removed rule's bucket may see no insert
  /// again in this generation.
  template <class Drop>
  void sweep(const Rule& r, rcu::Reclaimer& rec, Dead& dead, Drop&& drop) {
    uint64_t h = r.dhash;
    const auto* node = this->find_holding(h, &r);
    if (!node) return;  // left out by a copy (with the bucket's other quiesced rules)
    scratch_.clear();
    for (uint32_t i = 0; i < node->n_rules; ++i) {
      Rule* q = node->rules()[i];
      if (!q->quiesced) scratch_.push_back(q);
    }
    if (scratch_.size() == node->n_rules) return;
    for (uint32_t i = 0; i < node->n_rules; ++i)
      if (node->rules()[i]->quiesced) drop(node->rules()[i]), --n_rules_;
    auto m = static_cast<uint32_t>(scratch_.size());
    Node* nw = m ? this->make_node(h, node->kw(), scratch_.data(), m) : nullptr;
    retire(this->swap_in(h, node, nw, rec), dead);
  }

 private:
  void retire(Node* old, Dead& dead) {
    if (old) dead.emplace_back(this, old);
  }
  uint64_t max_rank_ = 0;
  size_t n_rules_ = 0;
  std::vector<Rule*> scratch_;
};

template <class Rule>
class DeltaTuples {
 public:
  using Table = DeltaTable<Rule>;
  using List = TableList<Table>;

  DeltaTuples(rcu::Reclaimer& rec, uint32_t collision_limit) : limit_(collision_limit), rec_(rec) {
    publish();
  }
  ~DeltaTuples() {  // no reader left: replaced nodes not yet retired go now
    for (auto [t, n] : dead_) t->free_node(n);
    for (Table* t : tables_) delete t;
    ::operator delete(list_.load(std::memory_order_relaxed));
  }
  DeltaTuples(const DeltaTuples&) = delete;
  DeltaTuples& operator=(const DeltaTuples&) = delete;

  /// Links r into the table the last rule of its identity (Rule::ihash)
  /// went to if its bucket there has room, else into the first table whose
  /// mask fits and whose bucket has room, else a new table of r's
  /// determined mask.  The hint spares the subset test of every table (two
  /// lines each) for a rule churned again, and puts it into the bucket of
  /// its dead copies, which the copy linking it then leaves out once they
  /// are quiesced.  (A hint per determined mask instead scattered a churned
  /// rule's copies over tables no insert touched again: 20 dead copies per
  /// rule at 1K rules.)
  /// drop(q) takes over the generation's reference to each rule q left
  /// out of a bucket (see DeltaTable::link).
  template <class Drop>
  void add(Rule* r, Drop&& drop) {
    FlowMask dm;
    FlowKey dv;
    r->determined(dm, dv);
    uint64_t kw[FlowKey::kWords];
    // A full bucket still has room for r when it holds quiesced rules: the
    // copy that links r leaves them out.  (Counting them made churned rules
    // overflow into new tables: under random churn the delta grew to 40+
    // tables holding 2-3 dead copies per live rule, and the reader probed
    // them all.)
    auto room = [&](const Table* t) {
      const auto* node = t->find(t->extract(dv, kw), kw);
      if (!node || node->n_rules < limit_) return true;
      uint32_t kept = 0;
      for (uint32_t i = 0; i < node->n_rules; ++i) kept += !node->rules()[i]->quiesced;
      return kept < limit_;
    };
    Table*& hint = hint_for(r->ihash);
    Table* into = hint && fits(*hint, dm) && room(hint) ? hint : nullptr;
    for (size_t i = 0; !into && i < tables_.size(); ++i)
      if (fits(*tables_[i], dm) && room(tables_[i])) into = tables_[i];
    if (!into) into = new_table_for(dm);
    hint = into;
    r->dtable = into;
    r->dgen = gen_;
    if (into->link(r, dv, rec_, dead_, [&](Rule* q) { --n_, drop(q); })) dirty_ = true;
    ++n_;
  }
  /// Sweeps the bucket of r, a rule just quiesced, if r was linked into
  /// this generation (r->dtable is then one of its tables; an older
  /// generation's tables may be gone).
  template <class Drop>
  void sweep(Rule* r, Drop&& drop) {
    if (r->dgen == gen_ && r->dtable)
      r->dtable->sweep(*r, rec_, dead_, [&](Rule* q) { --n_, drop(q); });
  }
  /// Retires the bucket nodes replaced since the last call, in one
  /// callback (the owner calls it every few updates, and before it seals
  /// the generation: the callback then runs before the generation is
  /// freed, which is retired later).
  void retire_nodes() {
    if (dead_.empty()) return;
    Dead* b;
    if (spare_.empty()) {
      batches_.push_back(std::make_unique<Dead>());
      spare_.reserve(batches_.size());  // the callback's push_back never allocates
      b = batches_.back().get();
    } else {
      b = spare_.back();
      spare_.pop_back();
    }
    b->swap(dead_);
    rec_.retire([this, b] {
      for (auto [t, n] : *b) t->free_node(n);
      b->clear();
      spare_.push_back(b);
    });
  }
  /// Publishes the table list if it changed (before the version store).
  void publish_if_dirty() {
    if (dirty_) publish();
  }

  size_t size() const noexcept { return n_; }
  size_t n_tables() const noexcept { return tables_.size(); }
  size_t memory_bytes() const noexcept {
    size_t b = sizeof(*this);
    for (const Table* t : tables_) b += t->memory_bytes();
    b += hints_.size() * sizeof(Hint);
    return b;
  }
  template <class F>
  void for_each_rule(F&& f) {
    for (Table* t : tables_) t->for_each_rule(f);
  }

  /// Readers: true when the published list has no table (a batch checks
  /// once, after loading its version: what is published later is not
  /// visible in that version anyway).
  bool empty_for_readers() const noexcept { return list_.load(std::memory_order_acquire)->n == 0; }

  /// Best rule visible in v outranking best_rank (updated), or nullptr.
  const Rule* lookup(const FlowKey& key, uint64_t v, uint64_t& best_rank, FlowMask* wc) const {
    const List* list = list_.load(std::memory_order_acquire);
    const Rule* best = nullptr;
    uint64_t kw[FlowKey::kWords];
    for (uint32_t i = 0; i < list->n; ++i) {
      const auto& e = list->e[i];
      if (e.max_rank <= best_rank) break;
      const auto* node = e.t->find(e.t->extract(key, kw), kw);
      if (wc) mask_union(*wc, e.t->mask());
      if (!node) continue;
      for (uint32_t j = 0; j < node->n_rules; ++j) {
        const Rule* r = node->rules()[j];
        if (r->rank <= best_rank) break;
        if (!r->visible(v)) continue;
        if (wc ? r->explain(key, *wc) : r->matches(key)) {
          best = r;
          best_rank = r->rank;
          break;
        }
      }
    }
    return best;
  }

 private:
  /// A table of the relaxed shape (as Classifier's: IPv4 prefixes rounded
  /// down to 16 bits, ranged ports dropped), or of the exact shape when the
  /// relaxed table exists (its bucket is full).
  Table* new_table_for(const FlowMask& dm) {
    FlowMask relaxed = relax(dm, 16, 16);
    Table* t = table_with(relaxed);
    if (t && !(relaxed == dm)) t = table_with(dm);
    if (t) return t;
    t = new Table(table_with(relaxed) ? dm : relaxed);
    tables_.push_back(t);
    dirty_ = true;
    return t;
  }
  /// t's mask within dm: mask_subset() over t's non-zero words only (4-5
  /// of 16 on 5-tuples; every insert tests every table).
  static bool fits(const Table& t, const FlowMask& dm) noexcept {
    uint64_t extra = 0;
    for (size_t i = 0; i < t.n_words(); ++i) extra |= t.mask_words()[i] & ~dm.word(t.words()[i]);
    return extra == 0;
  }
  /// The hint slot of identity hash h (a new one holds nullptr).  Open
  /// addressing over a power-of-two array, at most half full, never erased
  /// (the generation goes whole): std::unordered_map allocated a node per
  /// identity in every generation and missed twice per look-up, a tenth
  /// of an update's time.  Key 0 marks a free slot, so an identity hashing
  /// to 0 shares the hint of those hashing to 1: a hint is checked before
  /// use (fits(), room()), so a shared one costs at most a table search.
  Table*& hint_for(uint64_t h) {
    uint64_t key = h ? h : 1;
    if ((n_hints_ + 1) * 2 > hints_.size()) grow_hints();
    size_t m = hints_.size() - 1;
    for (size_t i = key & m;; i = (i + 1) & m) {
      if (hints_[i].key == key) return hints_[i].table;
      if (hints_[i].key == 0) {
        ++n_hints_;
        hints_[i].key = key;
        return hints_[i].table;
      }
    }
  }
  void grow_hints() {
    std::vector<Hint> old(std::max<size_t>(64, 2 * hints_.size()));
    old.swap(hints_);
    size_t m = hints_.size() - 1;
    for (const Hint& e : old) {
      if (e.key == 0) continue;
      size_t i = e.key & m;
      while (hints_[i].key != 0) i = (i + 1) & m;
      hints_[i] = e;
    }
  }
  Table* table_with(const FlowMask& m) const {
    for (Table* t : tables_)
      if (t->mask() == m) return t;
    return nullptr;
  }
  void publish() {
    std::stable_sort(tables_.begin(), tables_.end(),
                     [](const Table* a, const Table* b) { return a->max_rank() > b->max_rank(); });
    List* nl = List::make(tables_);
    List* old = list_.exchange(nl, std::memory_order_acq_rel);
    if (old) rec_.retire([old] { ::operator delete(old); });
    dirty_ = false;
  }

  // list_ alone on its line: every lookup loads it, and the counters below
  // change on every insert.
  alignas(64) std::atomic<List*> list_{nullptr};
  static uint64_t next_gen() noexcept {
    static std::atomic<uint64_t> n{1};  // ids never reused (addresses are)
    return n.fetch_add(1, std::memory_order_relaxed);
  }

  alignas(64) uint32_t limit_;
  uint64_t gen_ = next_gen();
  rcu::Reclaimer& rec_;
  std::vector<Table*> tables_;
  using Dead = typename Table::Dead;
  Dead dead_;                                   // replaced nodes, see retire_nodes()
  std::vector<std::unique_ptr<Dead>> batches_;  // every batch vector made
  std::vector<Dead*> spare_;                    // those not in a callback
  struct Hint {
    uint64_t key = 0;  // identity hash (0: free)
    Table* table = nullptr;
  };
  std::vector<Hint> hints_;  // identity hash -> its last table, see hint_for()
  size_t n_hints_ = 0;
  bool dirty_ = false;
  size_t n_ = 0;
};

}  // namespace flowpath::classify_detail
