// Packet-in without sockets: a bridge's ControllerSink is a PacketInQueue
// (what OpenFlowService installs for every bridge with a controller).  A
// flow sends UDP to the controller after rewriting the source MAC; the
// datapath's upcall hands the rewritten frame to the queue, never waiting
// on a controller, and the packet is not cached, so each one comes back.
// The event carries the pipeline fields at the controller action (here
// reg6): packet_in_match() is the match an OpenFlow 1.3 packet-in sends.
#include <cstdio>

#include "flowpath/switch/packet_in_queue.hpp"
#include "flowpath/switch/switch.hpp"

int main() {
  using namespace flowpath;
  Switch::Options opt;
  opt.memory_ports = true;
  opt.pmd_cores = {-1};
  Switch sw(SwitchConfig::parse("add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\n"
                                "add-flow br0 priority=5,cookie=0x7,udp "
                                "actions=load:0x2a->NXM_NX_REG6[],mod_dl_src:02:00:00:00:00:cc,"
                                "CONTROLLER:128\n"),
            opt);
  PacketInQueue queue(1024);
  {
    std::lock_guard lock(sw.ofproto().mutex());
    sw.ofproto().require_bridge("br0").set_controller_sink(&queue);
  }
  uint8_t frame[60] = {2,    0,    0,    0, 0, 2,  2, 0, 0, 0, 0,  1,
                       0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17};  // IPv4/UDP, addresses 0
  for (int i = 0; i < 2; ++i) {
    sw.port("p1")->memory()->inject(frame);
    sw.poll_once();
  }
  std::vector<PacketInEvent> got;
  queue.take(got);
  for (const PacketInEvent& ev : got) {
    const Match m = packet_in_match(ev.out);  // what the 1.3 message's match adds to in_port
    std::printf(
        "packet-in: in_port %u table %u cookie 0x%llx, %zu bytes, src %02x:..:%02x, reg6 0x%llx\n",
        ev.out.in_port, ev.out.table_id, (unsigned long long)ev.out.cookie, ev.data.size(),
        ev.data[6], ev.data[11], (unsigned long long)get_field(m.meta_value, reg_field(6)));
  }
  {
    std::lock_guard lock(sw.ofproto().mutex());
    sw.ofproto().require_bridge("br0").set_controller_sink(nullptr);
  }
  return got.size() == 2 && got[0].data[11] == 0xcc && got[0].out.meta.regs[6].host() == 0x2a &&
                 queue.dropped() == 0
             ? 0
             : 1;
}
