// Live reconfiguration: apply() a changed configuration to a running
// switch.  p3 moves from VLAN 2 to VLAN 1 in place, p4 comes, and a port
// of a type the switch cannot open is an error for it alone.
#include <cstdio>

#include "flowpath/switch/switch.hpp"

int main() {
  using namespace flowpath;
  Switch::Options opt;
  opt.memory_ports = true;  // real use: AF_XDP and TAP ports
  opt.pmd_cores = {-1};
  Switch sw(SwitchConfig::parse("add-br br0\nadd-port br0 p1 tag=1\nadd-port br0 p3 tag=2\n"
                                "add-flow br0 priority=0 actions=NORMAL\n"),
            opt);
  ApplyResult r = sw.apply(SwitchConfig::parse(
      "add-br br0\nadd-port br0 p1 tag=1\nadd-port br0 p3 tag=1\nadd-port br0 p4 tag=1\n"
      "add-port br0 cap type=pcap\nadd-flow br0 priority=0 actions=NORMAL\n"));
  for (const auto& e : r.errors) std::printf("error: %s\n", e.message.c_str());
  std::printf("in effect at generation %llu\n", (unsigned long long)r.generation);
  uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  sw.port("p1")->memory()->inject(frame);
  sw.poll_once();
  std::printf("%s", sw.dpctl_show().c_str());
  bool ok =
      r.errors.size() == 1 && sw.port("p3")->stats().tx == 1 && sw.port("p4")->stats().tx == 1;
  return ok ? 0 : 1;
}
