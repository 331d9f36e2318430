// Bundles (openflow/bundle.hpp): the codec of OVS's OpenFlow 1.3 ONF
// bundle messages (ONFT_BUNDLE_CONTROL 2300, ONFT_BUNDLE_ADD_MESSAGE 2301)
// and of the ONF experimenter errors, checked against `ovs-ofctl
// ofp-print`; and a connection over a real Ofproto (OfprotoBackend):
// open / add / close / commit / discard with OVS's errors, an atomic
// commit that fails on its third message and leaves the table as it was
// (rule objects and counters included), the bundle limits and the idle
// expiry.  The real ovs-ofctl against both switches is
// bundle_ofctl_test.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "flowpath/openflow/connection.hpp"
#include "flowpath/switch/openflow_backend.hpp"
#include "support/ofp_print.hpp"
#include "support/shell.hpp"

namespace of = flowpath::openflow;
using flowpath::parse_flow;
using T = of::BundleCtrlType;
using flowpath::test::have_ofctl;
using flowpath::test::ofp_hex;
using flowpath::test::ofp_print;

namespace bundle_test {

of::FlowMod flow_mod(const std::string& text, uint16_t flags = 0) {
  auto f = parse_flow(text);
  of::FlowMod m;
  m.match = f.match;
  m.priority = f.priority;
  m.table_id = f.table_given ? f.table : 0;
  m.instructions.actions = f.actions;
  m.flags = flags;
  m.match_format = of::MatchFormat::kOxm;
  return m;
}

/// A bundle add carrying `fm` in 1.3, inner and outer xid `xid`.
of::Message add_msg(uint32_t id, uint16_t flags, const of::FlowMod& fm, uint32_t xid) {
  return of::Message{of::kOfp13, xid,
                     of::BundleAdd{id, flags, of::encode(of::Message{of::kOfp13, xid, fm})}};
}

TEST(OpenflowBundleCodec, ControlBytesAndRoundTrip) {
  auto b = of::encode(of::Message{of::kOfp13, 0x11, of::BundleControl{5, T::kOpenRequest, 3}});
  // ofp_header, ONF experimenter id, exp_type 2300, bundle_id, type, flags
  EXPECT_EQ(ofp_hex(b),
            "0404001800000011"
            "4f4e4600"
            "000008fc"
            "00000005"
            "0000"
            "0003");
  for (uint16_t t = 0; t <= 7; ++t) {
    of::Message m{of::kOfp13, 9, of::BundleControl{0xabc, T(t), uint16_t(t & 3)}};
    EXPECT_EQ(of::decode(of::encode(m)), m) << t;
  }
  // type 8 does not exist
  b[21] = 8;
  auto r = of::decode_or_error(b);
  ASSERT_TRUE(r.error);
  auto e = std::get<of::ErrorMsg>(of::decode(*r.error).body);
  EXPECT_EQ(e.type, 0xffff);
  EXPECT_EQ(e.code, 2306);  // OFPBFC_BAD_TYPE
  EXPECT_EQ(e.exp, of::kOnfExperimenter);
  // no bundles in 1.0: an ONF experimenter message there is an unknown vendor
  b[0] = of::kOfp10;
  EXPECT_TRUE(of::decode_or_error(b).error);
}

TEST(OpenflowBundleCodec, AddRoundTripAndInnerChecks) {
  of::Message m = add_msg(7, 3, flow_mod("priority=5,ip,nw_dst=192.0.2.1 actions=output:2"), 0x42);
  auto bytes = of::encode(m);
  of::Message back = of::decode(bytes);
  EXPECT_EQ(back, m);
  auto inner = of::decode(std::get<of::BundleAdd>(back.body).message);
  EXPECT_EQ(std::get<of::FlowMod>(inner.body).priority, 5);

  auto errc = [](std::vector<uint8_t> b) {
    auto r = of::decode_or_error(b);
    if (!r.error) return std::pair<int, int>{-1, -1};
    auto e = std::get<of::ErrorMsg>(of::decode(*r.error).body);
    return std::pair<int, int>{e.type, e.code};
  };
  // inner xid differs from the outer one: OFPBFC_MSG_BAD_XID
  auto bad_xid = bytes;
  bad_xid[24 + 7] ^= 1;
  EXPECT_EQ(errc(bad_xid), (std::pair<int, int>{0xffff, 2309}));
  // inner length beyond the outer message: OFPBFC_MSG_BAD_LEN
  auto bad_len = bytes;
  bad_len[24 + 2] = 0xff;
  EXPECT_EQ(errc(bad_len), (std::pair<int, int>{0xffff, 2308}));
  // inner length below a header
  auto short_len = bytes;
  short_len[24 + 2] = 0, short_len[24 + 3] = 4;
  EXPECT_EQ(errc(short_len), (std::pair<int, int>{0xffff, 2308}));
  // no inner header at all
  auto none = of::encode(of::Message{of::kOfp13, 1, of::BundleAdd{1, 0, {}}});
  EXPECT_EQ(errc(none), (std::pair<int, int>{0xffff, 2308}));
  // inner version 1.0 in a 1.3 add: BAD_REQUEST/BAD_VERSION
  auto bad_ver = bytes;
  bad_ver[24] = of::kOfp10;
  EXPECT_EQ(errc(bad_ver), (std::pair<int, int>{1, 0}));
}

TEST(OpenflowBundleCodec, OvsOfctlPrintsOurMessagesAndErrors) {
  if (!have_ofctl()) GTEST_SKIP() << "ovs-ofctl not installed";
  auto ctl =
      ofp_print(of::encode(of::Message{of::kOfp13, 2, of::BundleControl{1, T::kCommitRequest, 3}}));
  EXPECT_NE(ctl.find("ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x2):"), std::string::npos) << ctl;
  EXPECT_NE(ctl.find("bundle_id=0x1 type=COMMIT_REQUEST flags=atomic ordered"), std::string::npos)
      << ctl;
  auto add = ofp_print(of::encode(add_msg(1, 3, flow_mod("priority=5,ip actions=drop"), 3)));
  EXPECT_NE(add.find("ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0x3):"), std::string::npos) << add;
  EXPECT_NE(add.find("OFPT_FLOW_MOD (OF1.3) (xid=0x3): ADD priority=5,ip actions=drop"),
            std::string::npos)
      << add;
  const std::pair<of::OfpErrc, const char*> names[] = {
      {of::OfpErrc::kBundleBadId, "OFPBFC_BAD_ID"},
      {of::OfpErrc::kBundleClosed, "OFPBFC_BUNDLE_CLOSED"},
      {of::OfpErrc::kBundleOutOfBundles, "OFPBFC_OUT_OF_BUNDLES"},
      {of::OfpErrc::kBundleBadType, "OFPBFC_BAD_TYPE"},
      {of::OfpErrc::kBundleBadFlags, "OFPBFC_BAD_FLAGS"},
      {of::OfpErrc::kBundleMsgBadLen, "OFPBFC_MSG_BAD_LEN"},
      {of::OfpErrc::kBundleMsgBadXid, "OFPBFC_MSG_BAD_XID"},
      {of::OfpErrc::kBundleMsgUnsup, "OFPBFC_MSG_UNSUP"},
      {of::OfpErrc::kBundleMsgTooMany, "OFPBFC_MSG_TOO_MANY"},
      {of::OfpErrc::kBundleMsgFailed, "OFPBFC_MSG_FAILED"},
      {of::OfpErrc::kBundleTimeout, "OFPBFC_TIMEOUT"},
  };
  auto offending =
      of::encode(of::Message{of::kOfp13, 4, of::BundleControl{1, T::kCommitRequest, 3}});
  for (auto [e, name] : names) {
    auto text = ofp_print(of::make_error_reply(e, offending));
    EXPECT_NE(text.find(std::string("OFPT_ERROR (OF1.3) (xid=0x4): ") + name), std::string::npos)
        << name << ": " << text;
  }
}

constexpr const char* kConf =
    "add-br br0\nadd-port br0 p1 type=memory\nadd-port br0 p2 type=memory\n";

std::vector<of::Message> drain(of::Connection& c) {
  of::Framer fr;
  fr.feed(c.take_output());
  std::vector<of::Message> out;
  while (auto f = fr.next()) out.push_back(of::decode(f->bytes));
  return out;
}

struct Conn {
  flowpath::Ofproto ofp{flowpath::SwitchConfig::parse(kConf)};
  flowpath::OfprotoBackend be{ofp, "br0"};
  of::Connection c{be, {.passive = true, .probe_interval_ms = 0}, 0};
  int64_t now = 1;

  Conn() {
    drain(c);
    c.receive(of::encode(of::Message{of::kOfp13, 1, of::Hello{1u << of::kOfp13}}), 0);
  }
  std::vector<of::Message> send(const of::Message& m) {
    c.receive(of::encode(m), now);
    return drain(c);
  }
  std::vector<of::Message> ctl(uint32_t id, T type, uint16_t flags, uint32_t xid = 100) {
    return send(of::Message{of::kOfp13, xid, of::BundleControl{id, type, flags}});
  }
  std::vector<of::Message> add(uint32_t id, uint16_t flags, const std::string& flow, uint32_t xid,
                               uint16_t fm_flags = 0) {
    return send(add_msg(id, flags, flow_mod(flow, fm_flags), xid));
  }
  std::string dump() {
    std::lock_guard l(ofp.mutex());
    return ofp.require_bridge("br0").tables().dump_flows();
  }
  /// dump() without the fields that move with the clock (duration,
  /// idle_age): what a rollback must leave exactly as it was.
  std::string dump_timeless() {
    static const std::regex kClock("(duration=[0-9.]+s|idle_age=[0-9]+), ");
    return std::regex_replace(dump(), kClock, "");
  }
  flowpath::BridgeTables& tables() { return ofp.require_bridge("br0").tables(); }
};

/// The ONF error code (2300 + OFPBFC_*) of a 1.3 error, or the standard (type << 16 | code).
uint32_t err(const of::Message& m) {
  auto* e = std::get_if<of::ErrorMsg>(&m.body);
  if (!e) return 0;
  return e->exp ? e->code : uint32_t(e->type) << 16 | e->code;
}
bool is_reply(const of::Message& m, T type, uint32_t id) {
  auto* b = std::get_if<of::BundleControl>(&m.body);
  return b && b->type == type && b->bundle_id == id && b->flags == 0;
}

TEST(OpenflowBundleConnection, OpenAddCommitAppliesAll) {
  Conn k;
  auto r = k.ctl(1, T::kOpenRequest, 3, 10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(is_reply(r[0], T::kOpenReply, 1));
  EXPECT_EQ(r[0].xid, 10u);
  EXPECT_TRUE(k.add(1, 3, "priority=10,ip,nw_dst=192.0.2.1 actions=output:1", 11).empty());
  EXPECT_TRUE(k.add(1, 3, "priority=10,ip,nw_dst=192.0.2.2 actions=output:2", 12).empty());
  EXPECT_EQ(k.dump(), "");  // nothing before the commit
  EXPECT_EQ(k.c.bundles().find(1)->fms.size(), 2u);
  r = k.ctl(1, T::kCommitRequest, 3, 13);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(is_reply(r[0], T::kCommitReply, 1));
  EXPECT_NE(k.dump().find("nw_dst=192.0.2.1"), std::string::npos);
  EXPECT_NE(k.dump().find("nw_dst=192.0.2.2"), std::string::npos);
  EXPECT_EQ(k.c.bundles().size(), 0u);  // committed bundles go
  // a commit of the same id again: gone
  EXPECT_EQ(err(k.ctl(1, T::kCommitRequest, 3).at(0)), 2302u);  // BAD_ID
}

TEST(OpenflowBundleConnection, FailedCommitLeavesTheTableAsItWas) {
  Conn k;
  // before: two rules, one with counters
  k.send(of::Message{of::kOfp13, 2, flow_mod("priority=10,ip actions=output:1")});
  k.send(of::Message{of::kOfp13, 3, flow_mod("priority=20,udp actions=output:2")});
  const flowpath::OfRule* before = nullptr;
  {
    std::lock_guard l(k.ofp.mutex());
    for (const flowpath::OfRule* r : k.tables().rules())
      if (r->priority == 10) before = r, r->stats->add(3, 180, 1);
  }
  ASSERT_TRUE(before);
  std::string dump_before = k.dump_timeless();
  ASSERT_NE(dump_before.find("n_packets=3"), std::string::npos) << dump_before;

  k.ctl(2, T::kOpenRequest, 3);
  // 1: deletes the rule with counters; 2: a new rule; 3: check_overlap
  // against the table's priority=20,udp rule (there before the commit and
  // not deleted by it: OVS's rule) → fails; 4 is never applied
  of::FlowMod del = flow_mod("priority=10,ip actions=drop");
  del.command = of::FlowModCommand::kDeleteStrict;
  EXPECT_TRUE(k.send(add_msg(2, 3, del, 21)).empty());
  EXPECT_TRUE(k.add(2, 3, "priority=30,tcp actions=output:1", 22).empty());
  EXPECT_TRUE(
      k.add(2, 3, "priority=20,udp,tp_dst=53 actions=output:2", 23, of::kFlowModCheckOverlap)
          .empty());
  EXPECT_TRUE(k.add(2, 3, "priority=40,arp actions=NORMAL", 24).empty());
  auto r = k.ctl(2, T::kCommitRequest, 3, 25);
  ASSERT_EQ(r.size(), 2u);
  // the failing message's error: its xid, OFPFMFC_OVERLAP, the add message as data
  EXPECT_EQ(r[0].xid, 23u);
  EXPECT_EQ(err(r[0]), (5u << 16) | 3u);
  auto data = std::get<of::ErrorMsg>(r[0].body).data;
  ASSERT_GE(data.size(), 16u);
  EXPECT_EQ(ofp_hex({data.begin() + 8, data.begin() + 16}), "4f4e4600000008fd");  // ONFT 2301
  // then the commit's: OFPBFC_MSG_FAILED
  EXPECT_EQ(r[1].xid, 25u);
  EXPECT_EQ(err(r[1]), 2313u);
  // the same rules, the same objects, the same counters
  EXPECT_EQ(k.dump_timeless(), dump_before);
  {
    std::lock_guard l(k.ofp.mutex());
    bool same = false;
    for (const flowpath::OfRule* x : k.tables().rules()) same |= x == before;
    EXPECT_TRUE(same);
  }
  EXPECT_EQ(k.c.bundles().size(), 0u);  // discarded whatever the outcome
}

TEST(OpenflowBundleConnection, ErrorsAsOvs) {
  Conn k;
  // close / commit / discard of an unknown id
  EXPECT_EQ(err(k.ctl(9, T::kCloseRequest, 3).at(0)), 2302u);
  EXPECT_EQ(err(k.ctl(9, T::kCommitRequest, 3).at(0)), 2302u);
  EXPECT_EQ(err(k.ctl(9, T::kDiscardRequest, 3).at(0)), 2302u);
  // a reply type from the controller
  EXPECT_EQ(err(k.ctl(9, T::kOpenReply, 3).at(0)), 2306u);
  // open twice: BAD_ID, and the bundle is gone
  k.ctl(1, T::kOpenRequest, 3);
  EXPECT_EQ(err(k.ctl(1, T::kOpenRequest, 3).at(0)), 2302u);
  EXPECT_EQ(k.c.bundles().size(), 0u);
  // add with other flags: BAD_FLAGS, discarded
  k.ctl(1, T::kOpenRequest, 3);
  EXPECT_EQ(err(k.add(1, 1, "actions=drop", 5).at(0)), 2307u);
  EXPECT_EQ(k.c.bundles().size(), 0u);
  // close, then add: BUNDLE_CLOSED; close twice: BUNDLE_CLOSED
  k.ctl(1, T::kOpenRequest, 3);
  EXPECT_TRUE(is_reply(k.ctl(1, T::kCloseRequest, 3).at(0), T::kCloseReply, 1));
  EXPECT_EQ(err(k.add(1, 3, "actions=drop", 6).at(0)), 2304u);
  k.ctl(1, T::kOpenRequest, 3);
  k.ctl(1, T::kCloseRequest, 3);
  EXPECT_EQ(err(k.ctl(1, T::kCloseRequest, 3).at(0)), 2304u);
  // a closed bundle commits
  k.ctl(1, T::kOpenRequest, 3);
  k.add(1, 3, "priority=7,ip actions=drop", 7);
  k.ctl(1, T::kCloseRequest, 3);
  EXPECT_TRUE(is_reply(k.ctl(1, T::kCommitRequest, 3).at(0), T::kCommitReply, 1));
  EXPECT_NE(k.dump().find("priority=7,ip"), std::string::npos);
  // commit with other flags: BAD_FLAGS, discarded, nothing applied
  k.ctl(2, T::kOpenRequest, 3);
  k.add(2, 3, "priority=8,ip actions=drop", 8);
  EXPECT_EQ(err(k.ctl(2, T::kCommitRequest, 1).at(0)), 2307u);
  EXPECT_EQ(k.dump().find("priority=8"), std::string::npos);
  EXPECT_EQ(k.c.bundles().size(), 0u);
  // discard
  k.ctl(3, T::kOpenRequest, 0);
  k.add(3, 0, "priority=9,ip actions=drop", 9);
  EXPECT_TRUE(is_reply(k.ctl(3, T::kDiscardRequest, 0).at(0), T::kDiscardReply, 3));
  EXPECT_EQ(err(k.ctl(3, T::kCommitRequest, 0).at(0)), 2302u);
  // an add to an unknown id opens it (OVS does too)
  EXPECT_TRUE(k.add(4, 2, "priority=11,ip actions=drop", 10).empty());
  EXPECT_TRUE(is_reply(k.ctl(4, T::kCommitRequest, 2).at(0), T::kCommitReply, 4));
  EXPECT_NE(k.dump().find("priority=11"), std::string::npos);
  // only flow-mods go into a bundle: a barrier or an echo inside → MSG_UNSUP
  k.ctl(5, T::kOpenRequest, 3);
  auto barrier = of::encode(of::Message{of::kOfp13, 12, of::BarrierRequest{}});
  auto r = k.send(of::Message{of::kOfp13, 12, of::BundleAdd{5, 3, barrier}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(err(r[0]), 2310u);
  EXPECT_EQ(r[0].xid, 12u);
  // an inner message of an unknown type → MSG_UNSUP
  auto unknown = barrier;
  unknown[1] = 99;
  EXPECT_EQ(err(k.send(of::Message{of::kOfp13, 12, of::BundleAdd{5, 3, unknown}}).at(0)), 2310u);
  // a flow-mod that does not decode gets its own error (bad command 9)
  auto bad = of::encode(of::Message{of::kOfp13, 13, flow_mod("actions=drop")});
  bad[8 + 17] = 9;  // ofp13 flow_mod command byte
  r = k.send(of::Message{of::kOfp13, 13, of::BundleAdd{5, 3, bad}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(err(r[0]), (5u << 16) | 6u) << "FLOW_MOD_FAILED/BAD_COMMAND";
  EXPECT_EQ(k.c.bundles().find(5)->fms.size(), 0u);  // refused messages are not added
  // the table id is checked at the commit: table 254 → BAD_TABLE_ID, MSG_FAILED
  k.add(5, 3, "table=254,priority=12,ip actions=drop", 14);
  r = k.ctl(5, T::kCommitRequest, 3, 15);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(err(r[0]), (1u << 16) | 9u);
  EXPECT_EQ(r[0].xid, 14u);
  EXPECT_EQ(err(r[1]), 2313u);
}

TEST(OpenflowBundleConnection, LimitsAndIdleExpiry) {
  Conn k;
  for (uint32_t i = 0; i < of::BundleSet::kMaxBundles; ++i)
    ASSERT_TRUE(is_reply(k.ctl(i, T::kOpenRequest, 0).at(0), T::kOpenReply, i));
  EXPECT_EQ(err(k.ctl(1000, T::kOpenRequest, 0).at(0)), 2305u);  // OUT_OF_BUNDLES
  EXPECT_EQ(err(k.add(1001, 0, "actions=drop", 3).at(0)), 2305u);
  // idle for 10 s: discarded
  k.now = 5000;
  k.add(0, 0, "priority=1,ip actions=drop", 4);  // bundle 0 used at 5 s
  EXPECT_EQ(k.c.next_deadline(), 10001);         // the others' expiry
  k.c.tick(10001);
  EXPECT_EQ(k.c.bundles().size(), 1u);
  k.now = 15001;
  k.c.tick(15001);
  EXPECT_EQ(k.c.bundles().size(), 0u);
  EXPECT_EQ(err(k.ctl(0, T::kCommitRequest, 0).at(0)), 2302u);
  EXPECT_EQ(k.c.next_deadline(), INT64_MAX);
}

TEST(OpenflowBundleConnection, BundlesGoWithTheConnection) {
  Conn k;
  k.ctl(1, T::kOpenRequest, 3);
  k.add(1, 3, "priority=5,ip actions=drop", 2);
  {
    // a second connection to the same switch cannot see or commit it
    of::Connection c2{k.be, {.passive = true, .probe_interval_ms = 0}, 0};
    drain(c2);
    c2.receive(of::encode(of::Message{of::kOfp13, 1, of::Hello{1u << of::kOfp13}}), 0);
    c2.receive(of::encode(of::Message{of::kOfp13, 3, of::BundleControl{1, T::kCommitRequest, 3}}),
               1);
    auto r = drain(c2);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(err(r[0]), 2302u);
  }
  EXPECT_EQ(k.dump(), "");
}

}  // namespace bundle_test
