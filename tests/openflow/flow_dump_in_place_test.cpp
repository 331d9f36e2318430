// OfprotoBackend::append_flow_stats encodes a flow dump from the rules in
// place (openflow/flow_stats_stream.hpp, FlowStatsStream::add with parts);
// it must give byte for byte what the copying path gives: stats() (a
// FlowStats per rule) then append_flow_stats_replies, in every version and
// format ovs-ofctl asks in, with filters, several tables, counters, ages,
// and dumps long enough to span several multipart messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flowpath/openflow/framing.hpp"
#include "flowpath/switch/openflow_backend.hpp"
#include "openflow/backend_fixture.hpp"

namespace fp = flowpath;
namespace of = flowpath::openflow;

namespace flow_dump_in_place_test {

struct Fixture : fp::test::BackendFixture {
  void add(const std::string& flow) {
    std::lock_guard l(ofp.mutex());
    ofp.require_bridge("br0").tables().add(fp::parse_flow(flow));
  }
  std::vector<uint8_t> in_place(const of::StatsRequest& rq, uint8_t v) {
    std::vector<uint8_t> out = {0xaa};  // appended after what is there
    be.append_flow_stats(rq, v, 0x01020304, out);
    return out;
  }
  std::vector<uint8_t> copied(const of::StatsRequest& rq, uint8_t v) {
    of::StatsReply rep = be.stats(rq);
    rep.match_format = rq.match_format;
    std::vector<uint8_t> out = {0xaa};
    of::append_flow_stats_replies(out, v, 0x01020304, rep);
    return out;
  }
};

of::StatsRequest request(of::MatchFormat f) {
  of::StatsRequest rq;
  rq.type = of::StatsType::kFlow;
  rq.table_id = fp::kOfTableAll;
  rq.match_format = f;
  return rq;
}

struct Form {
  uint8_t v;
  of::MatchFormat f;
};
constexpr Form kForms[] = {{of::kOfp10, of::MatchFormat::kNxm},
                           {of::kOfp10, of::MatchFormat::kOf10},
                           {of::kOfp13, of::MatchFormat::kOxm}};

size_t count_messages(const std::vector<uint8_t>& bytes) {
  of::Framer fr;
  fr.feed(std::span(bytes).subspan(1));
  size_t n = 0;
  while (auto m = fr.next()) {
    auto msg = of::decode(m->bytes);
    EXPECT_EQ(msg.xid, 0x01020304u);
    ++n;
  }
  EXPECT_EQ(fr.buffered(), 0u);
  return n;
}


TEST(OpenflowFlowDumpInPlace, SameBytesAsTheCopyingPath) {
  Fixture f;
  f.add("table=0,priority=7,cookie=0x5,tcp,nw_src=198.51.100.0/24,tp_dst=80 actions=output:2");
  f.add("table=0,priority=3,in_port=1,dl_vlan=10 actions=mod_vlan_vid:20,NORMAL");
  f.add("table=0,priority=1 actions=resubmit(,3)");
  f.add("table=3,priority=9,ip,nw_dst=203.0.113.5 actions=set_field:7->reg0,output:1");
  f.add("table=3,priority=0,cookie=0x5 actions=drop");
  f.add("table=5,idle_timeout=30,hard_timeout=60,arp actions=CONTROLLER:128");
  f.clock.advance_ms(12345);  // durations and ages that are not zero
  for (const Form& form : kForms) {
    if (form.f == of::MatchFormat::kOf10) continue;  // reg0 needs NXM/OXM
    of::StatsRequest rq = request(form.f);
    EXPECT_EQ(f.in_place(rq, form.v), f.copied(rq, form.v)) << int(form.v);
    rq.cookie = 0x5, rq.cookie_mask = ~0ull;  // a filter: two of the six
    auto b = f.in_place(rq, form.v);
    EXPECT_EQ(b, f.copied(rq, form.v)) << int(form.v);
    EXPECT_EQ(count_messages(b), 1u);
    rq = request(form.f);
    rq.table_id = 3;
    EXPECT_EQ(f.in_place(rq, form.v), f.copied(rq, form.v)) << int(form.v);
  }
}

TEST(OpenflowFlowDumpInPlace, LongDumpSpansMessagesIdentically) {
  Fixture f;
  for (int i = 0; i < 5000; ++i)
    f.add("priority=" + std::to_string(1 + i % 11) + ",tcp,nw_src=198.51.100." +
          std::to_string(i % 256) + ",tp_dst=" + std::to_string(i + 1) +
          (i % 2 ? " actions=mod_vlan_vid:5,output:2" : " actions=NORMAL"));
  f.clock.advance_ms(2500);
  for (const Form& form : kForms) {
    of::StatsRequest rq = request(form.f);
    auto b = f.in_place(rq, form.v);
    EXPECT_EQ(b, f.copied(rq, form.v)) << int(form.v);
    EXPECT_GT(count_messages(b), 4u) << int(form.v);
  }
}

TEST(OpenflowFlowDumpInPlace, EmptyDumpIsOneMessage) {
  Fixture f;
  for (const Form& form : kForms) {
    auto b = f.in_place(request(form.f), form.v);
    EXPECT_EQ(b, f.copied(request(form.f), form.v));
    EXPECT_EQ(count_messages(b), 1u);
  }
}

}  // namespace flow_dump_in_place_test
