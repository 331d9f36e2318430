// A recirculated pass reuses the previous pass's key only when no action
// could have rewritten the frame (datapath/kept_keys.hpp): ct(nat) and a
// header rewrite before ct() must be seen by the second pass's lookup,
// a plain ct() keeps the key, and batches mixing all three, at several
// sizes, forward every packet as packet-by-packet processing does.
#include "flowpath/datapath/kept_keys.hpp"

#include <gtest/gtest.h>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace {

using namespace flowpath::test;

// Second pass (table 1): the destination decides the port, so a pass that
// kept the pre-NAT or pre-rewrite key would output to 3, not 2.
constexpr const char* kConfig = R"(add-br br
add-port br a ofport=1 type=memory
add-port br b ofport=2 type=memory
add-port br c ofport=3 type=memory
add-port br d ofport=4 type=memory
add-port br e ofport=5 type=memory
add-flow br table=0,priority=10,ip,in_port=1 actions=ct(commit,zone=1,nat(dst=198.51.100.9),table=1)
add-flow br table=0,priority=10,ip,in_port=4 actions=ct(zone=2,table=1)
add-flow br table=0,priority=10,ip,in_port=5 actions=mod_nw_dst:198.51.100.9,ct(zone=3,table=1)
add-flow br table=1,priority=10,ct_state=+trk,ip,nw_dst=198.51.100.9 actions=output:2
add-flow br table=1,priority=10,ct_state=+trk,ip,nw_dst=192.0.2.2 actions=output:3
)";

struct Sink {
  std::vector<uint32_t> ports;
  int drops = 0;
  void output(uint32_t port, Packet&, bool) { ports.push_back(port); }
  void drop(Packet&) { ++drops; }
};

class KeptKeysDatapath : public ::testing::Test {
 protected:
  KeptKeysDatapath() : of_(SwitchConfig::parse(kConfig), Ofproto::Options{&clock_, {}}) {}
  DatapathConfig cfg() {
    DatapathConfig c;
    c.clock = &clock_;
    return c;
  }
  uint32_t dp(std::string_view port) { return of_.find_port(port)->dp_port; }
  static std::vector<uint8_t> udp(uint16_t sport) {
    return (Eth{mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01")} /
            IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = sport, .dport = 53})
        .bytes();
  }
  // Sends n frames, the i-th in through ports[i % 3], as one batch.
  Sink send(Datapath<Ofproto>& d, uint32_t n, uint16_t sport0) {
    const char* in[] = {"a", "d", "e"};
    std::vector<PacketBuffer> bufs;
    bufs.reserve(n);
    Batch b;
    for (uint32_t i = 0; i < n; ++i) {
      bufs.emplace_back(udp(uint16_t(sport0 + i)), dp(in[i % 3]));
      b.push(&bufs.back().packet());
    }
    Sink s;
    d.process(b, s);
    return s;
  }

  ManualClock clock_{1000};
  Ofproto of_;
};

TEST_F(KeptKeysDatapath, SecondPassSeesNatAndRewrites) {
  Datapath<Ofproto> d(of_, cfg());
  for (uint32_t n : {1u, 3u, 7u, 31u, 32u}) {
    SCOPED_TRACE(n);
    for (int round = 0; round < 2; ++round) {  // upcalls, then cache hits
      Sink s = send(d, n, uint16_t(1000 + 100 * n));
      ASSERT_EQ(s.ports.size(), n);
      EXPECT_EQ(s.drops, 0);
      // in a: DNAT to 198.51.100.9 -> b; in d: unchanged 192.0.2.2 -> c;
      // in e: rewritten to 198.51.100.9 -> b.  Outputs come grouped per flow.
      uint32_t to_b = 0, to_c = 0;
      for (uint32_t p : s.ports) {
        to_b += p == dp("b");
        to_c += p == dp("c");
      }
      EXPECT_EQ(to_c, (n + 1) / 3) << "only the plain ct() packets keep 192.0.2.2";
      EXPECT_EQ(to_b + to_c, n);
    }
  }
  EXPECT_GT(d.stats().recirculations, 0u);
}

DpCtSpec ct_spec(bool nat) {
  DpCtSpec s;
  s.params.nat.present = nat;
  return s;
}

TEST(KeptKeys, PreservesFrameOnlyForOutputCtRecirc) {
  const DpCtSpec plain = ct_spec(false), nat = ct_spec(true);
  auto act = [](DpActionType t, const DpCtSpec* ct = nullptr) {
    DpAction a;
    a.type = t;
    a.ct = ct;
    return a;
  };
  bool recirc = false;
  EXPECT_TRUE(KeptKeys::preserves_frame(
      {act(DpActionType::kCt, &plain), act(DpActionType::kRecirc)}, recirc));
  EXPECT_TRUE(recirc);
  recirc = false;
  EXPECT_TRUE(KeptKeys::preserves_frame(
      {act(DpActionType::kOutput), act(DpActionType::kCtClear), act(DpActionType::kOutput)},
      recirc));
  EXPECT_FALSE(recirc);
  EXPECT_FALSE(KeptKeys::preserves_frame({act(DpActionType::kCt, &nat), act(DpActionType::kRecirc)},
                                         recirc));
  EXPECT_FALSE(KeptKeys::preserves_frame(
      {act(DpActionType::kPushVlan), act(DpActionType::kCt, &plain), act(DpActionType::kRecirc)},
      recirc));
  EXPECT_FALSE(KeptKeys::preserves_frame(
      {act(DpActionType::kSetIpv4Dst), act(DpActionType::kRecirc)}, recirc));
}

// The bookkeeping alone: a kept packet gets its key back, a clone and a
// packet of a rewriting group are parsed again, entries stay parallel.
TEST(KeptKeys, RestoreKeepsOnlyWhatTheGroupLeftIntact) {
  const std::vector<uint8_t> frame =
      (Eth{mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01")} /
       IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 7, .dport = 53})
          .bytes();
  PacketBuffer p0(frame, 1), p1(frame, 1), clone(frame, 1);
  Batch batch;
  batch.push(&p0.packet());
  batch.push(&p1.packet());
  ParseStats st;
  parse_batch(batch, st);
  batch.keys[0].nw_dst = Be32{0x01020304};  // marks: a restored key is the kept one
  batch.keys[1].nw_dst = Be32{0x05060708};

  const DpCtSpec plain = ct_spec(false);
  DpAction ct, rc, set;
  ct.type = DpActionType::kCt, ct.ct = &plain;
  rc.type = DpActionType::kRecirc;
  set.type = DpActionType::kSetIpv4Dst;
  KeptKeys kk;
  std::vector<Packet*> next;
  Packet* g0[] = {batch.pkts[0]};
  uint8_t i0[] = {0};
  KeptKeys::Group g;
  kk.before({ct, rc}, g0, i0, 1, g);
  next.push_back(&clone.packet());  // a copy queued first (recirc not last) ...
  next.push_back(batch.pkts[0]);    // ... then the packet itself
  kk.after(g, next, batch);
  Packet* g1[] = {batch.pkts[1]};
  uint8_t i1[] = {1};
  kk.before({set, ct, rc}, g1, i1, 1, g);
  next.push_back(batch.pkts[1]);
  kk.after(g, next, batch);

  kk.advance();
  Batch second;
  for (Packet* p : next) second.push(p);
  EXPECT_EQ(kk.restore(second, 0), 0u);
  EXPECT_EQ(second.keys[0].nw_dst, Be32{0xc0000202});  // the clone: parsed
  EXPECT_EQ(second.keys[1].nw_dst, Be32{0x01020304});  // kept
  EXPECT_EQ(second.keys[2].nw_dst, Be32{0xc0000202});  // rewriting group: parsed
  kk.clear();
  EXPECT_EQ(kk.restore(second, 0), 0u);
  EXPECT_EQ(second.keys[1].nw_dst, Be32{0xc0000202});  // nothing kept any more
}

}  // namespace
}  // namespace flowpath
