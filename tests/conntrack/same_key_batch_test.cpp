// The batch's same-key shortcut (Conntrack::execute over a span): a packet
// whose key equals the previous packet's reuses its hash and starts from
// the connection the previous packet found (meta.ct_node, try_cached).
// Each test runs the same frames through one tracker as a batch and
// through another one packet at a time (no shortcut) and requires the same
// states, marks, connections and counters; the frames are chosen so that a
// wrong shortcut would differ: a bad IPv4 checksum or a fragment between two
// packets of one tuple, a connection created by the batch's first packet,
// a reply in the middle, TCP (never cached), ICMP echo ids, a flush and an
// expiry between batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ct_support.hpp"

namespace flowpath {
namespace same_key_batch_test {

using namespace flowpath::cttest;

constexpr const char* kA = "192.0.2.1";
constexpr const char* kB = "198.51.100.1";

using Frames = std::vector<std::vector<uint8_t>>;

std::vector<PacketBuffer> packets(const Frames& frames) {
  std::vector<PacketBuffer> out;
  out.reserve(frames.size());
  for (const auto& f : frames) {
    out.emplace_back(f, 1);
    FlowKey k;
    parse_packet(out.back().packet(), k);
  }
  return out;
}

std::string conns(Conntrack& t, int64_t now) {
  std::vector<std::string> lines;
  for (const ConnEntry& e : t.dump(now)) {
    std::string s(reinterpret_cast<const char*>(&e.orig), sizeof e.orig);
    s += std::to_string(e.mark) + "/" + std::to_string(e.timeout_s) + "/" +
         std::to_string(e.tcp_state[0]) + std::to_string(e.tcp_state[1]);
    lines.push_back(s);
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  return all;
}

struct Pair {
  Conntrack batched, single;
  int64_t now = 1000;
  // One round: the frames as one batch into `batched`, one at a time into
  // `single`; every result equal.
  void round(const Frames& frames, const CtParams& p) {
    std::vector<PacketBuffer> a = packets(frames), b = packets(frames);
    std::vector<Packet*> pa;
    for (auto& x : a) pa.push_back(&x.packet());
    std::vector<CtResult> ra(pa.size());
    batched.execute(std::span<Packet* const>(pa), p, now, ra.data());
    for (size_t i = 0; i < b.size(); ++i) {
      CtResult r;
      Packet* one = &b[i].packet();
      single.execute(std::span<Packet* const>(&one, 1), p, now, &r);
      SCOPED_TRACE("packet " + std::to_string(i));
      EXPECT_EQ(st(ra[i].state), st(r.state));
      EXPECT_EQ(ra[i].zone, r.zone);
      EXPECT_EQ(ra[i].mark, r.mark);
      EXPECT_TRUE(ra[i].label == r.label);
      // (meta.ct_node may differ: a batch's chain heads are loaded before
      // its first packet creates the connection, so the packets after it
      // take the exact locked path, which leaves no cache; as before.)
    }
  }
  void expect_same_trackers() {
    EXPECT_EQ(conns(batched, now), conns(single, now));
    EXPECT_EQ(batched.n_conns(), single.n_conns());
    const CtCounters &x = batched.counters(), &y = single.counters();
    EXPECT_EQ(x.created.load(), y.created.load());
    EXPECT_EQ(x.invalid.load(), y.invalid.load());
    EXPECT_EQ(x.fragments.load(), y.fragments.load());
  }
};

std::vector<uint8_t> bad_checksum(std::vector<uint8_t> f) {
  f[14 + 10] ^= 0x01;  // the IPv4 header checksum
  return f;
}
std::vector<uint8_t> fragment(std::vector<uint8_t> f) {
  uint8_t* ip = f.data() + 14;
  ip[6] |= 0x20;  // more fragments; the header checksum made right again
  ip[10] = ip[11] = 0;
  const uint16_t c = uint16_t(~csum_fold(csum_add_bytes(0, ip, 20)));
  ip[10] = uint8_t(c >> 8), ip[11] = uint8_t(c);
  return f;
}

TEST(SameKeyBatch, BurstOfOneUdpConnectionAsSingles) {
  Pair t;
  const auto out = udp4(kA, kB, 1000, 53).bytes(), back = udp4(kB, kA, 53, 1000).bytes();
  CtParams commit{.zone = 1, .commit = true}, look{.zone = 1};
  // First batch: the first packet creates it (locked path), the rest follow.
  t.round({out, out, out, out}, commit);
  t.round({out, out, out}, look);
  // A reply in the middle: the packets after it see +est.
  t.round({out, out, back, back, out, out}, look);
  t.expect_same_trackers();
}

TEST(SameKeyBatch, BadChecksumOrFragmentBetweenTwoOfOneTuple) {
  Pair t;
  const auto out = udp4(kA, kB, 1000, 53).bytes();
  CtParams commit{.zone = 1, .commit = true};
  t.round({out, out}, commit);
  t.round({out, bad_checksum(out), out, fragment(out), out, out}, commit);
  t.expect_same_trackers();
  EXPECT_GT(t.batched.counters().invalid.load(), 0u);
  EXPECT_GT(t.batched.counters().fragments.load(), 0u);
}

TEST(SameKeyBatch, TcpAndIcmpAsSingles) {
  Pair t;
  CtParams commit{.zone = 2, .commit = true};
  const auto syn = tcp4(kA, kB, 4000, 80, kSyn, 100, 0).bytes();
  const auto synack = tcp4(kB, kA, 80, 4000, kSyn | kAck, 500, 101).bytes();
  const auto ack = tcp4(kA, kB, 4000, 80, kAck, 101, 501).bytes();
  t.round({syn, syn, synack, synack, ack, ack, ack}, commit);
  t.round({ack, ack, ack}, commit);
  const auto echo1 = (Eth{} / IPv4{.src = kA, .dst = kB} / ICMP{.type = 8, .id = 7}).bytes();
  const auto echo2 = (Eth{} / IPv4{.src = kA, .dst = kB} / ICMP{.type = 8, .id = 8}).bytes();
  t.round({echo1, echo1, echo2, echo2, echo1}, commit);
  t.expect_same_trackers();
}

TEST(SameKeyBatch, FlushedOrExpiredBetweenBatches) {
  Pair t;
  const auto out = udp4(kA, kB, 1000, 53).bytes();
  CtParams commit{.zone = 1, .commit = true};
  t.round({out, out, out}, commit);
  t.batched.flush();
  t.single.flush();
  t.round({out, out, out}, commit);  // created again by the first, as singles
  t.now += 3'600'000;                // expired
  t.round({out, out, out}, commit);
  t.expect_same_trackers();
  EXPECT_EQ(t.batched.counters().created.load(), 3u);
}

TEST(SameKeyBatch, ManyConnectionsInterleaved) {
  Pair t;
  Frames frames;
  for (uint16_t i = 0; i < 40; ++i) {
    const auto f = udp4(kA, kB, uint16_t(2000 + i / 3), 53).bytes();
    frames.push_back(f);
  }
  CtParams commit{.zone = 3, .commit = true};
  for (int r = 0; r < 3; ++r) t.round(frames, commit);
  t.expect_same_trackers();
  EXPECT_EQ(t.batched.n_conns(), 14u);
}

// The key a packet after a failed extraction is compared with: not the
// failed packet's slot (its key and hash were never written; in a fresh
// array the key is all zeros with hash 0), which the all-zero key of a real
// packet (IPv4 protocol 0 from 0.0.0.0 to 0.0.0.0, zone 0) would equal and
// take hash 0 from: its connection then sat in the wrong chain, and the
// next batch created it again.
TEST(SameKeyBatch, ZeroKeyAfterAFailedExtraction) {
  Pair t;
  const auto zero =
      (Eth{} / IPv4{.src = "0.0.0.0", .dst = "0.0.0.0", .proto = 0} / Payload{.n = 8}).bytes();
  CtParams commit{.zone = 0, .commit = true};
  t.round({bad_checksum(zero), zero}, commit);
  t.round({zero}, commit);
  t.round({bad_checksum(zero), zero, zero}, commit);
  t.expect_same_trackers();
  EXPECT_EQ(t.batched.n_conns(), 1u);
}

}  // namespace same_key_batch_test
}  // namespace flowpath
