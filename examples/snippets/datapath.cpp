// The datapath fast path in a few lines: a one-rule table as the slow
// path, a batch of packets, a sink, and OVS-style show output.
#include "flowpath/datapath/datapath.hpp"

#include <cstdio>
#include <vector>

#include "flowpath/datapath/table_upcall.hpp"

struct CountingSink {  // an ActionSink: the datapath's output
  unsigned outputs = 0, drops = 0;
  void output(uint32_t /*port*/, flowpath::Packet&, bool /*last*/) { ++outputs; }
  void drop(flowpath::Packet&) { ++drops; }
};

int main() {
  using namespace flowpath;
  // Slow path: everything from port 1 gets VLAN 1000 and goes to port 3.
  TableUpcall<> table;
  FlowKey v;
  FlowMask m;
  v.in_port = 1;
  m.in_port = 0xffffffffu;
  table.add_flow(Match(v, m), 10, {DpAction::push_vlan(0x8100, 1000), DpAction::output(3)});

  Datapath<TableUpcall<>> dp(table);
  // A minimal Ethernet/IPv4 frame, 64 bytes.
  std::vector<uint8_t> frame(64, 0);
  const uint8_t hdr[] = {2,  0, 0, 0, 0, 2,  2,  0, 0, 0,   0, 1, 0x08, 0x00, 0x45, 0, 0,
                         50, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1,    192,  0,    2, 2};
  std::copy(std::begin(hdr), std::end(hdr), frame.begin());

  CountingSink sink;
  for (int round = 0; round < 3; ++round) {
    std::vector<PacketBuffer> bufs(8, PacketBuffer(frame, 1));
    Batch batch;
    for (auto& b : bufs) batch.push(&b.packet());
    dp.process(batch, sink);  // upcall once, then megaflow/EMC hits
  }
  std::fputs(dp.pmd_stats_show().c_str(), stdout);
  std::fputs(dp.dpctl_dump_flows().c_str(), stdout);
  bool ok = sink.outputs == 24 && dp.stats().upcall_ok == 1 && dp.megaflows().size() == 1;
  return ok ? 0 : 1;
}
