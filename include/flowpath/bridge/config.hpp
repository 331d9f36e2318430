// flowpath/bridge/config.hpp — the switch configuration file.
//
// One command per line, in ovs-vsctl / ovs-ofctl words:
//
//   add-br BRIDGE
//   add-port BRIDGE PORT [type=afxdp|system|pcap|memory|internal|patch] [ofport=N]
//            [tag=N] [trunks=N,N,...]
//            [vlan_mode=access|trunk|native-tagged|native-untagged]
//            [peer=PORT] [options:KEY=VALUE ...]
//   add-flow BRIDGE FLOW          (FLOW: the rest of the line, ovs-ofctl)
//   set-controller BRIDGE TARGET...   (OpenFlow: tcp:IP[:PORT], unix:PATH,
//                                      ptcp:[PORT][:IP], punix:PATH)
//   set-fail-mode BRIDGE secure|standalone
//
// `#` starts a comment; blank lines are ignored.  Ports without ofport are
// numbered 1, 2, ... per bridge in order of appearance, skipping numbers
// taken explicitly; every bridge also gets its LOCAL port (65534, type
// internal, named after the bridge).  The default port type is afxdp;
// type=system is an AF_XDP port opened as ovs-vsctl's `""`/`system`
// interfaces are (on a packet socket first, PortConfig::system).
//
// parse() checks everything that does not need the flow parser: unknown
// keywords and options, unknown bridge, duplicate bridge or port names
// (port names are unique across the switch, as in Open vSwitch), duplicate
// ofports, VLAN ranges, patch peers that are missing or not mutual.  Flow
// text is kept with its file:line and checked when the bridges are built.
// Every error is a flowpath::Error "FILE:LINE: message".
//
// Thread-safety: plain values; parse() is reentrant.
#pragma once

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "flowpath/bridge/port.hpp"
#include "flowpath/core/error.hpp"
#include "flowpath/openflow/target.hpp"

namespace flowpath {

struct FlowLine {
  std::string text;   // ovs-ofctl flow text
  std::string where;  // "FILE:LINE", for error messages
};

struct BridgeConfig {
  std::string name;
  std::vector<PortConfig> ports;  // LOCAL last
  std::vector<FlowLine> flows;
  std::vector<std::string> controllers;  // set-controller targets (openflow/target.hpp)
  std::string fail_mode;                 // set-fail-mode: "", "secure" or "standalone"
};

struct SwitchConfig {
  std::vector<BridgeConfig> bridges;

  static SwitchConfig parse(std::string_view text, std::string_view source = "config");
  static SwitchConfig load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot open configuration file");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
  }

  BridgeConfig* find_bridge(std::string_view name) {
    for (auto& b : bridges)
      if (b.name == name) return &b;
    return nullptr;
  }
  const PortConfig* find_port(std::string_view name) const {
    for (const auto& b : bridges)
      for (const auto& p : b.ports)
        if (p.name == name) return &p;
    return nullptr;
  }
};

namespace config_detail {

inline std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <class T>
T number(std::string_view s, T max, const std::string& where, std::string_view what) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max)
    throw Error(where + ": bad " + std::string(what) + " '" + std::string(s) + "' (expected 0.." +
                std::to_string(max) + ")");
  return v;
}

inline void parse_port_option(PortConfig& p, std::string_view opt, const std::string& where) {
  if (opt.starts_with("options:")) {
    auto kv = opt.substr(8);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw Error(where + ": bad option '" + std::string(opt) + "' (expected options:KEY=VALUE)");
    p.options[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    return;
  }
  auto eq = opt.find('=');
  if (eq == std::string_view::npos)
    throw Error(where + ": bad port setting '" + std::string(opt) + "' (expected KEY=VALUE)");
  auto key = opt.substr(0, eq), val = opt.substr(eq + 1);
  if (key == "type") {
    p.system = val == "system";
    if (val == "afxdp" || val == "system")
      p.type = PortType::kAfxdp;
    else if (val == "pcap")
      p.type = PortType::kPcap;
    else if (val == "memory")
      p.type = PortType::kMemory;
    else if (val == "internal")
      p.type = PortType::kInternal;
    else if (val == "patch")
      p.type = PortType::kPatch;
    else
      throw Error(where + ": unknown port type '" + std::string(val) +
                  "' (expected afxdp, system, pcap, memory, internal or patch)");
  } else if (key == "ofport") {
    p.ofport = number<uint32_t>(val, 0xfeff, where, "ofport");
    if (p.ofport == 0) throw Error(where + ": bad ofport '0' (OpenFlow ports start at 1)");
  } else if (key == "tag") {
    p.tag = number<uint16_t>(val, 4095, where, "tag");
  } else if (key == "trunks") {
    p.trunks.clear();
    size_t i = 0;
    while (i <= val.size()) {
      size_t j = val.find(',', i);
      if (j == std::string_view::npos) j = val.size();
      p.trunks.push_back(number<uint16_t>(val.substr(i, j - i), 4095, where, "trunk VLAN"));
      i = j + 1;
    }
  } else if (key == "vlan_mode") {
    if (val == "access")
      p.vlan_mode = VlanMode::kAccess;
    else if (val == "trunk")
      p.vlan_mode = VlanMode::kTrunk;
    else if (val == "native-tagged")
      p.vlan_mode = VlanMode::kNativeTagged;
    else if (val == "native-untagged")
      p.vlan_mode = VlanMode::kNativeUntagged;
    else
      throw Error(where + ": unknown vlan_mode '" + std::string(val) +
                  "' (expected access, trunk, native-tagged or native-untagged)");
  } else if (key == "peer") {
    p.peer = std::string(val);
  } else {
    throw Error(where + ": unknown port setting '" + std::string(key) + "'");
  }
}

inline void number_ports(BridgeConfig& b) {
  uint32_t next = 1;
  auto taken = [&](uint32_t n) {
    for (const auto& p : b.ports)
      if (p.ofport == n) return true;
    return false;
  };
  for (auto& p : b.ports) {
    if (p.ofport) continue;
    while (taken(next)) ++next;
    p.ofport = next++;
  }
}

}  // namespace config_detail

inline SwitchConfig SwitchConfig::parse(std::string_view text, std::string_view source) {
  using namespace config_detail;
  SwitchConfig cfg;
  std::vector<std::string> port_where;  // parallel to ports in order of appearance
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    std::string where = std::string(source) + ":" + std::to_string(line_no);
    auto words = split_words(line);
    std::string_view cmd = words[0];
    auto need = [&](size_t n, const char* usage) {
      if (words.size() < n) throw Error(where + ": usage: " + usage);
    };
    auto bridge = [&](std::string_view name) -> BridgeConfig& {
      BridgeConfig* b = cfg.find_bridge(name);
      if (!b) throw Error(where + ": unknown bridge '" + std::string(name) + "'");
      return *b;
    };
    if (cmd == "add-br") {
      need(2, "add-br BRIDGE");
      if (words.size() > 2) throw Error(where + ": unexpected '" + std::string(words[2]) + "'");
      if (cfg.find_bridge(words[1]) || cfg.find_port(words[1]))
        throw Error(where + ": duplicate bridge '" + std::string(words[1]) + "'");
      cfg.bridges.push_back(BridgeConfig{std::string(words[1]), {}, {}, {}, {}});
    } else if (cmd == "add-port") {
      need(3, "add-port BRIDGE PORT [KEY=VALUE...]");
      BridgeConfig& b = bridge(words[1]);
      if (cfg.find_port(words[2]) || cfg.find_bridge(words[2]))
        throw Error(where + ": duplicate port '" + std::string(words[2]) + "'");
      PortConfig p;
      p.name = std::string(words[2]);
      for (size_t i = 3; i < words.size(); ++i) parse_port_option(p, words[i], where);
      if (p.type == PortType::kPatch && p.peer.empty())
        throw Error(where + ": patch port '" + p.name + "' needs peer=PORT");
      if (p.type != PortType::kPatch && !p.peer.empty())
        throw Error(where + ": peer= is only for type=patch ports ('" + p.name + "')");
      for (const auto& q : b.ports)
        if (p.ofport && q.ofport == p.ofport)
          throw Error(where + ": ofport " + std::to_string(p.ofport) + " already used by '" +
                      q.name + "' on bridge '" + b.name + "'");
      b.ports.push_back(std::move(p));
      port_where.push_back(where);
    } else if (cmd == "add-flow") {
      need(3, "add-flow BRIDGE FLOW");
      BridgeConfig& b = bridge(words[1]);
      auto rest = line.substr(size_t(words[2].data() - line.data()));
      b.flows.push_back(FlowLine{std::string(trim(rest)), where});
    } else if (cmd == "set-controller") {
      need(2, "set-controller BRIDGE [TARGET...]");
      BridgeConfig& b = bridge(words[1]);
      b.controllers.clear();  // as ovs-vsctl: the last line wins
      for (size_t i = 2; i < words.size(); ++i) {
        try {
          openflow::Target::parse(words[i]);
        } catch (const Error& e) {
          throw Error(where + ": " + e.what());
        }
        b.controllers.emplace_back(words[i]);
      }
    } else if (cmd == "set-fail-mode") {
      need(3, "set-fail-mode BRIDGE secure|standalone");
      if (words.size() > 3 || (words[2] != "secure" && words[2] != "standalone"))
        throw Error(where + ": usage: set-fail-mode BRIDGE secure|standalone");
      bridge(words[1]).fail_mode = std::string(words[2]);
    } else {
      throw Error(where + ": unknown command '" + std::string(cmd) +
                  "' (expected add-br, add-port or add-flow)");
    }
  }
  // Patch peers must exist, be patch ports, and point back.
  for (auto& b : cfg.bridges) {
    for (auto& p : b.ports) {
      if (p.type == PortType::kPatch) {
        const PortConfig* q = cfg.find_port(p.peer);
        std::string w = std::string(source);
        if (!q) throw Error(w + ": patch port '" + p.name + "': peer '" + p.peer + "' missing");
        if (q->type != PortType::kPatch || q->peer != p.name)
          throw Error(w + ": patch port '" + p.name + "': peer '" + p.peer +
                      "' is not a patch port whose peer is '" + p.name + "'");
      }
    }
    number_ports(b);
    PortConfig local;
    local.name = b.name;
    local.type = PortType::kInternal;
    local.ofport = kOfPortLocal;
    b.ports.push_back(std::move(local));
  }
  return cfg;
}

}  // namespace flowpath
