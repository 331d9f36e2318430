// Epoch-based reclamation: retired callbacks never run while a reader that
// could see the object is inside a guard, and do run once readers leave.
#include "flowpath/classify/epoch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

namespace flowpath::rcu {
namespace epoch_test {

// A callback retired while a reader on another thread is inside its read
// section must not run until the reader has left it.  reader(hold) enters
// its section (its guards) and calls hold(), which returns once the
// callback was retired and collected ten times.
void expect_reader_holds_back_collect(
    const std::function<void(const std::function<void()>&)>& reader) {
  Reclaimer rec;
  std::atomic<int> phase{0};
  std::thread t([&] {
    reader([&] {
      phase = 1;
      while (phase.load() != 2) std::this_thread::yield();
    });
  });
  while (phase.load() != 1) std::this_thread::yield();
  bool freed = false;
  rec.retire([&] { freed = true; });
  for (int i = 0; i < 10; ++i) rec.collect();
  EXPECT_FALSE(freed) << "ran while a reader was inside its guard";
  phase = 2;
  t.join();
  for (int i = 0; i < 4 && !freed; ++i) rec.collect();
  EXPECT_TRUE(freed);
  EXPECT_EQ(rec.pending(), 0u);
}

TEST(Epoch, CollectWaitsForActiveReader) {
  expect_reader_holds_back_collect([](const std::function<void()>& hold) {
    ReadGuard outer;
    {
      ReadGuard nested;  // nesting is free and keeps the outer section
    }
    hold();
  });
}

// A thread's record is registered on its first guard and released when it
// exits: threads one after another reuse one record, and a new thread's
// guard still holds back a collect().
TEST(Epoch, ExitedThreadsReleaseTheirRecordsAndNewThreadsRegister) {
  { ReadGuard g; }  // this thread's record, before counting
  auto& dom = Domain::global();
  size_t before = dom.n_records();
  for (int i = 0; i < 20; ++i) std::thread([] { ReadGuard g; }).join();
  EXPECT_LE(dom.n_records(), before + 1) << "a record per exited thread";
  expect_reader_holds_back_collect([](const std::function<void()>& hold) {
    ReadGuard g;
    hold();
  });
}

TEST(Epoch, CallbacksMayRetireMoreAndDrainRunsAll) {
  Reclaimer rec;
  int runs = 0;
  rec.retire([&] {
    ++runs;
    rec.retire([&] { ++runs; });
  });
  for (int i = 0; i < 8; ++i) rec.collect();
  EXPECT_EQ(runs, 2);
  rec.retire([&] { ++runs; });
  rec.drain();
  EXPECT_EQ(runs, 3);
}

}  // namespace epoch_test
}  // namespace flowpath::rcu
