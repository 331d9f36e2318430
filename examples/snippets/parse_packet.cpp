// Parses a hand-written VLAN + IPv4/UDP frame into a flow key, then the
// same frame truncated inside its IPv4 header, and a batch of both.
#include <cstdio>

#include "flowpath/parse/parser.hpp"

int main() {
  using namespace flowpath;
  const uint8_t frame[] = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // dst, src
      0x81, 0x00, 0x63, 0xe8, 0x08, 0x00,  // 802.1Q: pcp 3, vid 1000; IPv4
      0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xf6, 0xc8,  // IPv4, UDP
      0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,  // 192.0.2.1 -> 192.0.2.2
      0x04, 0xd2, 0x00, 0x35, 0x00, 0x0c, 0x74, 0xc7,  // UDP 1234 -> 53
      0x00, 0x01, 0x02, 0x03};

  PacketBuffer buf(frame, /*in_port=*/1);
  FlowKey key;
  if (!parse_packet(buf.packet(), key)) return 1;
  std::printf("in_port=%u dl_vlan=%u dl_type=0x%04x nw_proto=%u tp_src=%u tp_dst=%u l3=%u l4=%u\n",
              key.in_port, key.vlans[0].tci.host() & kVlanVidMask, key.dl_type.host(), key.nw_proto,
              key.tp_src.host(), key.tp_dst.host(), buf->meta.l3, buf->meta.l4);
  if ((key.vlans[0].tci.host() & kVlanVidMask) != 1000 || key.tp_dst != Be16{53}) return 2;

  // Cut inside the IPv4 header: malformed, the key keeps Ethernet and VLAN.
  PacketBuffer cut(std::span<const uint8_t>(frame, 30), 1);
  FlowKey partial;
  if (parse_packet(cut.packet(), partial) || !cut->meta.malformed) return 3;
  if (partial.dl_src != key.dl_src || partial.nw_src != Be32{}) return 4;

  // The same through the Parser component, one batch.
  Batch batch;
  batch.push(&buf.packet());
  batch.push(&cut.packet());
  Parser parser;
  parser.process(batch);
  std::printf("packets=%llu malformed=%llu\n", (unsigned long long)parser.stats().packets,
              (unsigned long long)parser.stats().malformed);
  if (parser.stats().packets != 2 || parser.stats().malformed != 1) return 5;
  return batch.keys[0] == key && batch.keys[1] == partial ? 0 : 6;
}
