// flowpath/classify/huge_pages.hpp — storage for the classifier's large
// read-mostly arrays (the forest's nodes and leaf entries, its rule slots,
// the bit index's rows) on transparent huge pages where the kernel gives
// them.
//
// Design.  A lookup walks a few MB to tens of MB at random (acl1_100k:
// ~10 MB of forest); on 4 KiB pages nearly every cache miss of that walk
// is also a TLB miss.  An allocation of at least kHugeMin bytes is its own
// anonymous mapping starting on a 2 MiB boundary and madvise(MADV_HUGEPAGE)d,
// so with THP in "madvise" (or "always") mode the kernel backs it with
// 2 MiB pages.  Its length is whole 4 KiB pages, rounded up to a whole
// 2 MiB page when the last 2 MiB holds at least half of one (so a huge
// page covers it; the cost, under 1 MiB per array, shows in RSS, not in
// memory_bytes()).  Smaller allocations use operator new (64-byte
// aligned).  No root, no hugetlbfs: when THP is off or madvise fails the
// mapping simply stays on 4 KiB pages (the advice is a hint; nothing
// else changes).
//
// Cost: one mmap (+ up to two munmap trims and a madvise) per large
// allocation and one munmap per free; huge page faults zero 2 MiB at a
// time (the same bytes a 4 KiB-page array would zero when touched).
// Thread-safety: allocate/free from any thread; huge_madvise is a test
// hook, set it only while no allocation runs.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace flowpath::classify_detail {

inline constexpr size_t kHugePage = size_t{2} << 20;
inline constexpr size_t kHugeMin = size_t{1} << 20;  // smaller: operator new
inline constexpr size_t kSmallPage = 4096;

/// The madvise a large allocation calls (tests inject a failing one to
/// check the 4 KiB fallback).
inline int (*huge_madvise)(void*, size_t, int) = ::madvise;

/// Large allocations live now and how many of them madvise accepted.
struct HugeCounts {
  std::atomic<size_t> live{0}, advised{0}, refused{0};
};
inline HugeCounts huge_counts;

/// The length mapped for `bytes` (>= kHugeMin).
constexpr size_t huge_length(size_t bytes) noexcept {
  size_t len = (bytes + kSmallPage - 1) / kSmallPage * kSmallPage;
  size_t tail = len % kHugePage;
  if (tail >= kHugePage / 2) len += kHugePage - tail;
  return len;
}

inline void* huge_allocate(size_t bytes) {
  if (bytes < kHugeMin) return ::operator new (bytes, std::align_val_t{64});
  size_t len = huge_length(bytes);
  size_t span = len + kHugePage - kSmallPage;  // room to start on a 2 MiB boundary
  void* m = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  auto base = reinterpret_cast<uintptr_t>(m);
  uintptr_t at = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (at > base) ::munmap(m, at - base);
  if (base + span > at + len) ::munmap(reinterpret_cast<void*>(at + len), base + span - at - len);
  void* p = reinterpret_cast<void*>(at);
  huge_counts.live.fetch_add(1, std::memory_order_relaxed);
  if (huge_madvise(p, len, MADV_HUGEPAGE) == 0)
    huge_counts.advised.fetch_add(1, std::memory_order_relaxed);
  else
    huge_counts.refused.fetch_add(1, std::memory_order_relaxed);  // stays on 4 KiB pages
  return p;
}

inline void huge_deallocate(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes < kHugeMin) return ::operator delete (p, std::align_val_t{64});
  ::munmap(p, huge_length(bytes));
  huge_counts.live.fetch_sub(1, std::memory_order_relaxed);
}

/// A std allocator over huge_allocate (64-byte aligned at least).
template <class T>
struct HugeAllocator {
  using value_type = T;
  HugeAllocator() noexcept = default;
  template <class U>
  HugeAllocator(const HugeAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(huge_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { huge_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const HugeAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using HugeVector = std::vector<T, HugeAllocator<T>>;

/// Frees what huge_array made: destroys n objects, then the storage.
template <class T>
struct HugeArrayFree {
  size_t n = 0;
  void operator()(T* p) const noexcept {
    if (!p) return;
    for (size_t i = 0; i < n; ++i) p[i].~T();
    huge_deallocate(p, n * sizeof(T));
  }
};
template <class T>
using HugeArray = std::unique_ptr<T[], HugeArrayFree<T>>;

/// n value-initialised T (for types a vector cannot hold, e.g. with atomics).
template <class T>
HugeArray<T> huge_array(size_t n) {
  static_assert(alignof(T) <= 64);
  static_assert(std::is_nothrow_default_constructible_v<T>);
  T* p = static_cast<T*>(huge_allocate(n ? n * sizeof(T) : 1));
  for (size_t i = 0; i < n; ++i) new (p + i) T();
  return HugeArray<T>(p, HugeArrayFree<T>{n});
}
/// n T left uninitialised (trivial types the caller writes whole).
template <class T>
HugeArray<T> huge_array_for_overwrite(size_t n) {
  static_assert(std::is_trivially_default_constructible_v<T> && alignof(T) <= 64);
  return HugeArray<T>(static_cast<T*>(huge_allocate(n ? n * sizeof(T) : 1)), HugeArrayFree<T>{n});
}

}  // namespace flowpath::classify_detail
