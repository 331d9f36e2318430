// A program that uses flowpath as an outside project would: a flow key, a
// match, the reference classifier and (with FLOWPATH_CONSUMER_PCAP) the
// pcap writer/reader.  Exit status 0 means every check held.
#include <cstdio>
#include <flowpath/classify/linear_classifier.hpp>
#include <flowpath/flow/flow_key.hpp>
#include <flowpath/flow/match.hpp>
#ifdef FLOWPATH_CONSUMER_PCAP
#include <flowpath/io/pcap_reader.hpp>
#include <flowpath/io/pcap_writer.hpp>
#endif

int main() {
  using namespace flowpath;
  FlowKey value, mask;
  value.dl_type = Be16{kEthTypeIpv4};
  mask.dl_type = Be16{0xffff};
  LinearClassifier<int> cls;
  cls.insert(Match(value, mask), 10, 42);
  cls.insert(Match(), 0, 7);

  FlowKey ip, arp;
  ip.dl_type = Be16{kEthTypeIpv4};
  arp.dl_type = Be16{kEthTypeArp};
  FlowMask wc;
  const auto* hit = cls.lookup(ip, &wc);
  if (!hit || hit->value != 42 || !(wc.dl_type == Be16{0xffff})) return 1;
  hit = cls.lookup(arp);
  if (!hit || hit->value != 7) return 2;

#ifdef FLOWPATH_CONSUMER_PCAP
  const char* path = "consumer.pcap";
  {
    PcapWriter out(path);
    uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
    out.write(frame, 123);
  }
  PcapReader in(path);
  PacketBuffer buf;
  if (!in.next(buf) || buf->size() != 60 || buf->timestamp_ns != 123) return 3;
  std::remove(path);
#endif
  std::puts("flowpath consumer: ok");
  return 0;
}
