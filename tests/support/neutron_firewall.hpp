// tests/support/neutron_firewall.hpp — Neutron's openvswitch firewall on one
// VM port, driven through Ofproto + Datapath, shared by the tests that check
// it alone (tests/datapath/conntrack_neutron_test.cpp) and against a private
// ovs-vswitchd (tests/datapath/conntrack_ovs_test.cpp), so both run exactly
// the same switch:
//
//   br-int: up (ofport 2, the uplink: local VLAN 1), vm (ofport 5, zone 1)
//           table=0,priority=0 → resubmit(,60); table=60,priority=0 → NORMAL
//           + the 72 flows of tests/flow/data/neutron_ovsfw.txt
//
//   neutron::Switch sw(&clock);
//   sw.send(neutron::to_vm("198.51.100.7", 50000, 22, neutron::kSyn, 1, 0), "up");
//
// from_vm() frames are untagged (as the VM sends them), to_vm() frames carry
// VLAN 1 (as they arrive on the uplink), both TCP over IPv4.  Cost: a frame
// is one batch of one packet, so every send is a full datapath pass (EMC,
// megaflow, upcall on a miss).  Test-only: allocates, and throws
// std::runtime_error naming the flow file if it cannot be read.  Not
// thread-safe (a Datapath is one PMD's).
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace flowpath::test::neutron {

inline constexpr const char* kVmMac = "fa:16:3e:11:22:33";
inline constexpr const char* kPeerMac = "fa:16:3e:44:55:66";
inline constexpr const char* kVm = "192.0.2.10";
inline constexpr const char* kFlowFile = FLOWPATH_SOURCE_DIR "/tests/flow/data/neutron_ovsfw.txt";
inline constexpr uint16_t kSyn = 0x002, kSynAck = 0x012, kAck = 0x010;

/// The firewall's flows in ovs-ofctl syntax (comments and blank lines left out).
inline std::vector<std::string> flows() {
  std::ifstream in(kFlowFile);
  if (!in) throw std::runtime_error(std::string("cannot read ") + kFlowFile);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

/// br-int with its two ports, the two base flows and the firewall's flows.
inline SwitchConfig config() {
  std::string text =
      "add-br br-int\n"
      "add-port br-int up ofport=2 type=memory\n"
      "add-port br-int vm ofport=5 type=memory\n"
      "add-flow br-int table=0,priority=0,actions=resubmit(,60)\n"
      "add-flow br-int table=60,priority=0,actions=NORMAL\n";
  for (const auto& f : flows()) text += "add-flow br-int " + f + "\n";
  return SwitchConfig::parse(text);
}

/// From the VM (untagged) to `dst`.
inline std::vector<uint8_t> from_vm(const char* dst, uint16_t sport, uint16_t dport, uint16_t flags,
                                    uint32_t seq, uint32_t ack) {
  return (Eth{mac(kPeerMac), mac(kVmMac)} / IPv4{.src = kVm, .dst = dst} /
          TCP{.sport = sport, .dport = dport, .flags = flags, .seq = seq, .ack = ack})
      .bytes();
}

/// From `src` on the uplink (VLAN 1) to the VM's MAC.
inline std::vector<uint8_t> to_vm(const char* src, uint16_t sport, uint16_t dport, uint16_t flags,
                                  uint32_t seq, uint32_t ack) {
  return (Eth{mac(kVmMac), mac(kPeerMac)} / Dot1Q{.vid = 1} / IPv4{.src = src, .dst = kVm} /
          TCP{.sport = sport, .dport = dport, .flags = flags, .seq = seq, .ack = ack})
      .bytes();
}

/// The switch of config(): an Ofproto and the Datapath over it, both on
/// `clock` (a ManualClock makes conntrack's timestamps fixed).
class Switch {
 public:
  explicit Switch(const Clock* clock = Clock::system())
      : of(config(), Ofproto::Options{clock, {}}), dp(of, datapath_config(clock)) {}

  uint32_t dp_port(std::string_view name) const { return of.find_port(name)->dp_port; }

  /// Sends `frame` in on port `port`; returns the datapath ports it left by,
  /// in order (empty: dropped).
  std::vector<uint32_t> send(const std::vector<uint8_t>& frame, std::string_view port) {
    PacketBuffer buf(frame, dp_port(port));
    Batch b;
    b.push(&buf.packet());
    PortsSink sink;
    dp.process(b, sink);
    return sink.ports;
  }

  Ofproto of;
  Datapath<Ofproto> dp;

 private:
  struct PortsSink {
    std::vector<uint32_t> ports;
    void output(uint32_t port, Packet&, bool) { ports.push_back(port); }
    void drop(Packet&) {}
  };
  static DatapathConfig datapath_config(const Clock* clock) {
    DatapathConfig c;
    c.clock = clock;
    return c;
  }
};

}  // namespace flowpath::test::neutron
