// An idle PMD with a sleep bound (Options::pmd_max_sleep_us, Open vSwitch's
// pmd-maxsleep) must really sleep: after kParkAfterPolls empty passes it
// parks, and each wake-up that finds nothing costs one pass, not another
// kParkAfterPolls.  Counted in passes per park, not timed: the figure does
// not depend on the machine's speed.  Needs a port with an fd to sleep on:
// an internal (TAP) port, so root; skipped without it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "flowpath/switch/switch.hpp"

namespace flowpath {
namespace pmd_sleep_test {

TEST(PmdSleep, AnIdlePmdMakesAboutOnePassPerWakeUp) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create a TAP device";
  const std::string tap = "fpk" + std::to_string(getpid() % 100000);
  SwitchConfig cfg =
      SwitchConfig::parse("add-br " + tap + "b\nadd-port " + tap + "b " + tap + " type=internal\n");
  Switch::Options o;
  o.pmd_cores = {-1};
  o.pmd_max_sleep_us = 1000;
  std::unique_ptr<Switch> sw;
  try {
    sw = std::make_unique<Switch>(cfg, o);
  } catch (const Error& e) {
    GTEST_SKIP() << "cannot open a TAP port here: " << e.what();
  }
  sw->start();
  Pmd& pmd = sw->pmd(0);
  auto received = [&] {  // frames the kernel sent on its own (IPv6 ND, MLD)
    std::lock_guard lock(pmd.mutex());
    uint64_t n = 0;
    for (SwitchPort* p : sw->ports()) n += p->stats().rx;  // the bridge's LOCAL too
    return n;
  };
  // Idle from the start: the first kParkAfterPolls passes are busy, then
  // it sleeps up to 1 ms at a time.  Wait for a few dozen sleeps.
  for (int i = 0; i < 2000 && pmd.parks() < 50; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const uint64_t passes0 = pmd.passes(), parks0 = pmd.parks(), rx0 = received();
  for (int i = 0; i < 2000 && pmd.parks() < parks0 + 100; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const uint64_t passes = pmd.passes() - passes0, parks = pmd.parks() - parks0;
  const uint64_t rx = received() - rx0;
  sw->stop();
  ASSERT_GE(parks, 100u) << "the idle PMD did not sleep";
  // One pass per wake-up, some slack, and a busy spell of kParkAfterPolls
  // passes after each frame received (the kernel's own IPv6 traffic on a
  // fresh TAP).  Before the fix: kParkAfterPolls passes per sleep.
  EXPECT_LE(passes, 4 * parks + Pmd::kParkAfterPolls * rx)
      << passes << " passes for " << parks << " sleeps, " << rx << " frames received";
}

}  // namespace pmd_sleep_test
}  // namespace flowpath
