// flowpath/classify/cache_size.hpp — the size of this CPU's L2 cache, for
// the classifier's defaults that depend on it (ClassifierV2Config::
// batch_trees_max_bytes: batches walk the forest's trees up to
// kBatchTreesPerL2 L2s of them; docs/classifier.md, seventeenth round).
//
// Design.  glibc reports the cache sizes through sysconf
// (_SC_LEVEL2_CACHE_SIZE, from CPUID); elsewhere, or when it reports 0 or
// -1 (some virtual machines, some architectures), the caller's fallback
// stands.  Read once per process: the answer does not change.
// Cost: one sysconf on first use.  Thread-safety: any thread.
#pragma once

#include <unistd.h>

#include <cstddef>

namespace flowpath::classify_detail {

inline constexpr size_t kL2Fallback = size_t{1} << 20;  // a common L2 per core (Zen 4: 1 MiB)

/// Batches of 32 keys walk the trees in lock step, so the misses of one
/// key's walk overlap the others': trees several times the L2 still cost a
/// batch less than the bit index's sparse parts (measured at 1, 2.2 and 5
/// L2s of trees, docs/classifier.md).  A setting, not a fit.
inline constexpr size_t kBatchTreesPerL2 = 8;

/// `reported` when it is a plausible size (positive), else `fallback`.
constexpr size_t cache_bytes_or(long reported, size_t fallback) noexcept {
  return reported > 0 ? static_cast<size_t>(reported) : fallback;
}

/// The L2's size in bytes as the system reports it, else kL2Fallback.
inline size_t l2_cache_bytes() noexcept {
#ifdef _SC_LEVEL2_CACHE_SIZE
  static const size_t bytes = cache_bytes_or(sysconf(_SC_LEVEL2_CACHE_SIZE), kL2Fallback);
  return bytes;
#else
  return kL2Fallback;
#endif
}

/// The default of ClassifierV2Config::batch_trees_max_bytes.
inline size_t batch_trees_default_bytes() noexcept { return kBatchTreesPerL2 * l2_cache_bytes(); }

}  // namespace flowpath::classify_detail
