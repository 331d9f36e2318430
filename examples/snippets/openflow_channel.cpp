// The OpenFlow channel of a switch: the sans-I/O Connection over a memory
// port switch's bridge.  A controller's hello and flow-mod (bytes, as
// ovs-ofctl would send them) change the bridge's flow table; the next
// frame is forwarded by it.  `flowpath switch` runs the same through
// OpenFlowService and sockets (set-controller br0 punix:PATH).
#include <cstdio>

#include "flowpath/openflow/connection.hpp"
#include "flowpath/switch/openflow_backend.hpp"

int main() {
  using namespace flowpath;
  namespace of = flowpath::openflow;
  Switch::Options opt;
  opt.memory_ports = true;
  opt.pmd_cores = {-1};
  Switch sw(SwitchConfig::parse("add-br br0\nadd-port br0 p1\nadd-port br0 p2\n"), opt);
  OfprotoBackend backend(sw.ofproto(), "br0", &sw);
  of::Connection conn(backend, {}, /*now_ms=*/0);  // queues our hello
  of::FlowMod fm;
  fm.match = parse_match("in_port=1");
  fm.instructions.actions = {OfAction::output(2)};
  fm.match_format = of::MatchFormat::kOxm;
  std::vector<uint8_t> in = of::encode(of::Message{of::kOfp13, 1, of::Hello{1u << 4}});
  for (const of::MessageBody& b : {of::MessageBody{fm}, of::MessageBody{of::BarrierRequest{}}}) {
    auto m = of::encode(of::Message{of::kOfp13, 2, b});
    in.insert(in.end(), m.begin(), m.end());
  }
  conn.receive(in, 1);  // any split of the byte stream works
  std::printf("version 0x%02x, %zu bytes to send (hello, barrier reply)\n", conn.version(),
              conn.take_output().size());
  uint8_t frame[60] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  sw.port("p1")->memory()->inject(frame);
  sw.poll_once();
  std::printf("%s", sw.ofproto().require_bridge("br0").tables().dump_flows().c_str());
  return sw.port("p2")->stats().tx == 1 ? 0 : 1;
}
