// The README's example: rules in ovs-ofctl syntax, a frame parsed into a
// flow key, a classifier lookup that also reports the bits it consulted
// (the megaflow mask).  Exit 0 on success.
#include <cstdio>
#include <flowpath/classify/classifier.hpp>
#include <flowpath/flow/ofctl_match_format.hpp>
#include <flowpath/flow/ofctl_text.hpp>
#include <flowpath/parse/parser.hpp>
#include <string>
#include <vector>

int main() {
  using namespace flowpath;
  Classifier<std::string> rules;  // LinearClassifier: the 10-line reference
  rules.insert(parse_match("udp,nw_dst=198.51.100.0/24"), 10, "provider");
  rules.insert(parse_match("ip"), 5, "ip");
  rules.insert(Match(), 0, "other");

  // Ethernet / IPv4 / UDP 192.0.2.1:1234 -> 198.51.100.2:5001, 64 bytes.
  std::vector<uint8_t> frame(64, 0);
  const uint8_t hdr[] = {0x08, 0x00, 0x45, 0, 0,   50, 0,   0, 0,    0,    64,   17,   0, 0,
                         192,  0,    2,    1, 198, 51, 100, 2, 0x04, 0xd2, 0x13, 0x89, 0, 30};
  std::copy(std::begin(hdr), std::end(hdr), frame.begin() + 12);
  PacketBuffer buf(frame, /*in_port=*/1);

  FlowKey key;
  if (!parse_packet(buf.packet(), key)) return 1;  // false: malformed frame
  FlowMask consulted;                              // every key bit the decision depended on
  const auto* rule = rules.lookup(key, &consulted);
  std::printf("%s\n  -> %s (megaflow: %s)\n", format_key(key).c_str(), rule->value.c_str(),
              format_match(Match(key, consulted)).c_str());
  return rule->value == "provider" ? 0 : 1;
}
