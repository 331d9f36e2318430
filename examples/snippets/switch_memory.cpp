// The switch runtime with memory ports: no interfaces, no root, no threads.
// A broadcast from p1 floods VLAN 1; the answer from p2 goes back unicast.
#include <cstdio>

#include "flowpath/switch/switch.hpp"

int main() {
  using namespace flowpath;
  Switch::Options opt;
  opt.memory_ports = true;  // real use: AF_XDP and TAP ports from the config
  opt.pmd_cores = {-1};     // one PMD, not pinned
  Switch sw(SwitchConfig::parse("add-br br0\n"
                                "add-port br0 p1 tag=1\n"
                                "add-port br0 p2 tag=1\n"
                                "add-port br0 p3 tag=2\n"
                                "add-flow br0 priority=1 actions=NORMAL\n"),
            opt);
  uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  sw.port("p1")->memory()->inject(frame);
  sw.poll_once();  // a PMD thread does this in a loop (sw.start())
  uint8_t reply[60] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06};
  sw.port("p2")->memory()->inject(reply);
  sw.poll_once();
  std::printf("%s", sw.dpctl_show().c_str());
  bool ok = sw.port("p2")->stats().tx == 1 && sw.port("p3")->stats().tx == 0 &&
            sw.port("p1")->stats().tx == 1;
  return ok ? 0 : 1;
}
