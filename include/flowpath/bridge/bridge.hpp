// flowpath/bridge/bridge.hpp — one OpenFlow bridge: its ports, its 255
// OpenFlow tables and its MAC learning table.
//
// A Bridge is the control-plane object of `add-br`: it owns no packets and
// runs no loop.  Packets reach it only through translation (xlate.hpp),
// which the datapath calls on a cache miss.  Ports are kept sorted by
// OpenFlow port number, LOCAL (65534) last, so that flooding visits them
// in the order `ovs-ofctl show` lists them.
//
// Thread-safety: none; the owner (Ofproto) serialises access.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "flowpath/bridge/controller_sink.hpp"
#include "flowpath/bridge/openflow_table.hpp"
#include "flowpath/bridge/port.hpp"
#include "flowpath/classify/classifier.hpp"
#include "flowpath/core/stats.hpp"
#include "flowpath/l2/mac_table.hpp"

namespace flowpath {

class Bridge;

/// The OpenFlow tables of a bridge, over flowpath's fast classifier.
using BridgeTables = OpenFlowTable<Classifier<OfRulePtr>>;

/// A port as the running switch sees it.
struct BridgePort {
  PortConfig cfg;
  Bridge* bridge = nullptr;
  uint32_t dp_port = 0;        // datapath port number; 0 for patch ports
  BridgePort* peer = nullptr;  // patch ports: the other end
  // Patch ports: packets and bytes that crossed to the peer (tx) and came
  // from it (rx) since the port was added, as OVS counts a patch port's
  // statistics.  Every datapath flow whose translation crossed carries
  // both (Xlate::output_port), so each hit of the flow counts here, as it
  // counts in the rules it went through.  Null for other ports.
  std::shared_ptr<RuleStats> patch_tx, patch_rx;
  // OpenFlow port config bits (OFPPC_*) set by port-mod; PORT_DOWN only
  // for ports without a device (a device's own flags say it otherwise).
  // Translation honours NO_FLOOD and NO_FWD, as OVS's xlate; NO_PACKET_IN
  // is kept and shown only: OVS 3.1 still sends the port's packet-ins
  // (tests/openflow/port_mod_ofctl_test.cpp).
  uint32_t of_config = 0;
  static constexpr uint32_t kNoFlood = 0x10, kNoFwd = 0x20;

  const std::string& name() const noexcept { return cfg.name; }
  uint32_t ofport() const noexcept { return cfg.ofport; }
  bool is_patch() const noexcept { return cfg.type == PortType::kPatch; }
  void make_patch_counters() {
    patch_tx = std::make_shared<RuleStats>();
    patch_rx = std::make_shared<RuleStats>();
  }
};

class Bridge {
 public:
  Bridge(std::string name, const Clock* clock, MacTableConfig mac_cfg = {})
      : name_(std::move(name)), tables_(clock), macs_(mac_cfg, clock) {}

  const std::string& name() const noexcept { return name_; }
  BridgeTables& tables() noexcept { return tables_; }
  const BridgeTables& tables() const noexcept { return tables_; }
  MacTable& macs() noexcept { return macs_; }
  const MacTable& macs() const noexcept { return macs_; }

  const std::vector<BridgePort*>& ports() const noexcept { return ports_; }
  void add_port(BridgePort* p) {
    auto it = ports_.begin();
    while (it != ports_.end() && (*it)->ofport() < p->ofport()) ++it;
    ports_.insert(it, p);
  }
  /// Takes a port out (live reconfiguration); the caller owns it.
  void remove_port(const BridgePort* p) noexcept {
    for (auto it = ports_.begin(); it != ports_.end(); ++it)
      if (*it == p) {
        ports_.erase(it);
        return;
      }
  }
  BridgePort* port_by_ofport(uint32_t ofport) const noexcept {
    for (auto* p : ports_)
      if (p->ofport() == ofport) return p;
    return nullptr;
  }
  BridgePort* port_by_name(std::string_view name) const noexcept {
    for (auto* p : ports_)
      if (p->name() == name) return p;
    return nullptr;
  }
  std::string port_name(uint32_t ofport) const {
    if (auto* p = port_by_ofport(ofport)) return p->name();
    return std::to_string(ofport);
  }
  /// Where this bridge's packet-ins go (bridge/controller_sink.hpp);
  /// nullptr: CONTROLLER actions drop.  Set under the Ofproto's lock.
  ControllerSink* controller_sink() const noexcept { return controller_sink_; }
  void set_controller_sink(ControllerSink* s) noexcept { controller_sink_ = s; }

  /// OpenFlow port number -> name, for the ovs-ofctl printers.
  PortNamer namer() const {
    return [this](uint32_t ofport) -> std::optional<std::string> {
      if (auto* p = port_by_ofport(ofport)) return p->name();
      return std::nullopt;
    };
  }
  /// Name (or number) -> OpenFlow port number, for the ovs-ofctl parsers.
  PortNameResolver resolver() const {
    return [this](std::string_view name) -> std::optional<uint32_t> {
      if (auto* p = port_by_name(name)) return p->ofport();
      return std::nullopt;
    };
  }

 private:
  std::string name_;
  std::vector<BridgePort*> ports_;
  BridgeTables tables_;
  MacTable macs_;
  ControllerSink* controller_sink_ = nullptr;
};

}  // namespace flowpath
