// flowpath/conntrack/conn_pool.hpp — fixed-size object pool for connection
// entries, carved from 2 MiB chunks.
//
// Why: at a million new connections a second malloc's bookkeeping shows;
// entries freed by expiry are reused (LIFO) before any new object is carved,
// and carving walks the chunks in address order.  (Transparent huge pages were measured
// slower here, twice: with defrag=madvise a fresh 1M fill took ~3x the CPU.)  Chunks are kept until
// the pool dies, so memory stays at the peak number of entries (bounded by Conntrack's max_conns).
// Cost: alloc/free = one uncontended lock and a pointer swap (plus a prefetch of the next free
// object). Thread-safety: alloc/free from any thread.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "flowpath/conntrack/spin_lock.hpp"

namespace flowpath::ct {

class ObjectPool {
 public:
  static constexpr size_t kChunk = size_t(2) << 20;

  explicit ObjectPool(size_t object_size) : size_((object_size + 63) & ~size_t(63)) {}
  ~ObjectPool() {
    for (void* c : chunks_) munmap(c, kChunk);
  }
  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;

  /// Uninitialised storage for one object; throws std::bad_alloc.
  void* alloc() {
    lock_.lock();
    void* p = free_;
    if (free_) {
      free_ = free_->next;
      // The next object is cold (entries freed by expiry come back in
      // table order, i.e. at random): start loading it for writing now, so
      // the next alloc's pop and its constructor do not wait.
      if (Free* n = free_)
        for (size_t off = 0; off < size_; off += 64)
          __builtin_prefetch(reinterpret_cast<char*>(n) + off, 1);
    } else {
      if (size_t(bump_end_ - bump_) < size_ && !next_chunk()) {
        lock_.unlock();
        throw std::bad_alloc();
      }
      p = bump_;
      bump_ += size_;
    }
    ++live_;
    lock_.unlock();
    return p;
  }
  void free(void* p) noexcept {
    lock_.lock();
    auto* f = static_cast<Free*>(p);
    f->next = free_;
    free_ = f;
    if (--live_ == 0) restart();
    lock_.unlock();
  }

  /// Bytes of the chunks taken so far (they are kept until the pool dies).
  size_t bytes() const noexcept { return n_chunks_.load(std::memory_order_relaxed) * kChunk; }
  /// Objects one chunk holds.
  size_t per_chunk() const noexcept { return kChunk / size_; }

 private:
  struct Free {
    Free* next;
  };
  // Objects are carved in address order from the chunks (a bump pointer);
  // freed ones go to a LIFO list that alloc prefers.  When every object is
  // free again (a flush, or a table that drained) carving restarts at the
  // first chunk, so a refill walks memory in order instead of at random.
  void restart() noexcept {
    free_ = nullptr;
    chunk_ = 0;
    bump_ = bump_end_ = nullptr;
    if (!chunks_.empty()) {
      bump_ = static_cast<char*>(chunks_[0]);
      bump_end_ = bump_ + kChunk / size_ * size_;
    }
  }
  bool next_chunk() {
    if (bump_ && chunk_ + 1 < chunks_.size()) {
      ++chunk_;
    } else {
      // MAP_POPULATE maps the whole chunk in one call instead of one page
      // fault per 4 KiB (~15 entries) on first touch.
      void* c = mmap(nullptr, kChunk, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (c == MAP_FAILED) return false;
      chunks_.push_back(c);
      n_chunks_.store(chunks_.size(), std::memory_order_relaxed);
      chunk_ = chunks_.size() - 1;
    }
    bump_ = static_cast<char*>(chunks_[chunk_]);
    bump_end_ = bump_ + kChunk / size_ * size_;
    return true;
  }

  size_t size_;
  SpinLock lock_;
  Free* free_ = nullptr;
  char* bump_ = nullptr;  // next uncarved object of chunks_[chunk_]
  char* bump_end_ = nullptr;
  size_t chunk_ = 0;
  size_t live_ = 0;  // objects handed out and not freed
  std::vector<void*> chunks_;
  std::atomic<size_t> n_chunks_{0};  // chunks_.size(), readable without the lock
};

}  // namespace flowpath::ct
