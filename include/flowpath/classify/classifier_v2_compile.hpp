// flowpath/classify/classifier_v2_compile.hpp — ClassifierV2's writer
// side out of line: retiring rules, grace runs, the compile cycle
// (snapshot, background build, swap, dropping a delta generation) and the
// destructor.  Included by classifier_v2.hpp only; see its design notes.
//
// Thread-safety: every function here runs under ClassifierV2::mu_ except
// the forest build itself, which reads only immutable rule fields of rules
// the snapshot holds references to.
#pragma once

#include <chrono>
#include <ctime>
#include <thread>

namespace flowpath {

inline double thread_cpu_seconds() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

template <class T>
ClassifierV2<T>::~ClassifierV2() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  rec_.drain();  // no reader can be active any more (frees dropped generations)
  for (Rule* r : dead_) pool_.destroy(r, 0);  // unreferenced, in no structure
  std::unordered_set<Rule*> all(limbo_.begin(), limbo_.end());
  index_.for_each([&](Rule* r) { all.insert(r); });
  if (cur_forest_) all.insert(cur_forest_->rules().begin(), cur_forest_->rules().end());
  all.insert(job_.begin(), job_.end());
  for (Delta* d : {delta_, sealed_})
    if (d) d->for_each_rule([&](Rule* r) { all.insert(r); });
  delete delta_;
  delete sealed_;
  delete cur_forest_;
  for (Rule* r : all) pool_.destroy(r, 0);
}

/// Ends r's life in version v: out of the index, into limbo until no
/// reader can see it (its delta generation, if any, keeps it till dropped).
template <class T>
void ClassifierV2<T>::retire_rule(Rule* r, uint64_t v) {
  r->remove_version.store(v, std::memory_order_relaxed);
  // A live rule in an older forest is in the current one too (each
  // snapshot takes every live rule), so a rule outside the current
  // forest (added since its snapshot) is in none: no search.
  const Forest* cur = cur_forest_;
  if (cur && r->forest_pos < cur->rules().size() && cur->rules()[r->forest_pos] == r)
    for (Forest* f : live_forests_) f->mark_removed(r, f == cur ? r->forest_pos : ~0u, v);
  index_.erase(r);
  limbo_.push_back(r);    // takes over the index's reference
  removed_.push_back(r);  // quiesced a grace period after the next run_grace()
}

/// Retires the rules removed and unreferenced since the last call, one
/// callback per batch (a callback per rule cost a std::function and a
/// deque slot each), then runs what is due.  A batch retired later than
/// its updates only waits longer.  The batches' vectors are recycled and
/// the callbacks capture only pointers (kept inside the std::function):
/// moved out whole, the two vectors were re-grown from empty and a
/// callback allocated, about one allocation per update.
template <class T>
void ClassifierV2<T>::run_grace() {
  delta_->retire_nodes();
  if (!removed_.empty()) {
    Batch* b = spare_batch();
    b->swap(removed_);
    rec_.retire([this, b] {
      for (Rule* r : *b) r->quiesced = true;  // no reader can see it any more
      // Out of the current generation's buckets now, not when (if ever)
      // an insert copies them: left in, dead copies piled up to 150 per
      // live rule over a long generation, and readers probed them.
      for (Rule* r : *b) delta_->sweep(r, [this](Rule* q) { unref(q); });
      give_back(b);
    });
  }
  if (!dead_.empty()) {
    Batch* b = spare_batch();
    b->swap(dead_);
    rec_.retire([this, b] {
      for (Rule* r : *b) pool_.destroy(r, 64 + n_rules_ / 8);
      give_back(b);
    });
  }
  rec_.collect();
  compact_limbo();  // what just quiesced; freed a grace period after the next run
}

/// Every rule a reader could still see: the live ones and those removed
/// less than a grace period ago.  Each gets a reference for the forest.
template <class T>
std::vector<typename ClassifierV2<T>::Rule*> ClassifierV2<T>::snapshot() {
  compact_limbo();
  std::vector<Rule*> rs;
  rs.reserve(index_.size() + limbo_.size());
  index_.for_each([&](Rule* r) { rs.push_back(r); });
  rs.insert(rs.end(), limbo_.begin(), limbo_.end());
  for (Rule* r : rs) ++r->refs;
  return rs;
}

template <class T>
void ClassifierV2<T>::maybe_compile() {
  size_t threshold = std::max<size_t>(cfg_.compile_min, n_rules_ / cfg_.compile_fraction);
  if (compiling_ || sealed_ || delta_->size() <= threshold) return;
  // During the pause the worker wakes at its end and calls us itself: no
  // clock read per update (a vDSO call, ~2% of an update).
  if (cfg_.background && paused_) return;
  classify_detail::SplitForestConfig fc = forest_config();
  seal();
  if (!cfg_.background) return install(new Forest(snapshot(), fc));
  compiling_ = true;
  job_ = snapshot();
  job_ready_ = true;
  if (!thread_.joinable()) thread_ = std::thread([this] { worker(); });
  cv_.notify_all();
}

/// Starts a new delta generation; the current one, sealed, is what the
/// snapshot taken next folds.  The new one is published after the sealed
/// one (readers load them in the opposite order), so a reader that sees
/// the new generation also sees the sealed one.
template <class T>
void ClassifierV2<T>::seal() {
  delta_->retire_nodes();  // before drop_sealed() retires the generation's end
  sealed_ = delta_;
  ++sealed_live_;
  delta_ = new Delta(rec_, cfg_.collision_limit);
  sealed_pub_.store(sealed_, std::memory_order_release);
  delta_pub_.store(delta_, std::memory_order_release);
}

/// After a grace period from f's publication (a reader that loaded the old
/// forest may still need the sealed generation) the sealed generation is
/// unpublished; after another it is freed with its rule references.
template <class T>
void ClassifierV2<T>::drop_sealed() {
  Delta* s = sealed_;
  rec_.retire([this, s] {
    sealed_pub_.store(nullptr, std::memory_order_release);
    sealed_ = nullptr;
    rec_.retire([this, s] {
      s->for_each_rule([this](Rule* r) { unref(r); });
      delete s;
      --sealed_live_;
    });
  });
}

/// Publishes f (which holds every rule of the sealed generation a reader
/// could see), then drops the sealed generation and the old forest.
template <class T>
void ClassifierV2<T>::install(Forest* f) {
  for (uint32_t i = 0; i < f->rules().size(); ++i) f->rules()[i]->forest_pos = i;
  Forest* old = cur_forest_;
  cur_forest_ = f;
  f->sync_removals();  // removals made while it was being built
  live_forests_.push_back(f);
  forest_.store(f, std::memory_order_release);
  ++compiles_;
  if (sealed_) drop_sealed();
  if (old)
    rec_.retire([this, old] {
      for (Rule* r : old->rules()) unref(r);
      std::erase(live_forests_, old);
      delete old;
    });
}

template <class T>
void ClassifierV2<T>::worker() {
  std::unique_lock lock(mu_);
  classify_detail::SplitForestConfig fc = forest_config();
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || job_ready_; });
    if (stop_) return;
    std::vector<Rule*> rs = std::move(job_);
    job_.clear();
    job_ready_ = false;
    lock.unlock();
    auto t0 = std::chrono::steady_clock::now();
    double c0 = thread_cpu_seconds();
    auto* f = new Forest(std::move(rs), fc);
    double c1 = thread_cpu_seconds();
    auto t1 = std::chrono::steady_clock::now();
    lock.lock();
    compile_cpu_ += c1 - c0;
    install(f);
    compiling_ = false;
    next_compile_ = t1 + cfg_.compile_pause * (t1 - t0);
    paused_ = true;
    cv_.notify_all();
    // Fold the delta even when no update comes to run the grace periods.
    while (sealed_live_ && !stop_ && !job_ready_) {
      run_grace();
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      lock.lock();
    }
    // Compile what piled up during the pause even if no update comes.
    cv_.wait_until(lock, next_compile_, [&] { return stop_ || job_ready_; });
    paused_ = false;
    if (!stop_ && !job_ready_) maybe_compile();
  }
}

template <class T>
void ClassifierV2<T>::compile_now() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !compiling_; });
  auto settle = [&] {  // until no sealed generation is left
    while (sealed_live_) {
      run_grace();
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
  };
  settle();
  compact_limbo();
  if (delta_->size() > 0 || limbo_.size() > 0) {
    seal();
    install(new Forest(snapshot(), forest_config()));
  }
  settle();
  run_grace();
}

}  // namespace flowpath
