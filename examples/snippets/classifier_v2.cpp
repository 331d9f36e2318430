// ClassifierV2: the same calls as Classifier; rules land in the incremental
// part and a background compile folds them into the decision-tree forest.
#include "flowpath/classify/classifier_v2.hpp"

#include <cstdio>
#include <string_view>
#include <thread>

int main() {
  using namespace flowpath;
  ClassifierV2<const char*> cls;

  // priority 10: ip, nw_dst=10.0.0.0/8, tcp, tp_dst in [1024, 2047]
  FlowKey v, m;
  v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};
  v.nw_dst = Be32{0x0a000000}, m.nw_dst = Be32{0xff000000};
  v.nw_proto = kIpProtoTcp, m.nw_proto = 0xff;
  PortRanges ports;
  ports.tp_dst = PortRange{1024, 2047};
  cls.insert(Match(v, m), 10, "to-10/8-high-ports", ports);
  cls.insert(Match(FlowKey{}, FlowKey{}), 0, "default");  // catch-all
  cls.compile_now();  // optional: fold the delta in now (tests, benchmarks)

  FlowKey pkt;
  pkt.dl_type = Be16{kEthTypeIpv4};
  pkt.nw_dst = Be32{0x0a010203};  // 10.1.2.3
  pkt.nw_proto = kIpProtoTcp;
  pkt.tp_dst = Be16{1500};
  FlowMask wc{};
  const auto* r = cls.lookup(pkt, &wc);
  if (!r || std::string_view(r->value) != "to-10/8-high-ports") return 1;
  std::printf("rule %s, megaflow tp_dst mask 0x%04x, nw_dst mask 0x%08x, forest trees %zu\n",
              r->value, wc.tp_dst.host(), wc.nw_dst.host(), cls.n_tables());

  // Lookups never block while another thread updates (and compiles run).
  std::thread writer([&] {
    for (int i = 0; i < 1000; ++i) {
      cls.insert(Match(v, m), 5, "lower");
      cls.remove(Match(v, m), 5);
    }
  });
  int hits = 0;
  for (int i = 0; i < 10000; ++i) hits += cls.lookup(pkt) != nullptr;
  writer.join();
  return hits == 10000 && cls.size() == 2 ? 0 : 1;
}
