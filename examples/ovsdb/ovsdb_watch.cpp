// ovsdb-watch — follows an Open_vSwitch database the way ovs-vswitchd does
// and prints its bridges and ports (a compact `ovs-vsctl show`), again on
// every change, until interrupted.
//
//   ovsdb-watch unix:/run/openvswitch/db.sock
//   ovsdb-watch tcp:127.0.0.1:6640
//   ovsdb-watch --once unix:PATH       (print once synchronised, exit)
//
// Interfaces that flowpath's switch could not configure are listed with
// the reason (ovsdb/to_config.hpp).  Reconnects with backoff when the
// server goes away.  Exit status: 0, or 1 on a bad argument or when --once
// cannot synchronise within 10 s.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "flowpath/ovsdb/client.hpp"
#include "flowpath/ovsdb/to_config.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

std::string vlans(const flowpath::PortConfig& p) {
  std::string s;
  if (p.tag) s += " tag=" + std::to_string(*p.tag);
  if (!p.trunks.empty()) {
    s += " trunks=";
    for (size_t i = 0; i < p.trunks.size(); ++i) s += (i ? "," : "") + std::to_string(p.trunks[i]);
  }
  if (p.vlan_mode) s += " vlan_mode=" + std::string(flowpath::to_string(*p.vlan_mode));
  return s;
}

void show(const flowpath::ovsdb::DbConfig& d) {
  using namespace flowpath;
  std::printf("%s (next_cfg %lld, cur_cfg %lld)\n",
              d.root.empty() ? "(no Open_vSwitch row)" : d.root.c_str(), (long long)d.next_cfg,
              (long long)d.cur_cfg);
  for (size_t i = 0; i < d.config.bridges.size(); ++i) {
    const BridgeConfig& b = d.config.bridges[i];
    const ovsdb::BridgeInfo& info = d.bridges[i];
    std::printf("    Bridge %s  fail_mode=%s%s%s\n", b.name.c_str(), info.fail_mode.c_str(),
                info.datapath_type.empty() ? "" : (" datapath_type=" + info.datapath_type).c_str(),
                info.controllers.empty() ? "" : (" controller=" + info.controllers[0]).c_str());
    for (const PortConfig& p : b.ports) {
      std::string extra = p.type == PortType::kPatch ? " peer=" + p.peer : "";
      for (const auto& [k, v] : p.options) extra += " options:" + k + "=" + v;
      std::string no = p.ofport == kOfPortLocal ? "LOCAL" : std::to_string(p.ofport);
      std::printf("        Port %-16s ofport=%-5s type=%s%s%s\n", p.name.c_str(), no.c_str(),
                  std::string(to_string(p.type)).c_str(), vlans(p).c_str(), extra.c_str());
    }
  }
  for (const auto& e : d.errors) std::printf("    error: %s\n", e.message.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool once = false;
  const char* remote = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--once"))
      once = true;
    else if (!remote && argv[i][0] != '-')
      remote = argv[i];
    else
      remote = nullptr, argc = 0;
  }
  if (!remote) {
    std::fprintf(stderr, "usage: ovsdb-watch [--once] unix:PATH|tcp:IP:PORT\n");
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    flowpath::ovsdb::Client client(remote);
    int64_t deadline = flowpath::ovsdb::Client::now_ms() + 10000;
    while (!g_stop) {
      for (const auto& a : client.run_once(500)) {
        using K = flowpath::ovsdb::Action::Kind;
        if (a.kind == K::kError) std::fprintf(stderr, "ovsdb-watch: %s\n", a.error.c_str());
        if (a.kind == K::kReconnect)
          std::fprintf(stderr, "ovsdb-watch: %s; reconnecting in %lld ms\n", a.error.c_str(),
                       (long long)a.delay_ms);
        if (a.kind != K::kReplicaUpdated) continue;
        show(flowpath::ovsdb::to_switch_config(client.replica()));
        if (once) return 0;
      }
      if (once && flowpath::ovsdb::Client::now_ms() > deadline) {
        std::fprintf(stderr, "ovsdb-watch: %s: not synchronised within 10 s\n", remote);
        return 1;
      }
    }
  } catch (const flowpath::Error& e) {
    std::fprintf(stderr, "ovsdb-watch: %s\n", e.what());
    return 1;
  }
  return 0;
}
