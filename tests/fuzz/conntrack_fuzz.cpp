// libFuzzer target for the connection tracker: the input is a sequence of
// frames with per-frame ct() parameters (zone, commit, NAT, mark, clock
// step).  Frames sit at the end of their allocation (ASan catches any read
// or write past them).  Checks: every result is +trk with a coherent state
// (+inv alone, never +new with +est), frames keep their length, NAT keeps
// a valid IPv4 header checksum valid, the table agrees with its dump and
// zone counts, and a sweep far in the future empties it.  A second tracker
// gets the same frames through the batch API (runs of frames with the same
// parameters and clock as one batch): its results and rewritten frames
// must equal the one-by-one tracker's (the batch's prefetch stages only
// read).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/parse/parser.hpp"

using namespace flowpath;

namespace {
void check(bool cond) {
  if (!cond) std::abort();
}

bool ipv4_header_ok(const Packet& p) {
  if (p.meta.l3 == kNoOffset || p.meta.l3 + 20 > p.size()) return false;
  const uint8_t* h = p.data() + p.meta.l3;
  const uint32_t ihl = uint32_t(h[0] & 15) * 4;
  if ((h[0] >> 4) != 4 || ihl < 20 || p.meta.l3 + ihl > p.size()) return false;
  return csum_fold(csum_add_bytes(0, h, ihl)) == 0xffff;
}

ct::NatSpec nat_from(uint8_t b) {
  ct::NatSpec n;
  if (!(b & 1)) return n;
  n.present = true;
  n.kind = (b & 2) ? ct::NatSpec::kSrc : (b & 4) ? ct::NatSpec::kDst : ct::NatSpec::kNone;
  n.has_addr = b & 8;
  n.has_port = b & 16;
  n.addr_min = {203, 0, 113, 1};
  n.addr_max = {203, 0, 113, uint8_t(1 + (b >> 5))};
  n.port_min = 1000;
  n.port_max = uint16_t(1000 + (b >> 5));
  return n;
}
// Frames waiting for the batch tracker, with what the one-by-one tracker
// answered and left in the frame.
struct Pending {
  std::vector<uint8_t> buf, after;
  Packet pkt;
  ct::CtResult want;
};
struct Batcher {
  ct::Conntrack tracker{ct::Conntrack::Config{.shard_bits = 2, .max_conns = 64}};
  std::vector<std::unique_ptr<Pending>> pending;
  ct::CtParams p;
  uint8_t natb = 0;
  int64_t now = 0;
  bool same(const ct::CtParams& q, uint8_t nb, int64_t t) const {
    return !pending.empty() && q.zone == p.zone && q.commit == p.commit && q.force == p.force &&
           q.set_mark == p.set_mark && q.mark == p.mark && nb == natb && t == now;
  }
  void drain() {
    if (pending.empty()) return;
    std::vector<Packet*> ptrs;
    for (auto& e : pending) ptrs.push_back(&e->pkt);
    std::vector<ct::CtResult> out(ptrs.size());
    tracker.execute(ptrs, p, now, out.data());
    for (size_t i = 0; i < ptrs.size(); ++i) {
      check(out[i].state == pending[i]->want.state && out[i].mark == pending[i]->want.mark);
      check(pending[i]->buf == pending[i]->after);
    }
    pending.clear();
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ct::Conntrack tracker(ct::Conntrack::Config{.shard_bits = 2, .max_conns = 64});
  tracker.set_zone_limit(1, 3);
  Batcher batch;
  batch.tracker.set_zone_limit(1, 3);
  int64_t now = 0;
  size_t off = 0;
  while (off + 5 <= size) {
    const uint8_t flags = data[off], natb = data[off + 1], step = data[off + 2];
    const size_t len =
        std::min<size_t>(uint16_t(data[off + 3] << 8 | data[off + 4]) % 512, size - off - 5);
    off += 5;
    std::vector<uint8_t> buf(data + off, data + off + len);
    off += len;
    Packet pkt(buf.data(), uint32_t(len), 0, uint32_t(len));
    FlowKey key;
    parse_packet(pkt, key);
    const bool had_ok_header = ipv4_header_ok(pkt);
    ct::CtParams p{
        .zone = uint16_t(flags & 3), .commit = bool(flags & 4), .force = bool(flags & 8)};
    p.set_mark = flags & 16;
    p.mark = flags;
    p.mark_mask = 0xff;
    p.nat = nat_from(natb);
    now += step * 997;
    auto e = std::make_unique<Pending>();
    e->buf = buf;
    e->pkt = Packet(e->buf.data(), uint32_t(len), 0, uint32_t(len));
    e->pkt.meta = pkt.meta;
    const ct::CtResult r = tracker.execute(pkt, p, now);
    e->want = r;
    e->after = buf;
    if (!batch.same(p, natb, now)) {
      batch.drain();
      batch.p = p;
      batch.natb = natb;
      batch.now = now;
    }
    batch.pending.push_back(std::move(e));
    if (batch.pending.size() == 40 || (flags & 0x80) || (flags & 0xe0) == 0x60) batch.drain();
    check(r.state & ct::kCsTracked);
    check(r.zone == p.zone);
    if (r.state & ct::kCsInvalid) check((r.state & ~(ct::kCsInvalid | ct::kCsTracked)) == 0);
    check(!((r.state & ct::kCsNew) && (r.state & ct::kCsEstablished)));
    check(pkt.size() == len);
    if (had_ok_header) check(ipv4_header_ok(pkt));
    if (flags & 0x80) {
      tracker.sweep(now);
      batch.tracker.sweep(now);
    }
    if ((flags & 0xe0) == 0x60) {
      tracker.flush(uint16_t(flags & 3));
      batch.tracker.flush(uint16_t(flags & 3));
    }
  }
  batch.drain();
  check(batch.tracker.n_conns() == tracker.n_conns());
  tracker.sweep(now);  // the dump shows live entries only
  const auto dump = tracker.dump(now);
  check(dump.size() == tracker.n_conns());
  uint32_t per_zone = 0;
  for (uint16_t z = 0; z < 4; ++z) per_zone += tracker.zone_count(z);
  check(per_zone == tracker.n_conns());
  check(tracker.zone_count(1) <= 3 && tracker.n_conns() <= 64);
  tracker.sweep(now + 100LL * 24 * 3600 * 1000);
  check(tracker.n_conns() == 0);
  return 0;
}
