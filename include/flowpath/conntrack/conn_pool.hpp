// flowpath/conntrack/conn_pool.hpp — fixed-size object pool for connection
// entries, carved from 2 MiB chunks.
//
// Why: at a million new connections a second malloc's bookkeeping shows;
// entries freed by expiry are reused (LIFO, cache-warm) before any new chunk
// is taken.  (Asking for transparent huge pages was measured slower here:
// with defrag=madvise every fault may compact memory.)  Chunks are kept until the pool dies, so
// memory stays at the peak number of entries (bounded by Conntrack's max_conns). Cost: alloc/free =
// one uncontended lock and a pointer swap. Thread-safety: alloc/free from any thread.
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
    if (!free_ && !refill()) {
      lock_.unlock();
      throw std::bad_alloc();
    }
    Free* f = free_;
    free_ = f->next;
    lock_.unlock();
    return f;
  }
  /// Bytes of the chunks taken so far (they are kept until the pool dies).
  size_t bytes() const noexcept { return n_chunks_.load(std::memory_order_relaxed) * kChunk; }
  /// Objects one chunk holds.
  size_t per_chunk() const noexcept { return kChunk / size_; }
  void free(void* p) noexcept {
    lock_.lock();
    auto* f = static_cast<Free*>(p);
    f->next = free_;
    free_ = f;
    lock_.unlock();
  }

 private:
  struct Free {
    Free* next;
  };
  bool refill() {
    // MAP_POPULATE maps the whole chunk in one call instead of one page
    // fault per 4 KiB (~15 entries) on first touch.
    void* c = mmap(nullptr, kChunk, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (c == MAP_FAILED) return false;
    chunks_.push_back(c);
    n_chunks_.store(chunks_.size(), std::memory_order_relaxed);
    auto* base = static_cast<char*>(c);
    for (size_t off = kChunk / size_ * size_; off >= size_; off -= size_) {
      auto* f = reinterpret_cast<Free*>(base + off - size_);
      f->next = free_;
      free_ = f;
    }
    return true;
  }

  size_t size_;
  SpinLock lock_;
  Free* free_ = nullptr;
  std::vector<void*> chunks_;
  std::atomic<size_t> n_chunks_{0};  // chunks_.size(), readable without the lock
};

}  // namespace flowpath::ct
