// flowpath/openflow/stats.hpp — multipart (1.3) / stats (1.0) messages:
// flow, aggregate, table, port, port-desc, table-features and desc, and
// the Nicira NXST_FLOW / NXST_AGGREGATE vendor stats; plus the Message
// variant over every message kind.
//
// Thread-safety: plain values.
#pragma once

#include <variant>

#include "flowpath/openflow/messages.hpp"

namespace flowpath::openflow {

enum class StatsType : uint16_t {
  kDesc = 0,
  kFlow = 1,
  kAggregate = 2,
  kTable = 3,
  kPort = 4,
  kTableFeatures = 12,
  kPortDesc = 13,  // OF1.0 too: Open vSwitch's extension
};

struct StatsRequest {
  StatsType type = StatsType::kDesc;
  uint16_t flags = 0;
  MatchFormat match_format = MatchFormat::kOf10;  // kNxm = NXST_FLOW/AGGREGATE
  // flow / aggregate:
  Match match;
  uint8_t table_id = 0xff;
  uint32_t out_port = kOfppNone;
  uint32_t out_group = kAnyGroup;
  uint64_t cookie = 0, cookie_mask = 0;
  // port stats:
  uint32_t port_no = kOfppNone;  // kOfppNone = all ports
  friend bool operator==(const StatsRequest&, const StatsRequest&) = default;
};

struct FlowStats {
  uint8_t table_id = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  int32_t priority = 32768;
  uint16_t idle_timeout = 0, hard_timeout = 0, flags = 0;
  uint16_t importance = 0;              // 1.4+ (a pad before)
  uint16_t idle_age = 0, hard_age = 0;  // NXST_FLOW only
  uint64_t cookie = 0, packet_count = 0, byte_count = 0;
  Match match;
  InstructionSet instructions;
  friend bool operator==(const FlowStats&, const FlowStats&) = default;
};
struct AggregateStats {
  uint64_t packet_count = 0, byte_count = 0;
  uint32_t flow_count = 0;
  friend bool operator==(const AggregateStats&, const AggregateStats&) = default;
};
struct TableStats {
  uint8_t table_id = 0;
  std::string name;  // 1.0
  uint32_t wildcards = 0, max_entries = 0;
  uint32_t active_count = 0;
  uint64_t lookup_count = 0, matched_count = 0;
  friend bool operator==(const TableStats&, const TableStats&) = default;
};
struct PortStats {
  uint32_t port_no = 0;
  // rx_packets, tx_packets, rx_bytes, tx_bytes, rx_dropped, tx_dropped,
  // rx_errors, tx_errors, rx_frame_err, rx_over_err, rx_crc_err, collisions
  std::array<uint64_t, 12> counters{};
  uint32_t duration_sec = 0, duration_nsec = 0;  // 1.3
  friend bool operator==(const PortStats&, const PortStats&) = default;
};
/// A table-features entry without properties (OVS's ovs-ofctl only needs
/// the tables to be listed).
struct TableFeatures {
  uint8_t table_id = 0;
  std::string name;
  uint64_t metadata_match = 0, metadata_write = 0;
  uint32_t config = 0, max_entries = 0;
  friend bool operator==(const TableFeatures&, const TableFeatures&) = default;
};
struct SwitchDesc {
  std::string mfr, hw, sw, serial, dp;
  friend bool operator==(const SwitchDesc&, const SwitchDesc&) = default;
};

struct StatsReply {
  StatsType type = StatsType::kDesc;
  uint16_t flags = 0;  // 1 = more replies follow
  MatchFormat match_format = MatchFormat::kOf10;
  SwitchDesc desc;
  std::vector<FlowStats> flows;
  AggregateStats aggregate;
  std::vector<TableStats> tables;
  std::vector<PortStats> ports;
  std::vector<PortDesc> port_descs;
  std::vector<TableFeatures> table_features;
  friend bool operator==(const StatsReply&, const StatsReply&) = default;
};

using MessageBody =
    std::variant<Hello, ErrorMsg, EchoRequest, EchoReply, FeaturesRequest, FeaturesReply,
                 GetConfigRequest, SwitchConfig, BarrierRequest, BarrierReply, FlowMod, PacketIn,
                 PacketOut, PortStatus, FlowRemoved, StatsRequest, StatsReply, SetFlowFormat,
                 SetPacketInFormat, FlowModTableId, BundleControl, BundleAdd, PortMod>;

struct Message {
  uint8_t version = kOfp13;
  uint32_t xid = 0;
  MessageBody body;
  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace flowpath::openflow
