// ObjectPool: objects carved in address order, freed ones reused LIFO,
// carving restarts at the first chunk once every object is free, chunks
// are kept (memory stays at the peak) and counted by bytes().
#include "flowpath/conntrack/conn_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace flowpath::ct {
namespace conn_pool_test {

TEST(ConnPool, CarvesInAddressOrderWithinAChunk) {
  ObjectPool pool(200);  // rounded up to 256
  EXPECT_EQ(pool.bytes(), 0u);
  char* first = static_cast<char*>(pool.alloc());
  EXPECT_EQ(pool.bytes(), ObjectPool::kChunk);
  for (int i = 1; i < 100; ++i) EXPECT_EQ(static_cast<char*>(pool.alloc()), first + 256 * i);
  EXPECT_EQ(pool.per_chunk(), ObjectPool::kChunk / 256);
}

TEST(ConnPool, ReusesFreedObjectsLastInFirstOut) {
  ObjectPool pool(64);
  void* a = pool.alloc();
  void* b = pool.alloc();
  void* c = pool.alloc();
  pool.free(a);
  pool.free(c);
  EXPECT_EQ(pool.alloc(), c);
  EXPECT_EQ(pool.alloc(), a);
  (void)b;
}

TEST(ConnPool, RestartsAtTheFirstChunkWhenEmptyAndKeepsItsChunks) {
  ObjectPool pool(1024);
  const size_t n = pool.per_chunk() * 2 + 5;  // three chunks
  std::vector<void*> v;
  for (size_t i = 0; i < n; ++i) v.push_back(pool.alloc());
  EXPECT_EQ(pool.bytes(), 3 * ObjectPool::kChunk);
  EXPECT_EQ(std::set<void*>(v.begin(), v.end()).size(), n);
  ASSERT_NE(n % 7919, 0u);
  for (size_t i = 0; i < n; ++i) pool.free(v[(i * 7919) % n]);  // all, scrambled (7919 is prime)
  // Empty again: carving starts over at the first object, in order, and
  // refilling to the same peak takes no new chunk.
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(pool.alloc(), v[i]) << i;
  EXPECT_EQ(pool.bytes(), 3 * ObjectPool::kChunk);
  // The third chunk's rest is carved next; one object beyond takes a fourth.
  for (size_t i = n; i < 3 * pool.per_chunk(); ++i) pool.alloc();
  EXPECT_EQ(pool.bytes(), 3 * ObjectPool::kChunk);
  pool.alloc();
  EXPECT_EQ(pool.bytes(), 4 * ObjectPool::kChunk);
}

TEST(ConnPool, APartlyFreePoolHandsOutFreedObjectsBeforeCarving) {
  ObjectPool pool(128);
  std::vector<void*> v;
  for (int i = 0; i < 10; ++i) v.push_back(pool.alloc());
  pool.free(v[3]);
  EXPECT_EQ(pool.alloc(), v[3]);
  EXPECT_EQ(static_cast<char*>(pool.alloc()), static_cast<char*>(v[9]) + 128);
}

}  // namespace conn_pool_test
}  // namespace flowpath::ct
