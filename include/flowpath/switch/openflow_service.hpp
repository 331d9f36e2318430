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
    for (const auto& e : entries_) e->channel->handle(fds, now);
  }

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
    std::unique_ptr<OfprotoBackend> backend;
    std::unique_ptr<openflow::Channel> channel;
  };
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace flowpath
