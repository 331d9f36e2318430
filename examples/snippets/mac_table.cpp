// Learns two hosts, ages one out with a manual clock, prints fdb/show.
#include <cstdio>
#include <flowpath/l2/mac_table.hpp>

using namespace flowpath;

int main() {
  ManualClock clock;
  MacTable fdb({.capacity = 8192, .aging_ms = 300'000}, &clock);
  EthAddr vm1{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
  EthAddr vm2{{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}};

  fdb.learn(1, vm1, 1);
  clock.advance_s(200);
  fdb.learn(1, vm2, 2);
  uint64_t gen = fdb.generation();
  if (fdb.learn(1, vm2, 3) != LearnResult::kMoved || fdb.generation() == gen) return 1;

  std::fputs(fdb.show([](uint32_t p) { return std::to_string(p); }).c_str(), stdout);
  clock.advance_s(100);  // vm1 is now 300 s old: aged out
  if (fdb.lookup(1, vm1) || fdb.lookup(1, vm2) != 3u) return 1;
  return fdb.expire() == 1 && fdb.size() == 1 ? 0 : 1;
}
