// flowpath/switch/switch.hpp — the runtime of `flowpath switch`: a
// configuration's bridges (bridge/ofproto.hpp) over real ports, served by
// busy-polling PMD threads (pmd.hpp).
//
//   Switch sw(SwitchConfig::load("compute-node.conf"), {.pmd_cores = {1}});
//   sw.start();                 // PMD threads
//   ... control: sw.ofproto().add_flow(...), sw.pmd_stats_show() ...
//   sw.stop();                  // or the destructor
//
// How it is built from the library.  One Ofproto holds every bridge; its
// non-patch ports have datapath numbers 1..N.  Each such port becomes a
// SwitchPort by type: afxdp -> AfxdpPort on interface options:ifname (the
// port name by default), bound to the UMEM of the PMD that owns it, so
// every AF_XDP port of a PMD shares one UMEM and forwarding between them
// copies nothing; internal -> TapPort (a TAP device named after the port:
// a bridge's LOCAL port is the interface `br-int`); patch -> nothing
// (translation crosses patch ports in-process); with Options::memory_ports
// (tests) every other port is a MemoryPort; pcap, memory -> an Error
// (that is `flowpath replay`'s job).  Ports are dealt to the PMDs round
// robin in datapath-port order.  Each PMD runs its own Datapath<Ofproto>
// (per-thread caches); the Ofproto's mutex serialises the upcalls, and
// every flow or MAC change moves its generation, so each PMD revalidates
// before its next batch: changes take effect at once.
//
// Errors (flowpath::Error, nothing left open or attached): bad flows
// (FILE:LINE from the Ofproto), no such interface (named), no permission,
// XDP attach failures — as thrown by the ports.
// Thread-safety: start/stop from one thread; the query functions from any
// thread (they take the PMD mutexes and the Ofproto's, never both at once
// in the opposite order to a PMD).
#pragma once

#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/switch/pmd.hpp"

namespace flowpath {

/// The default PMD core: the last online CPU (core 1 on two-core machines).
inline int default_pmd_core() noexcept {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 1 ? int(n - 1) : 0;
}

/// Parses "1", "1,3", "2-5,7" into core numbers; throws Error.
inline std::vector<int> parse_core_list(std::string_view s) {
  std::vector<int> out;
  auto bad = [&] { return Error("bad core list '" + std::string(s) + "' (expected e.g. 1,3-5)"); };
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view item = s.substr(i, j - i);
    size_t dash = item.find('-');
    auto num = [&](std::string_view t) {
      if (t.empty() || t.size() > 4 || t.find_first_not_of("0123456789") != std::string_view::npos)
        throw bad();
      return std::stoi(std::string(t));
    };
    int lo = num(item.substr(0, dash));
    int hi = dash == std::string_view::npos ? lo : num(item.substr(dash + 1));
    if (hi < lo) throw bad();
    for (int c = lo; c <= hi; ++c) out.push_back(c);
    i = j + 1;
  }
  if (out.empty()) throw bad();
  return out;
}

class Switch {
 public:
  struct Options {
    std::vector<int> pmd_cores;  // empty: {default_pmd_core()}; -1: do not pin
    XdpMode xdp_mode = XdpMode::kAuto;
    /// Tests: every non-patch port (LOCAL ports too) is a MemoryPort, so
    /// a switch runs with no interfaces, no privileges and no threads.
    bool memory_ports = false;
    Umem::Config umem{};
    DatapathConfig datapath{};
    Ofproto::Options ofproto{};
  };

  explicit Switch(const SwitchConfig& cfg) : Switch(cfg, Options{}) {}
  Switch(const SwitchConfig& cfg, Options opt) : opt_(std::move(opt)), of_(cfg, opt_.ofproto) {
    if (opt_.pmd_cores.empty()) opt_.pmd_cores.push_back(default_pmd_core());
    table_.assign(of_.dp_ports().size(), nullptr);
    for (size_t i = 0; i < opt_.pmd_cores.size(); ++i)
      pmds_.push_back(std::make_unique<Pmd>(of_, unsigned(i), opt_.pmd_cores[i],
                                            std::span<SwitchPort* const>(table_), opt_.datapath));
    for (size_t i = 0; i < of_.dp_ports().size(); ++i) open_port(*of_.dp_ports()[i]);
  }
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;
  ~Switch() { stop(); }

  void start() {
    if (!threads_.empty()) return;
    stop_.store(false);
    for (auto& p : pmds_) threads_.emplace_back([this, pm = p.get()] { pm->run(stop_); });
  }
  void stop() noexcept {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  bool running() const noexcept { return !threads_.empty(); }

  Ofproto& ofproto() noexcept { return of_; }
  size_t num_pmds() const noexcept { return pmds_.size(); }
  Pmd& pmd(size_t i) noexcept { return *pmds_[i]; }
  const std::vector<SwitchPort*>& ports() const noexcept { return table_; }
  SwitchPort* port(std::string_view name) const noexcept {
    for (SwitchPort* p : table_)
      if (p->name() == name) return p;
    return nullptr;
  }
  /// One poll of every PMD on the calling thread (tests, no threads).
  uint32_t poll_once() noexcept {
    uint32_t n = 0;
    for (auto& p : pmds_) n += p->poll_once();
    return n;
  }

  // ---- views for the control socket ------------------------------------
  std::string pmd_stats_show() {
    std::string out;
    for (auto& p : pmds_) out += p->pmd_stats_show();
    return out;
  }
  void pmd_stats_clear() {
    for (auto& p : pmds_) p->pmd_stats_clear();
  }
  std::string dpctl_dump_flows() {
    DpPortNamer namer = [this](uint32_t dp) { return of_.dp_port_name(dp); };
    std::string out;
    for (auto& p : pmds_) out += p->dpctl_dump_flows(namer);
    return out;
  }
  /// `ovs-appctl dpctl/show -s` shape: datapath totals, then each port.
  std::string dpctl_show() {
    uint64_t hit = 0, missed = 0, lost = 0, flows = 0;
    for (auto& p : pmds_) {
      std::lock_guard lock(p->mutex());
      const PmdStats& s = p->datapath().stats();
      hit += s.emc_hits + s.megaflow_hits;
      missed += s.upcall_ok + s.lost;
      lost += s.lost;
      flows += p->datapath().megaflows().size();
    }
    std::string out = "netdev@flowpath:\n  lookups: hit:" + std::to_string(hit) +
                      " missed:" + std::to_string(missed) + " lost:" + std::to_string(lost) +
                      "\n  flows: " + std::to_string(flows) + "\n";
    for (SwitchPort* sp : table_) {
      SwitchPortStats s;
      {
        std::lock_guard lock(sp->domain());
        s = sp->stats();
      }
      out += "  port " + std::to_string(sp->dp_port()) + ": " + sp->name() + " (" +
             to_string(sp->kind()) + ", pmd " + std::to_string(sp->pmd()) + ")\n";
      out += "    RX packets:" + std::to_string(s.rx) + " dropped:" + std::to_string(s.rx_dropped) +
             "\n    TX packets:" + std::to_string(s.tx) +
             " dropped:" + std::to_string(s.tx_dropped) + "\n";
    }
    return out;
  }

 private:
  void open_port(const BridgePort& bp) {
    const PortConfig& c = bp.cfg;
    Pmd& pmd = *pmds_[(bp.dp_port - 1) % pmds_.size()];
    std::unique_ptr<SwitchPort> sp;
    switch (opt_.memory_ports ? PortType::kMemory : c.type) {
      case PortType::kAfxdp: {
        AfxdpPort::Config ac;
        auto it = c.options.find("ifname");
        ac.ifname = it != c.options.end() ? it->second : c.name;
        ac.mode = opt_.xdp_mode;
        auto port = std::make_unique<AfxdpPort>(pmd.umem(opt_.umem), ac);
        sp = std::make_unique<SwitchPort>(c.name, bp.dp_port, pmd.index(), std::move(port));
        break;
      }
      case PortType::kInternal: {
        TapPort::Config tc;
        tc.name = c.name;
        sp = std::make_unique<SwitchPort>(c.name, bp.dp_port, pmd.index(),
                                          std::make_unique<TapPort>(tc));
        break;
      }
      case PortType::kMemory:
        if (opt_.memory_ports) {
          MemoryPort::Config mc;
          mc.port_no = bp.dp_port;
          sp = std::make_unique<SwitchPort>(c.name, bp.dp_port, pmd.index(),
                                            std::make_unique<MemoryPort>(mc));
          break;
        }
        [[fallthrough]];
      default:
        throw Error("port " + c.name + ": type " + std::string(to_string(c.type)) +
                    " is not supported by `flowpath switch` (use `flowpath replay`)");
    }
    pmd.add_rx_port(sp.get());
    table_[bp.dp_port - 1] = sp.get();
    owned_.push_back(std::move(sp));
  }

  Options opt_;
  Ofproto of_;
  std::vector<SwitchPort*> table_;          // index dp_port - 1
  std::vector<std::unique_ptr<Pmd>> pmds_;  // own the UMEMs: outlive the ports
  std::vector<std::unique_ptr<SwitchPort>> owned_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace flowpath
