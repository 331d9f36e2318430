// tests/support/ofctl_monitor.hpp — what `ovs-ofctl monitor` printed while
// a test drove a switch: the asynchronous messages (packet-ins,
// port-status, flow-removed) as Open vSwitch's own tool renders them.
//
//   std::string text = ofctl_monitored("unix:/tmp/x/br0.mgmt", "-O OpenFlow13",
//                                      65535, 5, [&] { send_frames(); });
//
// Runs `ovs-ofctl OPTS monitor TARGET MISS_LEN` in the background for at
// most `seconds`, waits 0.7 s for it to connect and set miss_send_len,
// runs `script`, then waits (up to 10 s) for the monitor to exit and
// returns its printout (stderr included).  Cost: one ovs-ofctl process
// and `seconds` of wall time.  Thread-safety: as the script.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "support/shell.hpp"

namespace flowpath::test {

template <class F>
std::string ofctl_monitored(const std::string& target, const std::string& opts, int miss_len,
                            int seconds, F script) {
  auto sleep_ms = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  char tmpl[] = "/tmp/fp-ofmon-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  std::string file = tmpl;
  std::system(("(timeout " + std::to_string(seconds) + " ovs-ofctl " + opts + " monitor " + target +
               " " + std::to_string(miss_len) + " 2>&1; echo END) >" + file + " &")
                  .c_str());
  sleep_ms(700);  // connected and miss_send_len set
  script();
  std::string out;
  for (int i = 0; i < 200 && out.find("END") == std::string::npos; ++i) {
    sleep_ms(50);
    out = shell_output("cat " + file);
  }
  unlink(file.c_str());
  return out;
}

}  // namespace flowpath::test
