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
// Asynchronous messages (to every connection that wants them: active
// ones by default, passive ones once they set a non-zero miss_send_len):
// - packet-in: each bridge's PacketInQueue (switch/packet_in_queue.hpp)
//   is its ControllerSink; handle() drains it.  As OVS with no buffers:
//   buffer_id NO_BUFFER and the whole frame (max_len and miss_send_len
//   only truncate buffered packets); OpenFlow 1.3 connections get no
//   implicit table misses, 1.0 ones do while any is connected
//   (miss_to_controller; the caches are flushed when that changes).
// - port-status: the bridge's ports are compared with the last snapshot
//   (every poll_interval_ms): ADD, DELETE, MODIFY — also when a port's
//   device goes down or up, or loses or gains its carrier (the port state
//   OfprotoBackend::port_descs reads: one ioctl per port).  A change is
//   sent once two reads a poll apart agree.
// - flow-removed: OfprotoBackend::take_removed() (timeouts, deletes).
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
#include "flowpath/switch/packet_in_queue.hpp"

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
      e->ports = e->backend->port_descs();
      {
        std::lock_guard lock(e->of->mutex());
        e->of->require_bridge(b.name).set_controller_sink(&e->queue);
      }
      entries_.push_back(std::move(e));
    }
  }
  ~OpenFlowService() {
    for (const auto& e : entries_) {
      std::lock_guard lock(e->of->mutex());
      if (Bridge* b = e->of->find_bridge(e->bridge); b && b->controller_sink() == &e->queue)
        b->set_controller_sink(nullptr);
    }
  }
  OpenFlowService(const OpenFlowService&) = delete;
  OpenFlowService& operator=(const OpenFlowService&) = delete;

  /// Packet-ins dropped on `bridge` because its queue was full.
  uint64_t packet_ins_dropped(std::string_view bridge) const noexcept {
    for (const auto& e : entries_)
      if (e->bridge == bridge) return e->queue.dropped();
    return 0;
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
    // Packet-ins wait in the queues and ports change without waking
    // poll(): come back soon enough to pass them on.
    if (!entries_.empty() && (t < 0 || t > kPollIntervalMs)) t = kPollIntervalMs;
    return t;
  }
  void handle(const std::vector<pollfd>& fds, int64_t now) {
    for (const auto& e : entries_) {
      e->channel->handle(fds, now);
      // a port-mod's MODIFY goes out now, one per port-mod (as OVS), not
      // merged with the next one into the next poll
      if (e->backend->take_port_mods()) send_port_status(*e, true);
      if (e->fail_open) fail_open(*e, now);
      update_miss(*e);
      send_packet_ins(*e);
      if (now - e->last_poll >= kPollIntervalMs) {
        e->last_poll = now;
        send_port_status(*e);
        for (auto& fr : e->backend->take_removed())
          e->channel->broadcast_async_by(
              [&](const openflow::Connection&) -> std::optional<openflow::MessageBody> {
                return fr;
              });
      }
    }
  }
  /// How often port changes and flow expiry are looked at.
  static constexpr int kPollIntervalMs = 20;
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
    PacketInQueue queue;
    std::vector<PacketInEvent> pending;
    std::vector<openflow::PortDesc> ports;  // as last reported
    std::vector<openflow::PortDesc> seen;   // as last read
    int64_t last_poll = 0;
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

  // OVS's connmgr_wants_packet_in_on_miss(): an OpenFlow 1.0 connection
  // that takes packet-ins makes table misses go to the controller.  The
  // cached drop flows must go when that changes.
  static void update_miss(Entry& e) {
    bool want = e.channel->wants_implicit_miss();
    if (want == e.queue.miss_to_controller()) return;
    std::lock_guard lock(e.of->mutex());
    e.queue.set_miss_to_controller(want);
    e.of->port_changed();
  }
  static void send_packet_ins(Entry& e) {
    e.queue.take(e.pending);
    for (PacketInEvent& ev : e.pending)
      e.channel->broadcast_async_by([&](const openflow::Connection& c) {
        return packet_in_for(ev, c.version(), c.packet_in_format());
      });
  }
  static std::optional<openflow::MessageBody> packet_in_for(const PacketInEvent& ev,
                                                            uint8_t version, uint8_t format) {
    const bool v13 = version >= openflow::kOfp13;
    openflow::PacketIn pin;
    switch (ev.out.reason) {
      case PacketInReason::kNoMatch:
        if (v13) return std::nullopt;  // OpenFlow 1.3: no implicit table-miss packet-in
        pin.reason = 0;
        break;
      case PacketInReason::kExplicitMiss:
        pin.reason = v13 ? 0 : 1;
        break;
      case PacketInReason::kAction:
        // 1.4's OFPR_PACKET_OUT (5): a packet-out's output to the
        // controller, which has no rule (cookie all-ones); OFPR_ACTION
        // before 1.4, as OVS's encode_packet_in_reason
        pin.reason = version >= openflow::kOfp14 && ev.out.cookie == ~0ull ? 5 : 1;
        break;
    }
    pin.buffer_id = openflow::kNoBuffer;
    pin.total_len = uint16_t(std::min<size_t>(ev.data.size(), 0xffff));
    pin.in_port = ev.out.in_port;
    pin.table_id = ev.out.table_id;
    pin.format = format;
    // The Nicira formats carry what 1.3's does in 1.0 too (as OVS).
    pin.cookie = v13 || format ? ev.out.cookie : 0;
    if (v13 || format) pin.match = packet_in_match(ev.out), pin.ct_tuple = ev.out.ct_tuple;
    pin.data.assign(ev.data.begin(), ev.data.begin() + pin.total_len);
    return pin;
  }
  // A change is reported once two reads a poll apart agree: a device
  // going down loses its carrier a few ms before its IFF_UP (the kernel's
  // dev_close), and that half-way state is not worth a MODIFY.
  // `at_once`: after a port-mod, whose change is no half-way state.
  static void send_port_status(Entry& e, bool at_once = false) {
    std::vector<openflow::PortDesc> now = e.backend->port_descs();
    if (now == e.ports || (now != e.seen && !at_once)) {
      e.seen = std::move(now);
      return;
    }
    e.seen = now;
    auto find = [](const std::vector<openflow::PortDesc>& v, uint32_t no) {
      for (const auto& d : v)
        if (d.port_no == no) return &d;
      return static_cast<const openflow::PortDesc*>(nullptr);
    };
    auto send = [&](uint8_t reason, const openflow::PortDesc& d,
                    const openflow::PortDesc* old = nullptr) {
      e.channel->broadcast_async_by(
          [&](const openflow::Connection& c) -> std::optional<openflow::MessageBody> {
            // a MODIFY the connection's version cannot show (NO_FLOOD or
            // LIVE in 1.0...) is not sent, as OVS's connmgr_send_port_status
            if (old && openflow::encode({c.version(), 0, openflow::PortStatus{reason, *old}}) ==
                           openflow::encode({c.version(), 0, openflow::PortStatus{reason, d}}))
              return std::nullopt;
            return openflow::PortStatus{reason, d};
          });
    };
    for (const auto& d : e.ports)
      if (!find(now, d.port_no)) send(1, d);  // OFPPR_DELETE
    for (const auto& d : now) {
      const openflow::PortDesc* old = find(e.ports, d.port_no);
      if (!old)
        send(0, d);  // OFPPR_ADD
      else if (!(*old == d))
        send(2, d, old);  // OFPPR_MODIFY
    }
    e.ports = std::move(now);
  }

  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace flowpath
