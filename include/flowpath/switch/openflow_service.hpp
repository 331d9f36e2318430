// flowpath/switch/openflow_service.hpp — the OpenFlow channel of a
// running switch: for every bridge whose configuration has
// `set-controller` targets, an OfprotoBackend (switch/openflow_backend.hpp)
// and a Channel (openflow/channel.hpp) with its listeners and controller
// connections.
//
//   OpenFlowService of(sw, cfg);             // binds ptcp:/punix: (throws)
//   // in a poll() loop of the control thread:
//   std::vector<pollfd> fds; of.add_pollfds(fds);
//   poll(fds.data(), fds.size(), of.timeout_ms(now));
//   of.handle(fds, now);
//   // or, on a thread of its own:  of.run(stop);
//
// `ovs-ofctl add-flow unix:/path/br0.mgmt FLOW` then changes the bridge's
// tables as `flowpath ctl add-flow br0 FLOW` does: the next batch of
// every PMD forwards by the new flows; a barrier reply means no PMD will
// use an older flow table (see openflow_backend.hpp).
//
// Fail modes (set-fail-mode): a `secure` bridge keeps its flows and
// forwards nothing new while no controller is connected (no flow is
// added); a `standalone` bridge (the default) with active controller
// targets fails open after three probe intervals without any controller
// connected — a hidden `priority=0xf0f0f0 actions=NORMAL` flow, removed
// when a controller connects (OVS's fail-open.c).
//
// Thread-safety: one thread drives the service; the backends lock the
// Ofproto and the PMDs as the control socket's commands do.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "flowpath/openflow/channel.hpp"
#include "flowpath/switch/openflow_backend.hpp"

namespace flowpath {

class OpenFlowService {
 public:
  OpenFlowService(Switch& sw, const SwitchConfig& cfg, openflow::ChannelOptions opt = {}) {
    for (const BridgeConfig& b : cfg.bridges) {
      if (b.controllers.empty()) continue;
      std::vector<openflow::Target> targets;
      for (const auto& t : b.controllers) targets.push_back(openflow::Target::parse(t));
      auto e = std::make_unique<Entry>();
      e->bridge = b.name;
      e->backend = std::make_unique<OfprotoBackend>(sw.ofproto(), b.name, &sw);
      e->channel = std::make_unique<openflow::Channel>(*e->backend, std::move(targets), opt);
      e->fail_open =
          b.fail_mode != "secure" && e->channel->has_active_targets() && opt.probe_interval_ms > 0;
      e->last_connected = now_ms();
      e->of = &sw.ofproto();
      entries_.push_back(std::move(e));
    }
  }

  bool empty() const noexcept { return entries_.empty(); }
  openflow::Channel* channel(std::string_view bridge) const noexcept {
    for (const auto& e : entries_)
      if (e->bridge == bridge) return e->channel.get();
    return nullptr;
  }

  void add_pollfds(std::vector<pollfd>& fds) const {
    for (const auto& e : entries_) e->channel->add_pollfds(fds);
  }
  int timeout_ms(int64_t now) const {
    int t = -1;
    for (const auto& e : entries_) {
      int c = e->channel->timeout_ms(now);
      if (c >= 0 && (t < 0 || c < t)) t = c;
    }
    return t;
  }
  void handle(const std::vector<pollfd>& fds, int64_t now) {
    for (const auto& e : entries_) {
      e->channel->handle(fds, now);
      if (e->fail_open) fail_open(*e, now);
    }
  }
  /// True while `bridge` forwards by its fail-open flow.
  bool failed_open(std::string_view bridge) const noexcept {
    for (const auto& e : entries_)
      if (e->bridge == bridge) return e->failed_open;
    return false;
  }
  /// The fail-open flow: hidden from OpenFlow (priority above 16 bits).
  static constexpr int32_t kFailOpenPriority = 0xf0f0f0;

  /// Serves until `stop` (checked at least every `tick_ms`).
  void run(const std::atomic<bool>& stop, int tick_ms = 100) {
    std::vector<pollfd> fds;
    while (!stop.load(std::memory_order_relaxed)) {
      fds.clear();
      add_pollfds(fds);
      int t = timeout_ms(now_ms());
      poll(fds.data(), fds.size(), t < 0 || t > tick_ms ? tick_ms : t);
      handle(fds, now_ms());
    }
  }

  static int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }

 private:
  struct Entry {
    std::string bridge;
    Ofproto* of = nullptr;
    bool fail_open = false, failed_open = false;
    int64_t last_connected = 0;
    std::unique_ptr<OfprotoBackend> backend;
    std::unique_ptr<openflow::Channel> channel;
  };
  // OVS's fail-open.c: a standalone bridge whose controllers have all been
  // unreachable for three inactivity-probe intervals forwards as a normal
  // switch (a hidden priority-0xf0f0f0 NORMAL flow) until one connects.
  void fail_open(Entry& e, int64_t now) {
    if (e.channel->num_active_controllers() > 0) {
      e.last_connected = now;
      if (e.failed_open) {
        std::lock_guard lock(e.of->mutex());
        OfFlowFilter f;
        f.strict = true;
        f.table = 0;
        f.priority = kFailOpenPriority;
        e.of->require_bridge(e.bridge).tables().remove(f);
        e.failed_open = false;
      }
      return;
    }
    if (e.failed_open || now - e.last_connected < 3 * e.channel->options().probe_interval_ms)
      return;
    std::lock_guard lock(e.of->mutex());
    e.of->require_bridge(e.bridge).tables().add(0, Match{}, kFailOpenPriority,
                                                {OfAction::output(kOfppNormal)});
    e.failed_open = true;
  }

  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace flowpath
