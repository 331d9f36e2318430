// Invalidation by dependency: a rule change drops only the cached flows
// whose lookups it overlaps; the others stay cached (docs/datapath.md,
// "Correct under change").
#include <cstdio>
#include <vector>

#include "flowpath/datapath/datapath.hpp"
#include "flowpath/datapath/table_upcall.hpp"

struct CountingSink {
  unsigned outputs = 0, drops = 0;
  void output(uint32_t, flowpath::Packet&, bool) { ++outputs; }
  void drop(flowpath::Packet&) { ++drops; }
};

int main() {
  using namespace flowpath;
  TableUpcall<> table;  // journals its changes, reports each upcall's lookups
  auto rule = [](uint32_t port) {
    FlowKey v;
    FlowMask m;
    v.in_port = port;
    m.in_port = 0xffffffffu;
    return Match(v, m);
  };
  table.add_flow(rule(1), 10, {DpAction::output(3)});
  table.add_flow(rule(2), 10, {DpAction::output(4)});
  Datapath<TableUpcall<>> dp(table);  // Invalidation::kIndexed by default

  std::vector<uint8_t> frame(64, 0);
  frame[12] = 0x88, frame[13] = 0xb5;  // a local experimental EtherType
  CountingSink sink;
  auto send = [&](uint32_t port) {
    PacketBuffer b(frame, port);
    Batch batch;
    batch.push(&b.packet());
    dp.process(batch, sink);
  };
  send(1), send(2);                                    // two upcalls, two megaflows
  table.add_flow(rule(1), 20, {DpAction::output(5)});  // touches port 1's flow only
  send(1), send(2);                                    // port 1: upcall; port 2: cached
  std::printf("upcalls %llu, megaflows removed %llu, changes applied %llu\n",
              (unsigned long long)dp.stats().upcall_ok,
              (unsigned long long)dp.stats().revalidated_out,
              (unsigned long long)dp.stats().changes);
  bool ok = dp.stats().upcall_ok == 3 && dp.stats().revalidated_out == 1 && sink.outputs == 4;
  return ok ? 0 : 1;
}
