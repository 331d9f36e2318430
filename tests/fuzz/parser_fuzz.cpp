// libFuzzer target for the packet parser: any bytes are a frame.  Checks
// that parsing never reads outside the frame (ASan), that offsets lie
// inside it, that padding stays zero, that the result is deterministic and
// that a one-packet batch gives the same key.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "flowpath/parse/parser.hpp"

using namespace flowpath;

namespace {
void check(bool cond) {
  if (!cond) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kDefaultFrameSize) size = kDefaultFrameSize;
  // The frame sits at the very end of its own allocation, so any read past
  // pkt.size() hits ASan's redzone.
  std::vector<uint8_t> buf(data, data + size);
  Packet pkt(buf.data(), uint32_t(size), 0, uint32_t(size));
  pkt.in_port = 42;
  FlowKey key;
  const bool ok = parse_packet(pkt, key);
  check(ok == !pkt.meta.malformed);
  check(key.in_port == 42 && key.recirc_id == 0 && key.pad4_ == 0);
  check(key.pad1_[0] == 0 && key.pad1_[1] == 0 && key.pad3_[0] == 0 && key.pad3_[1] == 0);
  check(key.ct_label_id == 0);
  const PacketMeta m = pkt.meta;
  check(m.l2 == 0);
  for (uint16_t off : {m.l2_5, m.l3, m.l4}) check(off == kNoOffset || off <= size);
  if (m.l3 != kNoOffset && m.l4 != kNoOffset) check(m.l4 > m.l3);
  if (m.l2_5 != kNoOffset && m.l3 != kNoOffset) check(m.l3 > m.l2_5);
  for (const VlanHeader& v : key.vlans) check(v.tpid == Be16{} || (v.tci.host() & kVlanCfi));
  check((key.tcp_flags.host() & ~kTcpFlagsMask) == 0);
  check((key.ipv6_label.host() & ~0xfffffu) == 0);
  check((key.nw_frag & ~(kFragAny | kFragLater)) == 0);
  if (key.nw_frag & kFragLater) check(key.tp_src == Be16{} && key.tp_dst == Be16{});

  Batch batch;
  std::vector<uint8_t> buf2(data, data + size);
  Packet pkt2(buf2.data(), uint32_t(size), 0, uint32_t(size));
  pkt2.in_port = 42;
  batch.push(&pkt2);
  ParseStats st;
  parse_batch(batch, st);
  check(batch.keys[0] == key);
  check(st.packets == 1 && st.malformed == (ok ? 0u : 1u));
  return 0;
}
