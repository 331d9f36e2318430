// TupleTable: nodes are found after inserts, replacements, removals and
// growth (the per-slot-array Bloom filter never hides a node), absent keys
// are not, and a concurrent reader finds every node published before the
// count it read while the writer inserts, grows and removes.
#include "flowpath/classify/tuple_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace flowpath::classify_detail {
namespace tuple_table_test {

struct NoRule {};  // locate() is never instantiated: nodes hold no rules here
using Table = TupleTable<NoRule>;

FlowMask two_words() {
  FlowMask m{};
  m.nw_src = Be32{~0u};
  m.nw_dst = Be32{~0u};
  return m;
}
FlowKey key_of(uint32_t i) {
  FlowKey k{};
  k.nw_src = Be32{0xc0000200u + (i & 0xff)};  // 192.0.2.x
  k.nw_dst = Be32{i * 2654435761u};
  return k;
}
const Table::Node* probe(const Table& t, uint32_t i) {
  uint64_t kw[FlowKey::kWords];
  uint64_t h = t.extract(key_of(i), kw);
  return t.find(h, kw);
}
void add(Table& t, rcu::Reclaimer& rec, uint32_t i) {
  uint64_t kw[FlowKey::kWords];
  uint64_t h = t.extract(key_of(i), kw);
  t.put(h, t.find(h, kw), t.make_node(h, kw, nullptr, 0), rec);
}
void erase(Table& t, rcu::Reclaimer& rec, uint32_t i) {
  uint64_t kw[FlowKey::kWords];
  uint64_t h = t.extract(key_of(i), kw);
  t.put(h, t.find(h, kw), nullptr, rec);
}

TEST(TupleTable, FindsEveryLiveNodeAcrossGrowthAndTombstones) {
  rcu::Reclaimer rec;
  Table t(two_words());
  constexpr uint32_t kN = 20000;
  for (uint32_t i = 0; i < kN; ++i) add(t, rec, i);
  for (uint32_t i = 0; i < kN; i += 3) add(t, rec, i);  // replace: same node key
  for (uint32_t i = 1; i < kN; i += 2) erase(t, rec, i);
  for (uint32_t i = kN; i < kN + 5000; ++i) add(t, rec, i);  // grows over tombstones
  size_t live = 0;
  for (uint32_t i = 0; i < kN + 5000; ++i) {
    bool want = i >= kN || i % 2 == 0;
    const auto* n = probe(t, i);
    ASSERT_EQ(n != nullptr, want) << "key " << i;
    live += want;
  }
  EXPECT_EQ(t.n_nodes(), live);
  for (uint32_t i = kN + 5000; i < kN + 50000; ++i) ASSERT_EQ(probe(t, i), nullptr) << i;
  rec.drain();
}

TEST(TupleTable, ConcurrentReaderNeverMissesAPublishedNode) {
  // The writer inserts key i, then publishes count = i + 1 (release), as
  // the classifiers publish a version after linking; it removes keys far
  // behind the count so tombstones and growth rebuild the filter while the
  // reader runs.  The reader acquires the count and probes keys below it
  // that are not yet removed.
  rcu::Reclaimer rec;
  Table t(two_words());
  constexpr uint32_t kN = 60000, kLag = 20000;
  std::atomic<uint32_t> count{0}, removed_below{0};
  std::atomic<long> misses{0}, probes{0};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    uint32_t j = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      rcu::ReadGuard guard;
      uint32_t lo = removed_below.load(std::memory_order_acquire);
      uint32_t hi = count.load(std::memory_order_acquire);
      if (hi <= lo) continue;
      // Keys in [lo, hi): published, not removed when we looked.
      uint32_t i = lo + j++ % (hi - lo);
      // A miss counts unless the writer removed i meanwhile (it raises
      // removed_below before it erases, and the erase is a release store).
      if (!probe(t, i) && i >= removed_below.load(std::memory_order_acquire)) misses.fetch_add(1);
      probes.fetch_add(1, std::memory_order_relaxed);
    }
  });
  for (uint32_t i = 0; i < kN || probes.load() < 100000; ++i) {
    if (i >= 4 * kN) break;
    add(t, rec, i);
    count.store(i + 1, std::memory_order_release);
    if (i >= kLag) {
      uint32_t r = i - kLag;
      removed_below.store(r + 1, std::memory_order_release);
      erase(t, rec, r);
    }
    if (i % 64 == 0) rec.collect();
  }
  stop = true;
  reader.join();
  EXPECT_EQ(misses.load(), 0);
  EXPECT_GT(probes.load(), 0);
  rec.drain();
}

}  // namespace tuple_table_test
}  // namespace flowpath::classify_detail
