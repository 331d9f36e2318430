// tests/datapath/dp_test_util.hpp — sinks, random frames and random flow
// tables shared by the datapath tests and benchmarks; a batch of raw frames
// through a datapath, and the counters two runs of an A/B must share.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "flowpath/action/executor.hpp"
#include "flowpath/conntrack/ct_types.hpp"
#include "flowpath/core/batch.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/datapath/pmd_stats.hpp"
#include "flowpath/datapath/table_upcall.hpp"
#include "flowpath/datapath/upcall.hpp"
#include "flowpath/flow/match.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace flowpath::test {

/// Records every output (port + bytes at that moment) and drop per packet,
/// and counts final calls so conservation can be checked.
struct RecordingSink {
  struct Rec {
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> outs;
    int finals = 0;
    bool dropped = false;
  };
  std::map<const Packet*, Rec> rec;
  void output(uint32_t port, Packet& p, bool last) {
    auto& r = rec[&p];
    r.outs.emplace_back(port, std::vector<uint8_t>(p.data(), p.data() + p.size()));
    r.finals += last;
  }
  void drop(Packet& p) {
    auto& r = rec[&p];
    r.dropped = true;
    ++r.finals;
  }
};

/// A random frame from small value pools (so flows repeat), in_port 1..4.
inline std::vector<uint8_t> random_frame(std::mt19937& rng, uint32_t* in_port) {
  auto pick = [&](uint32_t n) { return uint32_t(rng() % n); };
  *in_port = 1 + pick(4);
  Eth eth{mac(pick(2) ? "02:00:00:00:00:01" : "02:00:00:00:00:02"),
          mac(pick(2) ? "02:00:00:00:00:0a" : "02:00:00:00:00:0b")};
  IPv4 ip{.src = Be32(0xc0000200u + pick(4)), .dst = Be32(0xc6336400u + pick(4))};
  const bool tagged = pick(3) == 0;
  const uint16_t vid = uint16_t(pick(2) ? 1 : 1000);
  if (pick(2)) {
    UDP udp{.sport = uint16_t(1000 + pick(3)), .dport = uint16_t(53 + pick(2))};
    return tagged ? (eth / Dot1Q{.vid = vid} / ip / udp / Payload{.n = 18}).bytes()
                  : (eth / ip / udp / Payload{.n = 18}).bytes();
  }
  TCP tcp{.sport = uint16_t(2000 + pick(3)), .dport = uint16_t(80 + pick(2))};
  return tagged ? (eth / Dot1Q{.vid = vid} / ip / tcp).bytes() : (eth / ip / tcp).bytes();
}

/// A random rule: a few fields of a random frame's key, random actions.
inline void add_random_rule(TableUpcall<>& table, std::mt19937& rng) {
  uint32_t in_port;
  auto frame = random_frame(rng, &in_port);
  PacketBuffer buf(frame, in_port);
  FlowKey key;
  parse_packet(buf.packet(), key);
  FlowMask m;
  if (rng() % 2) m.in_port = 0xffffffffu;
  if (rng() % 2) m.dl_dst.b.fill(0xff);
  if (rng() % 3 == 0) m.vlans[0].tci = Be16(0x1fff);
  if (rng() % 2) {
    m.dl_type = Be16(0xffff);
    if (rng() % 2) m.nw_src = Be32(0xffffff00u << (rng() % 2 * 8));
    if (rng() % 2) m.nw_dst = Be32(0xffffffffu);
    if (rng() % 2) {
      m.nw_proto = 0xff;
      if (rng() % 2) m.tp_dst = Be16(0xffff);
    }
  }
  DpActionList acts;
  switch (rng() % 4) {
    case 0:
      break;  // drop
    case 1:
      acts.push_back(DpAction::output(1 + rng() % 4));
      break;
    case 2:
      acts.push_back(DpAction::push_vlan(0x8100, uint16_t(1 + rng() % 100)));
      acts.push_back(DpAction::output(1 + rng() % 4));
      break;
    default:
      acts.push_back(DpAction::output(1 + rng() % 4));
      acts.push_back(DpAction::pop_vlan());
      acts.push_back(DpAction::output(1 + rng() % 4));
  }
  table.add_flow(Match(key, m), int32_t(rng() % 8), std::move(acts));
}

/// What a fresh upcall (no caches) does with `frame`: the outputs recorded
/// by running the slow path's actions on a copy.
template <class H>
inline RecordingSink::Rec reference_outputs(H& handler, const PacketBuffer& original) {
  PacketBuffer copy = original;
  FlowKey key;
  parse_packet(copy.packet(), key);
  UpcallResult r;
  handler.upcall(key, nullptr, r);
  RecordingSink sink;
  Packet* p = &copy.packet();
  execute_actions(std::span<const DpAction>(r.actions), std::span<Packet*>(&p, 1), sink);
  return sink.rec[p];
}

/// One datapath batch of raw frames, all received on in_port (the frames'
/// buffers live until process() returns).
template <class Dp, class Out>
void process_frames(Dp& dp, const std::vector<std::vector<uint8_t>>& frames, Out& out,
                    uint32_t in_port = 1) {
  std::vector<PacketBuffer> bufs;
  bufs.reserve(frames.size());
  Batch b;
  for (const auto& f : frames) {
    bufs.emplace_back(f, in_port);
    b.push(&bufs.back().packet());
  }
  dp.process(b, out);
}

/// Every output's bytes with its port appended, in order, and the drops:
/// what two runs of an A/B must have sent alike.
struct FrameSink {
  std::vector<std::vector<uint8_t>> frames;
  uint64_t drops = 0;
  void output(uint32_t port, Packet& p, bool) {
    std::vector<uint8_t> f(p.bytes().begin(), p.bytes().end());
    f.push_back(uint8_t(port));
    frames.push_back(std::move(f));
  }
  void drop(Packet&) { ++drops; }
};

/// The ct() of the firewall tests (ct_hint_test, recirc_inline_test):
/// in `zone`, committing when commit or nat, writing `mark` when not 0,
/// nat: translating the source to 203.0.113.1 (SNAT).
inline DpCtSpec ct_spec(bool commit, uint32_t mark = 0, bool nat = false, uint16_t zone = 1) {
  DpCtSpec s;
  s.params.zone = zone;
  s.params.commit = commit || nat;
  if (mark) {
    s.params.set_mark = true;
    s.params.mark = mark;
    s.params.mark_mask = ~0u;
  }
  if (nat) {
    s.params.nat.present = true;
    s.params.nat.kind = ct::NatSpec::kSrc;
    s.params.nat.has_addr = true;
    s.params.nat.addr_min = s.params.nat.addr_max = ct::CtAddr{203, 0, 113, 1};
  }
  s.text = (s.params.commit ? "ct(commit,zone=" : "ct(zone=") + std::to_string(zone) + ")";
  return s;
}

/// A firewall's shape for the A/B tests of the ct() shortcuts
/// (recirc_emc_next_test, ct_hint_test): recirc_id 0: ct1 (e.g.
/// ct(zone=1)),recirc(1) matching in_port and recirc_id only (every
/// connection takes one megaflow); recirc_id 1: `commit` (e.g.
/// ct(commit,zone=1[,exec(mark)])) and an output whose port shows the
/// first ct()'s verdict (+inv 30, +est 10, +new 20, else 40), its mark
/// (+ 50 * mark), the source address's last byte and `version` (+ 100 *
/// it, bumped with generation() by a flow-table change), so a wrong
/// megaflow shows in the output port.  Its mask is exactly what its answer
/// read.  Shapes for the inline next pass (recirc_inline_test):
/// per_source false: the port leaves out the source address (connections
/// of one verdict share the second pass's megaflow, as Neutron's); clone:
/// the first pass outputs to port 99 after its recirc; third: the second
/// pass commits and recirculates (recirc_id 2), the third outputs.
struct CtFirewall {
  const DpCtSpec* ct1;
  const DpCtSpec* commit;
  uint64_t version = 0;
  bool per_source = true, clone = false, third = false;
  void upcall(const FlowKey& key, const Packet*, UpcallResult& r) {
    r.mask = FlowMask{};
    r.mask.in_port = ~0u;
    r.mask.recirc_id = ~0u;
    if (key.recirc_id == 0) {
      r.actions = {DpAction::conntrack(ct1), DpAction::recirc(1)};
      if (clone) r.actions.push_back(DpAction::output(99));
      return;
    }
    if (third && key.recirc_id == 1) {
      r.actions = {DpAction::conntrack(commit), DpAction::recirc(2)};
      return;
    }
    r.mask.ct_state = 0xff;
    r.mask.ct_mark = Be32{0xffffffffu};
    if (per_source) r.mask.nw_src = Be32{0xffffffffu};
    const uint8_t s = key.ct_state;
    const uint32_t verdict = s & kCsInvalid ? 30 : s & kCsEstablished ? 10 : s & kCsNew ? 20 : 40;
    const uint32_t port = verdict + 50 * key.ct_mark.host() +
                          (per_source ? key.nw_src.host() & 0xff : 0) + 100 * uint32_t(version);
    r.actions = {DpAction::output(port)};
    if (!third) r.actions.insert(r.actions.begin(), DpAction::conntrack(commit));
  }
  uint64_t generation() const noexcept { return version + 1; }
};

/// The datapath's megaflows as dpctl/dump-flows shows them, times left out.
template <class Dp>
std::string megaflows_without_times(const Dp& dp) {
  return std::regex_replace(dp.dpctl_dump_flows(), std::regex("used:[^,]*,"), "");
}

/// The datapath counters that two runs of an A/B (a shortcut on and off)
/// must agree on.
inline void expect_same_counters(const PmdStats& a, const PmdStats& b) {
  EXPECT_EQ(a.packets, b.packets);
  EXPECT_EQ(a.recirculations, b.recirculations);
  EXPECT_EQ(a.malformed, b.malformed);
  EXPECT_EQ(a.emc_hits, b.emc_hits);
  EXPECT_EQ(a.megaflow_hits, b.megaflow_hits);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.action_drops, b.action_drops);
}

/// What two runs of an A/B (a shortcut on and off) must share: outputs
/// and drops (a and b's sinks oa and ob), counters, megaflows, the EMC.
template <class Dp>
void expect_same_run(Dp& a, const FrameSink& oa, Dp& b, const FrameSink& ob) {
  EXPECT_EQ(oa.frames, ob.frames);
  EXPECT_EQ(oa.drops, ob.drops);
  expect_same_counters(a.stats(), b.stats());
  EXPECT_EQ(megaflows_without_times(a), megaflows_without_times(b));
  EXPECT_EQ(a.emc().inserts(), b.emc().inserts());
  EXPECT_EQ(a.emc().size(), b.emc().size());
}

}  // namespace flowpath::test
