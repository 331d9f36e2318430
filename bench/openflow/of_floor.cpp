// openflow_floor — the floor contestant of bench/openflow/run.sh: an
// OpenFlow switch with no flow table, so that what ovs-ofctl itself costs
// (starting, parsing, encoding, decoding, printing) can be taken out of
// the figures of the real switches measured in the same run.
//
//   openflow_floor punix:PATH FLOWS_FILE
//
// It serves `ovs-ofctl` over the same sans-I/O Connection and socket
// Channel as `flowpath switch` (hello and version negotiation, echo,
// features, get/set-config, barrier, set-flow-format, table-features,
// desc, port-desc), with a backend that keeps nothing:
// - a flow-mod is accepted and dropped (no table, no datapath, no barrier
//   wait);
// - a flow dump answers with the flows of FLOWS_FILE plus the
//   `priority=0 actions=NORMAL` flow the benchmark's bridges hold, encoded
//   once at start per format (NXST_FLOW, OpenFlow 1.0, 1.3) and replayed
//   as bytes, the request's xid patched into each message: the same
//   entries a real switch sends for the same flows (counters zero), at the
//   cost of a memcpy and the socket writes;
// - aggregate stats: that count; table stats and features: 254 tables, as
//   OfprotoBackend.
// So each step's time against this floor is ovs-ofctl's own plus the
// socket transport; a switch's time minus it is the switch's own share.
// Runs until SIGINT/SIGTERM.
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "flowpath/flow/ofctl_text.hpp"
#include "flowpath/openflow/channel.hpp"

namespace of = flowpath::openflow;

namespace {

volatile sig_atomic_t g_stop = 0;

class FloorBackend : public of::SwitchBackend {
 public:
  explicit FloorBackend(std::vector<of::FlowStats> flows) : flows_(std::move(flows)) {
    for (auto [v, f] : {std::pair{of::kOfp10, of::MatchFormat::kNxm},
                        std::pair{of::kOfp10, of::MatchFormat::kOf10},
                        std::pair{of::kOfp13, of::MatchFormat::kOxm},
                        std::pair{of::kOfp14, of::MatchFormat::kOxm}})
      try {
        canned(v, f);  // at start, so no dump pays for encoding
      } catch (const flowpath::Error&) {
        // a flow OpenFlow 1.0's match cannot carry: a dump in that format fails
      }
  }

  of::FeaturesReply features() override {
    of::FeaturesReply f;
    f.datapath_id = 0xf100;
    f.n_tables = 254;
    f.capabilities = 0x7;
    f.actions = 0xfff;
    return f;
  }
  std::optional<of::OfpErrc> flow_mod(const of::FlowMod&, uint8_t) override { return std::nullopt; }
  // a bundle's commit: dropped too (run.sh's BUNDLE=1 mode)
  std::optional<of::BundleFailure> flow_mod_bundle(std::span<const of::FlowMod>, uint8_t) override {
    return std::nullopt;
  }
  of::StatsReply stats(const of::StatsRequest& rq) override {
    using T = of::StatsType;
    of::StatsReply rep;
    rep.type = rq.type;
    rep.match_format = rq.match_format;
    if (rq.type == T::kDesc) rep.desc = {"flowpath", "floor", "floor", "None", "floor"};
    if (rq.type == T::kAggregate) rep.aggregate.flow_count = uint32_t(flows_.size());
    for (uint8_t id = 0; id < 254; ++id) {
      std::string name = id ? "table" + std::to_string(id) : "classifier";
      if (rq.type == T::kTable) rep.tables.push_back({id, name, 0x3fffff, 1000000, 0, 0, 0});
      if (rq.type == T::kTableFeatures) rep.table_features.push_back({id, name, 0, 0, 0, 1000000});
    }
    return rep;
  }
  void append_flow_stats(const of::StatsRequest& rq, uint8_t v, uint32_t xid,
                         std::vector<uint8_t>& out) override {
    const std::vector<uint8_t>& bytes = canned(v, rq.match_format);
    size_t at = out.size();
    out.insert(out.end(), bytes.begin(), bytes.end());
    for (size_t m = at; m + 8 <= out.size(); m += size_t(out[m + 2]) << 8 | out[m + 3])
      for (int i = 0; i < 4; ++i) out[m + 4 + size_t(i)] = uint8_t(xid >> (24 - 8 * i));
  }
  std::optional<of::OfpErrc> packet_out(const of::PacketOut&) override {
    return of::OfpErrc::kBadType;
  }
  void barrier() override {}

 private:
  const std::vector<uint8_t>& canned(uint8_t v, of::MatchFormat f) {
    auto it = canned_.find({v, f});
    if (it != canned_.end()) return it->second;
    of::StatsReply rep;
    rep.type = of::StatsType::kFlow;
    rep.match_format = f;
    rep.flows = flows_;
    std::vector<uint8_t> bytes;  // kept only when whole (encoding may throw)
    of::append_flow_stats_replies(bytes, v, 0, rep);
    return canned_.emplace(std::pair{v, f}, std::move(bytes)).first->second;
  }

  std::vector<of::FlowStats> flows_;
  std::map<std::pair<uint8_t, of::MatchFormat>, std::vector<uint8_t>> canned_;
};

std::vector<of::FlowStats> read_flows(const char* path) {
  std::ifstream in(path);
  if (!in) throw flowpath::Error(std::string("cannot read flow file ") + path);
  std::vector<of::FlowStats> out;
  auto add = [&](const std::string& text) {
    flowpath::OfctlFlow f = flowpath::parse_flow(text);
    of::FlowStats& s = out.emplace_back();
    s.table_id = f.table, s.priority = f.priority, s.cookie = f.cookie;
    s.idle_timeout = f.idle_timeout, s.hard_timeout = f.hard_timeout;
    s.match = f.match;
    s.instructions.actions = f.actions;
  };
  add("priority=0 actions=NORMAL");
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') add(line);
  return out;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: openflow_floor punix:PATH FLOWS_FILE\n");
    return 2;
  }
  try {
    FloorBackend be(read_flows(argv[2]));
    of::Channel ch(be, {of::Target::parse(argv[1])});
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = 1; };
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::printf("listening on %s\n", argv[1]);
    std::fflush(stdout);
    while (!g_stop) {
      std::vector<pollfd> fds;
      ch.add_pollfds(fds);
      int t = ch.timeout_ms(now_ms());
      if (poll(fds.data(), fds.size(), t < 0 || t > 100 ? 100 : t) < 0 && errno != EINTR) break;
      ch.handle(fds, now_ms());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "openflow_floor: %s\n", e.what());
    return 1;
  }
  return 0;
}
