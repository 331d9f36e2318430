// ct() in the datapath: a stateful firewall in ovs-ofctl syntax
// (conntrack_firewall.hpp: a → b allowed when new, b → a only as a reply),
// a UDP request and its reply through Ofproto + Datapath, then what
// `ovs-appctl dpctl/dump-flows` and `dpctl/dump-conntrack` print: each
// packet took two passes, the second (recirc_id 0x1/0x2) matching ct_state
// after the tracker ran.
#include <cstdio>
#include <flowpath/bridge/ofproto.hpp>
#include <flowpath/conntrack/dpctl.hpp>
#include <flowpath/datapath/datapath.hpp>
#include <vector>

#include "conntrack_firewall.hpp"  // the flows, also measured by a benchmark

using namespace flowpath;

// Ethernet/IPv4/UDP, 42 bytes (UDP checksum 0: none).
static std::vector<uint8_t> udp_frame(uint8_t src, uint8_t dst, uint16_t sp, uint16_t dp) {
  std::vector<uint8_t> f(42, 0);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45, ip[3] = 28, ip[8] = 64, ip[9] = 17;
  ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = src;
  ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = dst;
  const uint16_t c = inet_checksum(ip, 20);
  ip[10] = uint8_t(c >> 8), ip[11] = uint8_t(c);
  uint8_t* udp = ip + 20;
  udp[0] = uint8_t(sp >> 8), udp[1] = uint8_t(sp), udp[2] = uint8_t(dp >> 8), udp[3] = uint8_t(dp);
  udp[5] = 8;
  return f;
}

struct PrintSink {
  void output(uint32_t port, Packet& p, bool) {
    std::printf("  -> port %u (ct_state=0x%02x)\n", port, p.meta.ct_state);
  }
  void drop(Packet&) { std::printf("  -> dropped\n"); }
};

int main() {
  Ofproto of(SwitchConfig::parse(snippets::kStatefulFirewall));
  Datapath<Ofproto> dp(of);  // creates its tracker on the first ct()
  PrintSink sink;
  auto send = [&](const char* what, std::vector<uint8_t> frame, uint32_t in_port) {
    std::printf("%s\n", what);
    PacketBuffer buf(frame, in_port);
    Batch batch;
    batch.push(&buf.packet());
    dp.process(batch, sink);
  };
  send("b -> a, new: no rule allows it", udp_frame(2, 1, 53, 5353), 2);
  send("a -> b, new: committed", udp_frame(1, 2, 5353, 53), 1);
  send("b -> a, the reply: established", udp_frame(2, 1, 53, 5353), 2);
  std::printf("\ndpctl/dump-flows:\n%s", dp.dpctl_dump_flows().c_str());
  std::printf("\ndpctl/dump-conntrack:\n%s",
              ct::dpctl_dump_conntrack(dp.conntrack(), Clock::system()->now_ms(), {}).c_str());
  std::printf("\n%s", dp.pmd_stats_show().c_str());
  return dp.conntrack().n_conns() == 1 ? 0 : 1;
}
