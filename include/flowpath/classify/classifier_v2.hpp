// flowpath/classify/classifier_v2.hpp — the log-structured priority
// classifier: a compiled, read-optimised part for the bulk of the rules
// plus a small incremental part for the rules changed since the last
// compile.  Same API and semantics as Classifier (classifier.hpp) and
// LinearClassifier: highest priority wins, equal priorities -> first
// inserted wins, insert of an existing match+priority(+ranges) replaces its
// value and keeps its place; lookup(key, &wc) ORs into wc the key bits the
// answer depended on.
//
// Design.  The compiled part is a SplitForest (split_forest.hpp): decision
// trees over a snapshot of the rules, immutable once built.  The
// incremental part is DeltaTuples (delta_tuples.hpp): merged tuple tables
// taking inserts in about a microsecond.  A lookup asks the forest, then
// the delta for rules outranking the forest's answer.  When the delta holds
// more than max(Config::compile_min, rules / Config::compile_fraction)
// rules, a background thread compiles a new forest from a snapshot of every
// rule a reader could still see, swaps it in, and after a grace period
// drops the folded delta whole.  The delta comes in generations: the
// compile's snapshot seals the current one (readers still walk it) and a
// fresh one takes the inserts made meanwhile; a removed rule stays in its
// delta, invisible, until it quiesces (a grace period later): then the
// grace run sweeps its bucket in the current generation (a sealed one is
// dropped whole).  So a rule costs the delta a node copy when it comes, one
// when it goes, and nothing when it is folded (see docs/classifier.md).  A compile that took t
// waits Config::compile_pause x t before the next one, so under heavy churn the compile thread
// takes at most 1 / (1 + pause) of a core and the delta grows instead (lookups then cost up to the
// delta's tables more).
//
// Consistency.  Every update publishes a new version and rules carry
// [add_version, remove_version), as in Classifier.  A reader loads the
// forest, then the version v, then the current delta, then the sealed one
// (the writer publishes them in the opposite order): a forest holds every
// rule that was live or not yet quiesced (removed less than a grace period
// ago) when its snapshot was taken, and a sealed delta is dropped only a
// grace period after a forest holding its rules was published, so a rule visible
// in v is always in the forest or the delta the reader walks; rules not
// visible in v are skipped.  Readers never block and see exactly the rule
// set of one version.  Rules are reference-counted by the writer (index,
// delta, each forest) and freed a grace period after the last reference
// goes.
//
// Cost: lookup ~ forest depth + a leaf scan per tree, or for small sets
// without a mask a bit-vector index's 1-2 search steps and one row line
// per dimension (+ the delta's tables when non-empty); update ~ a delta
// insert plus bookkeeping; a compile is O(rules x dims x depth) off the
// update path.  Thread-safety: any number of concurrent lookups with one
// or more writers (serialised by a mutex shared with the compile thread).
// A returned Rule* stays valid while the caller holds an rcu::ReadGuard.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_set>
#include <vector>

#include "flowpath/classify/cache_size.hpp"
#include "flowpath/classify/classifier_rule.hpp"
#include "flowpath/classify/classifier_v2_index.hpp"
#include "flowpath/classify/delta_tuples.hpp"
#include "flowpath/classify/epoch.hpp"
#include "flowpath/classify/split_forest.hpp"

namespace flowpath {

struct ClassifierV2Config {
  uint32_t collision_limit = 16;    // delta: rules per bucket before a new table
  uint32_t leaf_size = 8;           // forest: rules per leaf before a split
  uint32_t replication_budget = 8;  // forest: leaf entries per rule at most
  uint32_t compile_min = 64;        // compile when the delta holds more than
  uint32_t compile_fraction = 16;   //   max(compile_min, rules / compile_fraction)
  uint32_t compile_pause = 8;       // after a compile of t ms, none for pause x t ms
  uint32_t bits_max_rules = 4096;   // forest: a bit-vector index (rule_bits.hpp) for lookups
  size_t bits_max_bytes = size_t{8}
                          << 20;  //   without a mask, dense up to this many rules / bytes,
  uint32_t bits_sparse_max_rules = 1u << 15;  //   sparse up to this many rules
  uint32_t bits_sparse_bytes_per_rule = 800;  //   in max(bits_max_bytes, this x rules) bytes
  // batches: the trees over sparse parts when they take at most this (8 L2s, cache_size.hpp)
  size_t batch_trees_max_bytes = classify_detail::batch_trees_default_bytes();
  // single lookups on the trees: the first alone, then the rest (1), all in
  // lock step (0), or chosen from keys sampled inside the rules (-1; forests
  // without a bit index, whose single lookups walk the trees)
  int first_tree_alone = -1;
  bool background = true;  // compile on a thread (else inside the update)
};

namespace classify_detail {
template <class T>
struct LogRule : ClassifierRule<T> {
  using ClassifierRule<T>::ClassifierRule;
  DeltaTable<LogRule>* dtable = nullptr;  // writer only, from here down
  uint64_t dgen = 0;                      // the delta generation of dtable
  uint64_t dhash = 0;                     // its bucket's hash in dtable
  uint64_t ihash = 0;                     // identity_hash(), for the index
  uint32_t refs = 0;
  bool quiesced = false;      // removed more than a grace period ago
  uint32_t forest_pos = ~0u;  // index in the current forest's rules(), if there
};
}  // namespace classify_detail

template <class T>
class ClassifierV2 {
 public:
  using Rule = classify_detail::LogRule<T>;

  explicit ClassifierV2(ClassifierV2Config cfg = {})
      : cfg_(cfg), delta_(new Delta(rec_, cfg.collision_limit)) {
    delta_pub_.store(delta_, std::memory_order_release);
  }
  ~ClassifierV2();
  ClassifierV2(const ClassifierV2&) = delete;
  ClassifierV2& operator=(const ClassifierV2&) = delete;

  bool insert(const Match& m, int32_t priority, T value) {
    return insert(m, priority, std::move(value), PortRanges{});
  }
  /// Inserts, or replaces the value of the rule with the same identity;
  /// true when a rule was replaced.
  bool insert(const Match& m, int32_t priority, T value, const PortRanges& ranges) {
    std::lock_guard lock(mu_);
    uint64_t v = version_.load(std::memory_order_relaxed) + 1;
    uint64_t h = classify_detail::v2_identity_hash(m, priority, ranges);
    Rule* old = find_rule(h, m, priority, ranges);
    Rule* r = pool_.make(m, priority, std::move(value), ranges);
    r->ihash = h;
    r->add_version = v;
    r->refs = 1;  // the index's
    if (old) {
      r->seq = old->seq;
      r->rank = old->rank;
      retire_rule(old, v);
    } else {
      r->seq = next_seq_++;
      r->rank = classify_detail::make_rank(priority, r->seq);
      ++n_rules_;
    }
    index_.insert(r);
    delta_->add(r, [this](Rule* q) { unref(q); });
    ++r->refs;  // the delta generation's
    finish_update(v);
    return old != nullptr;
  }

  bool remove(const Match& m, int32_t priority) { return remove(m, priority, PortRanges{}); }
  bool remove(const Match& m, int32_t priority, const PortRanges& ranges) {
    std::lock_guard lock(mu_);
    Rule* old =
        find_rule(classify_detail::v2_identity_hash(m, priority, ranges), m, priority, ranges);
    if (!old) return false;
    uint64_t v = version_.load(std::memory_order_relaxed) + 1;
    retire_rule(old, v);
    --n_rules_;
    finish_update(v);
    return true;
  }

  /// Best rule for key, or nullptr.  ORs the consulted bits into *wc.
  const Rule* lookup(const FlowKey& key, FlowMask* wc = nullptr) const {
    rcu::ReadGuard guard;
    const Forest* f = forest_.load(std::memory_order_acquire);
    uint64_t v = version_.load(std::memory_order_acquire);
    const Delta* d = delta_pub_.load(std::memory_order_acquire);
    const Delta* s = sealed_pub_.load(std::memory_order_acquire);
    uint64_t best_rank = 0;
    const Rule* best = f ? f->lookup(key, v, best_rank, wc) : nullptr;
    if (s && s != d)
      if (const Rule* r = s->lookup(key, v, best_rank, wc)) best = r;
    // An empty delta (after a compile, often) costs a load, not a call.
    if (!d->empty_for_readers())
      if (const Rule* r = d->lookup(key, v, best_rank, wc)) best = r;
    return best;
  }

  /// out[i] = lookup(keys[i]); the forest is walked for 32 keys at a time.
  void lookup_batch(std::span<const FlowKey> keys, const Rule** out) const {
    rcu::ReadGuard guard;
    const Forest* f = forest_.load(std::memory_order_acquire);
    uint64_t v = version_.load(std::memory_order_acquire);
    const Delta* d = delta_pub_.load(std::memory_order_acquire);
    const Delta* s = sealed_pub_.load(std::memory_order_acquire);
    if (s == d || (s && s->empty_for_readers())) s = nullptr;
    if (d->empty_for_readers()) d = nullptr;  // after the compile, often: no call per key
    for (size_t i = 0; i < keys.size(); i += Forest::kBatch) {
      size_t n = std::min(Forest::kBatch, keys.size() - i);
      uint64_t best_rank[Forest::kBatch] = {};
      for (size_t k = 0; k < n; ++k) out[i + k] = nullptr;
      if (f) f->lookup_batch(keys.data() + i, n, v, out + i, best_rank);
      for (size_t k = 0; k < n; ++k) {
        if (s)
          if (const Rule* r = s->lookup(keys[i + k], v, best_rank[k], nullptr)) out[i + k] = r;
        if (d)
          if (const Rule* r = d->lookup(keys[i + k], v, best_rank[k], nullptr)) out[i + k] = r;
      }
    }
  }

  /// Compiles everything now and waits until the delta is folded in
  /// (benchmarks, tests; never call it inside an rcu::ReadGuard).
  void compile_now();
  /// Waits until no background compile is in flight (benchmarks: count a
  /// compile's CPU in the window that started it).
  void wait_compiles() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !compiling_; });
  }

  size_t size() const noexcept { return n_rules_; }
  /// Forest trees plus delta tables.
  size_t n_tables() const noexcept {
    const Forest* f = cur_forest_;
    return (f ? f->n_trees() : 0) + delta_->n_tables() + (sealed_ ? sealed_->n_tables() : 0);
  }
  /// Rules in the delta generations, removed ones included (they leave
  /// with their generation, at the next compile).
  size_t delta_size() const noexcept { return delta_->size() + (sealed_ ? sealed_->size() : 0); }
  uint64_t compiles() const noexcept {
    std::lock_guard lock(mu_);
    return compiles_;
  }
  /// CPU seconds the background thread spent building forests.
  double compile_cpu_seconds() const noexcept {
    std::lock_guard lock(mu_);
    return compile_cpu_;
  }
  size_t memory_bytes() const {
    std::lock_guard lock(mu_);
    size_t b = sizeof(*this) + index_.memory_bytes();
    b += n_rules_ * sizeof(Rule) + delta_->memory_bytes() + limbo_.size() * 8;
    b += pool_.memory_bytes();
    if (sealed_) b += sealed_->memory_bytes();
    if (cur_forest_) b += cur_forest_->memory_bytes();
    return b;
  }
  const ClassifierV2Config& config() const noexcept { return cfg_; }
  /// The current forest (diagnostics; valid until the next compile).
  const classify_detail::SplitForest<Rule>* forest() const noexcept { return cur_forest_; }

 private:
  using Forest = classify_detail::SplitForest<Rule>;
  using Delta = classify_detail::DeltaTuples<Rule>;
  using Batch = std::vector<Rule*>;  // rules handed to one grace callback

  Rule* find_rule(uint64_t h, const Match& m, int32_t priority, const PortRanges& rg) const {
    return index_.find(h, [&](const Rule& r) { return r.same_identity(m, priority, rg); });
  }
  /// Ends r's life in version v: out of the index, into limbo until no
  /// reader can see it (its delta generation, if any, keeps it till dropped).
  void retire_rule(Rule* r, uint64_t v);
  /// Drops the limbo's references to rules no reader can see.  Rules
  /// quiesce in the order they were removed (one grace callback per batch,
  /// run in order), so they leave from the front.  Run at every grace run:
  /// compacted only past a limit (10K+ rules at 10K), they were freed
  /// thousands at once, past what the rule pool keeps, and the inserts
  /// after each burst went to malloc.
  void compact_limbo() {
    while (!limbo_.empty() && limbo_.front()->quiesced) {
      unref(limbo_.front());
      limbo_.pop_front();
    }
  }
  void unref(Rule* r) {
    if (--r->refs == 0) dead_.push_back(r);  // freed a grace period after the next run_grace()
  }
  /// Retires the rules removed and unreferenced since the last call, one
  /// callback per batch, then runs what is due.
  void run_grace();
  Batch* spare_batch() {
    if (spare_.empty()) {
      batches_.push_back(std::make_unique<Batch>());
      spare_.reserve(batches_.size());  // give_back() then never allocates
      return batches_.back().get();
    }
    Batch* b = spare_.back();
    spare_.pop_back();
    return b;
  }
  void give_back(Batch* b) noexcept {
    b->clear();
    spare_.push_back(b);
  }
  void finish_update(uint64_t v) {
    delta_->publish_if_dirty();
    version_.store(v, std::memory_order_release);
    // Grace periods are run every kCollectEvery updates: each try to
    // advance the epoch takes the domain's mutex and writes the line every
    // reader's guard loads; deferred work only waits a few updates longer.
    if (++since_collect_ >= kCollectEvery) {
      since_collect_ = 0;
      run_grace();
    }
    maybe_compile();
  }

  classify_detail::SplitForestConfig forest_config() const noexcept {
    return {cfg_.leaf_size,
            cfg_.replication_budget,
            {cfg_.bits_max_rules, cfg_.bits_max_bytes, cfg_.bits_sparse_max_rules,
             cfg_.bits_sparse_bytes_per_rule},
            cfg_.batch_trees_max_bytes,
            cfg_.first_tree_alone};
  }
  std::vector<Rule*> snapshot();
  void maybe_compile();
  void install(Forest* f);
  void seal();
  void drop_sealed();
  void worker();

  // What every lookup loads, on a line that only publications write (the
  // mutex and the writer's fields below used to share it: a reader miss
  // per lock and unlock).
  alignas(64) std::atomic<uint64_t> version_{1};
  std::atomic<const Forest*> forest_{nullptr};
  std::atomic<const Delta*> delta_pub_{nullptr}, sealed_pub_{nullptr};
  alignas(64) ClassifierV2Config cfg_;
  mutable std::mutex mu_;
  Forest* cur_forest_ = nullptr;       // writer's view of forest_
  std::vector<Forest*> live_forests_;  // cur_forest_ and retired ones readers may hold
  rcu::Reclaimer rec_;
  Delta* delta_;             // the generation taking inserts (writer's view)
  Delta* sealed_ = nullptr;  // the one the compile in flight folds, until dropped
  size_t sealed_live_ = 0;   // sealed generations not yet freed
  classify_detail::RuleIndex<Rule> index_;
  classify_detail::RulePool<Rule> pool_;
  std::deque<Rule*> limbo_;                      // removed rules, oldest first, until quiesced
  Batch removed_, dead_;                         // batches for run_grace()
  std::vector<std::unique_ptr<Batch>> batches_;  // every batch vector made
  std::vector<Batch*> spare_;                    // those not in a callback
  size_t n_rules_ = 0;
  uint64_t next_seq_ = 0;
  // Compilation (guarded by mu_).
  std::thread thread_;
  std::condition_variable cv_;
  std::vector<Rule*> job_;
  bool job_ready_ = false, compiling_ = false, stop_ = false;
  bool paused_ = false;  // the worker sleeps out compile_pause, then checks itself
  uint64_t compiles_ = 0;
  double compile_cpu_ = 0;
  std::chrono::steady_clock::time_point next_compile_{};  // duty-cycle limit
  static constexpr uint32_t kCollectEvery = 16;
  uint32_t since_collect_ = 0;
};

}  // namespace flowpath

#include "flowpath/classify/classifier_v2_compile.hpp"
