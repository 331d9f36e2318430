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
// copies nothing (a `""`/`system` port opens on a packet socket first and
// moves to AF_XDP behind it: switch_port.hpp, "The move"); internal ->
// TapPort (a TAP device named after the port: a bridge's LOCAL port is
// the interface `br-int`); patch -> nothing (translation crosses patch
// ports in-process); with Options::memory_ports (tests) every other port
// is a MemoryPort; pcap, memory -> an Error (that is `flowpath replay`'s
// job).  Ports are dealt to the PMDs round robin in datapath-port order.
// Each PMD runs its own Datapath<Ofproto> (per-thread caches); the
// Ofproto's mutex serialises the upcalls, and every flow or MAC change
// moves its generation, so each PMD revalidates before its next batch:
// changes take effect at once.
//
// Live reconfiguration (docs/live-reconfiguration.md).  apply(desired)
// diffs by name (config_diff.hpp) and changes only that, while the PMDs
// run: (1) removed ports leave the Ofproto, the port table and their PMD's
// rx list; (2) bridges come and go with every PMD paused for the moment
// (the bridge list is what generation() reads); (3) new ports are opened
// on the calling thread, entered in the port table, published in the
// Ofproto and handed to their PMD; VLAN changes are made in place; flows
// follow; (4) the fence wait_pmds_past(generation) — after it the change
// is "in effect": every PMD's pass sees it, and a new port has been primed
// by its PMD (fill rings full: it receives, pmd.hpp) — then the removed
// ports go to the PortCloser's thread (port_closer.hpp: the slow kernel
// close runs after apply returns) and their datapath numbers become
// reusable (never while a megaflow may name them).  Rx lists change
// read-copy-update (pmd.hpp), no PMD lock.  A port that fails to open is
// an error for it alone (ApplyResult::errors); it is not in the running
// configuration, so the next apply tries again.
//
// Connection tracking: one ct::Conntrack per switch (as OVS has one per
// datapath), shared by every PMD's Datapath (it is safe under concurrent
// PMDs); conntrack() for the dpctl/*conntrack commands (switch_control.hpp),
// sweep_conntrack() from the control loop's periodic tick expires
// connections.
//
// Errors: the constructor throws the first apply error (flowpath::Error,
// nothing left open or attached): bad flows (FILE:LINE from the config),
// no such interface (named), no permission, XDP attach failures.
// Thread-safety: start/stop/apply from one (control) thread; the query
// functions from any thread (they take the PMD mutexes and the Ofproto's,
// never both at once in the opposite order to a PMD).
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/switch/config_diff.hpp"
#include "flowpath/switch/pmd.hpp"
#include "flowpath/switch/port_closer.hpp"

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

/// steady_clock in ns (the stage times of a reconfiguration trace).
inline int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// What apply() did not do: per port (or bridge, for flows) messages.
struct ApplyResult {
  struct Failure {
    std::string name;     // port (or bridge) name
    std::string message;  // "port vm9: no such interface ..."
  };
  std::vector<Failure> errors;
  std::vector<std::string> opened;  // ports whose device was opened (new or re-added)
  uint64_t generation = 0;          // the Ofproto's generation once in effect
  bool in_effect = true;            // false: the fence timed out (PMDs stalled)
  int64_t opened_ns = 0;            // steady_now_ns(): changes made, before the fence
  int64_t fenced_ns = 0;            // steady_now_ns(): the fence passed (or timed out)
  bool failed(std::string_view port) const {
    for (const auto& e : errors)
      if (e.name == port) return true;
    return false;
  }
  bool was_opened(std::string_view port) const {
    for (const auto& n : opened)
      if (n == port) return true;
    return false;
  }
};

class Switch {
 public:
  struct Options {
    std::vector<int> pmd_cores;  // empty: {default_pmd_core()}; -1: do not pin
    XdpMode xdp_mode = XdpMode::kAuto;
    /// 0: PMDs always busy-poll; else an idle PMD sleeps up to this many µs
    /// (pmd.hpp; Open vSwitch's other_config:pmd-maxsleep).
    uint32_t pmd_max_sleep_us = 0;
    /// Tests: every non-patch port (LOCAL ports too) is a MemoryPort, so
    /// a switch runs with no interfaces, no privileges and no threads.
    bool memory_ports = false;
    /// The XDP fast path (docs/xdp-fast-path.md): cacheable flows are
    /// forwarded inside the kernel; a port opts out with options:xdp-fast=false.
    bool xdp_fast = false;
    /// Each AF_XDP port has a Umem of its own with rings of this many
    /// entries (io/afxdp_port.hpp; forwarding between ports copies);
    /// 0: the ports of a PMD share its Umem (`umem`; zero copy between
    /// them, but each port's bind costs the kernel work O(umem frames)).
    uint32_t port_ring = 2048;
    /// A `""`/`system` port (PortConfig::system) opens on a packet socket
    /// and moves to AF_XDP behind it (switch_port.hpp, "The move"), so it
    /// forwards ~1 ms sooner; needs port_ring, not with the XDP fast path.
    bool packet_first = true;
    Umem::Config umem{};
    DatapathConfig datapath{};
    Ofproto::Options ofproto{};
  };

  explicit Switch(const SwitchConfig& cfg) : Switch(cfg, Options{}) {}
  Switch(const SwitchConfig& cfg, Options opt) : Switch(std::move(opt)) {
    ApplyResult r = apply(cfg);
    if (!r.errors.empty()) throw Error(r.errors.front().message);
  }
  /// An empty switch (no bridges): configure it with apply().
  explicit Switch(Options opt)
      : opt_(std::move(opt)),
        of_(SwitchConfig{}, opt_.ofproto),
        table_(new std::atomic<SwitchPort*>[Ofproto::kMaxDpPorts]) {
    if (opt_.pmd_cores.empty()) opt_.pmd_cores.push_back(default_pmd_core());
    if (!opt_.datapath.conntrack) opt_.datapath.conntrack = ct_.get();
    for (uint32_t i = 0; i < Ofproto::kMaxDpPorts; ++i) table_[i].store(nullptr);
    if (opt_.xdp_fast) xdp_ = std::make_unique<XdpFastPath>();
    PortTable table(table_.get(), Ofproto::kMaxDpPorts);
    for (size_t i = 0; i < opt_.pmd_cores.size(); ++i) {
      pmds_.push_back(
          std::make_unique<Pmd>(of_, unsigned(i), opt_.pmd_cores[i], table, opt_.datapath));
      pmds_.back()->set_max_sleep_us(opt_.pmd_max_sleep_us);
    }
    if (xdp_)
      for (auto& p : pmds_) p->enable_xdp_offload(*xdp_);
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

  /// Makes the running configuration `want` (see the header comment).
  ApplyResult apply(SwitchConfig want, int fence_timeout_ms = 5000);
  /// The fence: true once every PMD has revalidated at generation >= g
  /// and polls from the rx list last published, or sleeps (parked: it
  /// syncs before its next packet; woken here) (pmd.hpp).
  /// Without PMD threads (tests) the PMDs are synced on this thread.
  bool wait_pmds_past(uint64_t g, int timeout_ms = 5000) {
    if (!running()) {
      for (auto& p : pmds_) p->sync();
      return true;
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the change, then parked()
    for (auto& p : pmds_)
      for (int spins = 0; p->seen_generation() < g || p->seen_rx_version() < p->rx_version();) {
        if (p->parked()) {
          p->wake();
          if (!p->owes_pass()) break;  // quiescent: its next pass syncs first
        }
        if (std::chrono::steady_clock::now() > until) return false;
        // A woken or running PMD starts its next pass within µs when it
        // has a core: yield first (it may need ours), sleep after.
        if (++spins < 200)
          std::this_thread::yield();
        else
          std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    return true;
  }
  /// Removed ports whose devices are still being closed (port_closer.hpp),
  /// and a wait for them all (tests; stop() does not need it).
  size_t closing() const { return closer_.pending(); }
  void finish_closing() { closer_.close_all(); }
  /// Starts creating the next AF_XDP port's own Umem on a thread of its
  /// own (its memory faulted in and registered: 8 MB, ~6 ms at load), so
  /// that an add only attaches and binds; the control loop calls it after
  /// a change was answered.  An add that comes first waits for it.
  void prepare_spare();
  /// The configuration running now (what apply() achieved).
  const SwitchConfig& config() const noexcept { return cfg_; }

  Ofproto& ofproto() noexcept { return of_; }
  const Options& options() const noexcept { return opt_; }
  /// The tracker every PMD's ct() runs (Options::datapath.conntrack if given).
  ct::Conntrack& conntrack() noexcept { return *opt_.datapath.conntrack; }
  /// Expires connections at the datapath clock's now; returns how many.
  size_t sweep_conntrack() { return conntrack().sweep(opt_.datapath.clock->now_ms()); }
  size_t num_pmds() const noexcept { return pmds_.size(); }
  Pmd& pmd(size_t i) noexcept { return *pmds_[i]; }
  /// The open ports, in datapath-number order (control thread).
  std::vector<SwitchPort*> ports() const {
    std::vector<SwitchPort*> out;
    for (uint32_t i = 0; i < Ofproto::kMaxDpPorts; ++i)
      if (SwitchPort* p = table_[i].load(std::memory_order_acquire)) out.push_back(p);
    return out;
  }
  SwitchPort* port(std::string_view name) const noexcept {
    for (const auto& p : owned_)
      if (p->name() == name) return p.get();
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
    DpPortNamer namer = [this](uint32_t dp) {
      std::lock_guard lock(of_.mutex());  // after the PMD's: the PMDs' order
      return of_.dp_port_name(dp);
    };
    std::string out;
    for (auto& p : pmds_) out += p->dpctl_dump_flows(namer);
    return out;
  }
  /// The XDP fast path's shared maps, or nullptr when it is off.
  XdpFastPath* xdp_fast_path() noexcept { return xdp_.get(); }
  /// Reads kernel hits back into the flow and rule counters now.
  void collect_xdp_counters() {
    for (auto& p : pmds_) p->collect_xdp_counters();
  }
  /// `ovs-appctl dpctl/show -s` shape: datapath totals, then each port.
  std::string dpctl_show();

 private:
  std::unique_ptr<SwitchPort> open_port(const PortConfig& c, uint32_t dp);
  std::unique_ptr<AfxdpPort> open_afxdp(AfxdpPort::Config& ac, Pmd& pmd);
  std::unique_ptr<SwitchPort> open_system(const PortConfig& c, uint32_t dp, Pmd& pmd,
                                          AfxdpPort::Config ac);
  std::unique_ptr<Umem> take_spare();
  void retire_port(const std::string& name, std::vector<std::unique_ptr<SwitchPort>>& closing,
                   std::vector<uint32_t>& numbers);
  /// After the fence (fenced) or its timeout: the retired ports to the
  /// closer and their numbers to the free list, or both kept for good.
  void release_retired(bool fenced, std::vector<std::unique_ptr<SwitchPort>>& closing,
                       std::vector<uint32_t>& numbers);
  static bool reopens_a_closing_device(const ConfigDiff& d,
                                       const std::vector<std::unique_ptr<SwitchPort>>& closing);
  void add_port(const std::string& bridge, const PortConfig& pc, ApplyResult& r);
  /// Runs fn with every PMD paused between two batches (bridge list changes).
  template <typename Fn>
  void with_pmds_paused(Fn&& fn) {
    std::vector<std::unique_lock<std::mutex>> locks;
    for (auto& p : pmds_) locks.emplace_back(p->mutex());
    fn();
  }

  Options opt_;
  Ofproto of_;
  std::unique_ptr<ct::Conntrack> ct_ = std::make_unique<ct::Conntrack>();  // outlives the PMDs
  SwitchConfig cfg_;                                                       // running configuration
  std::unique_ptr<std::atomic<SwitchPort*>[]> table_;                      // slot dp_port - 1
  std::unique_ptr<XdpFastPath> xdp_;        // outlives the PMDs' offloads
  std::vector<std::unique_ptr<Pmd>> pmds_;  // own the UMEMs: outlive the ports
  std::vector<std::unique_ptr<SwitchPort>> owned_;
  std::vector<std::unique_ptr<SwitchPort>> graveyard_;  // removed, fence timed out
  PortCloser closer_;  // after pmds_: closes with their mutexes and UMEMs alive
  std::future<std::unique_ptr<Umem>> spare_making_;  // prepare_spare()
  std::unique_ptr<Umem> spare_;                      // made, not yet used
  std::shared_ptr<std::atomic<int>> spare_tid_;      // the maker's thread (take_spare)
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace flowpath

#include "flowpath/switch/switch_apply.hpp"
