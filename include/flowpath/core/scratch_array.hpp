// flowpath/core/scratch_array.hpp — a hot function's scratch array that
// initialises only what a call needs.
//
//   ScratchArray<CtResult, kBatchSize> res;   // nothing initialised
//   tracker.execute(pkts, p, now, res.data()); // a callee that writes each entry whole
//   Extracted* x = xs.construct(0, n);        // or: entries [0, n) value-initialised
//
// `T a[32];` of a type with default member initialisers initialises all 32
// on every call.  In the datapath's per-batch stages that was a fixed cost
// of 70-330 instructions a call (the tracker's 33 extracted keys, the ct()
// results, each pass's plans): little at batches of 32, a tenth of the
// firewall's work at the 4-packet batches of a PMD that keeps up with its
// traffic (docs/datapath.md, "Cost").  An entry neither constructed nor
// written whole by a callee must not be read.  T is trivially copyable and
// destructible (an aggregate of plain fields: its objects begin in the
// storage when written, and nothing is destroyed).
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

namespace flowpath {

template <class T, size_t N>
class ScratchArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  ScratchArray() noexcept {}  // initialises nothing
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;

  /// Value-initialises entries [first, first + n) (as `T x{};`), returns &[first].
  T* construct(size_t first, size_t n) noexcept(std::is_nothrow_default_constructible_v<T>) {
    return std::uninitialized_value_construct_n(data() + first, n), data() + first;
  }
  /// The storage, for a callee that writes each entry it is given whole.
  T* data() noexcept { return reinterpret_cast<T*>(raw_); }
  T& operator[](size_t i) noexcept { return data()[i]; }
  static constexpr size_t size() noexcept { return N; }

 private:
  alignas(T) std::byte raw_[N * sizeof(T)];
};

}  // namespace flowpath
