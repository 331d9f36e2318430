// Runs `output:1, mod_vlan_vid:1000, output:2` over a group of two frames:
// port 1 gets them untagged (copied), port 2 tagged with VLAN 1000.
#include <cstdio>
#include <flowpath/action/executor.hpp>
#include <vector>

using namespace flowpath;

struct PrintSink {
  int finals = 0;
  void output(uint32_t port, Packet& p, bool last) {
    std::printf("port %u: %u bytes%s\n", port, p.size(), last ? " (final)" : " (copy)");
    finals += last;
  }
  void drop(Packet&) { ++finals; }
};

int main() {
  std::vector<uint8_t> frame(60, 0);
  frame[12] = 0x08;  // IPv4 ethertype; the rest does not matter here
  PacketBuffer a(frame), b(frame);
  Packet* group[] = {&a.packet(), &b.packet()};

  DpActionList actions = {DpAction::output(1), DpAction::set_vlan_vid(1000), DpAction::output(2)};
  PrintSink sink;
  ActionExecutor<PrintSink> exec(sink);
  exec.run(actions, group);

  bool tagged =
      a->size() == 64 && a->data()[12] == 0x81 && (load_be16(a->data() + 14) & 0xfff) == 1000;
  return (sink.finals == 2 && tagged && exec.stats().outputs == 4) ? 0 : 1;
}
