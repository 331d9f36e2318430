// tests/support/ofctl_sides.hpp — the two switches of a differential
// ovs-ofctl test, driven alike: flowpath (an OpenFlowSwitch with memory
// ports) and a private Open vSwitch (dummy ports, in-band frames through
// netdev-dummy/receive).  Both start from the same config text.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "differential/normal_ovs.hpp"
#include "support/openflow_switch.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

namespace flowpath::test {

/// A frame as hex digits without spaces (netdev-dummy/receive's form).
inline std::string hexstr(const std::vector<uint8_t>& b) {
  std::string s = hex(b);
  std::erase(s, ' ');
  return s;
}

/// A flows file for `ovs-ofctl add-flows`, in a temp dir of its own
/// (/tmp/<prefix>-XXXXXX, removed with it).
class OfctlFlowFile {
 public:
  OfctlFlowFile(const std::string& text, const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl);
    dir_ = tmpl;
    std::ofstream(path()) << text;
  }
  ~OfctlFlowFile() {
    unlink(path().c_str());
    rmdir(dir_.c_str());
  }
  OfctlFlowFile(const OfctlFlowFile&) = delete;
  OfctlFlowFile& operator=(const OfctlFlowFile&) = delete;
  std::string path() const { return dir_ + "/flows.txt"; }

 private:
  std::string dir_;
};

/// One switch under test.
struct OfctlSide {
  virtual ~OfctlSide() = default;
  virtual std::string target() = 0;
  virtual void inject(const std::string& port, const std::vector<uint8_t>& frame) = 0;
  virtual void add_port(const std::string& name, int ofport) = 0;
  virtual void del_port(const std::string& name) = 0;
  /// After a flow change, before the next frame: OVS revalidates its
  /// datapath flows asynchronously (flowpath's next batch does it).
  virtual void settle() {}
};

class FlowpathOfctlSide : public OfctlSide {
 public:
  /// polls: batches run after each injected frame (one per recirculation).
  FlowpathOfctlSide(const char* config, const char* name, int polls = 1)
      : s_(config, name), polls_(polls) {}
  std::string target() override { return s_.target(); }
  void inject(const std::string& port, const std::vector<uint8_t>& frame) override {
    s_.sw().port(port)->memory()->inject(frame);
    for (int i = 0; i < polls_; ++i) s_.sw().poll_once();
  }
  void add_port(const std::string& name, int ofport) override {
    auto& ports = s_.config().bridges[0].ports;
    ports.push_back(PortConfig{});
    ports.back().name = name;
    ports.back().ofport = ofport;
    s_.sw().apply(s_.config());
  }
  void del_port(const std::string& name) override {
    std::erase_if(s_.config().bridges[0].ports,
                  [&](const PortConfig& p) { return p.name == name; });
    s_.sw().apply(s_.config());
  }
  Switch& sw() { return s_.sw(); }
  OpenFlowService& svc() { return s_.svc(); }

 private:
  OpenFlowSwitch s_;
  int polls_;
};

/// Bridge br0 of the config, fail-mode secure, no flows.
class OvsOfctlSide : public OfctlSide {
 public:
  explicit OvsOfctlSide(const char* config) {
    ovs_.configure(SwitchConfig::parse(config));
    ovs_.vsctl("set bridge br0 fail-mode=secure");
    shell_output("ovs-ofctl del-flows " + target());
  }
  std::string target() override { return "unix:" + ovs_.dir() + "/br0.mgmt"; }
  void inject(const std::string& port, const std::vector<uint8_t>& frame) override {
    ovs_.appctl("netdev-dummy/receive", {port, hexstr(frame)});
  }
  void add_port(const std::string& name, int ofport) override {
    ovs_.vsctl("add-port br0 " + name + " -- set interface " + name +
               " type=dummy ofport_request=" + std::to_string(ofport));
  }
  void del_port(const std::string& name) override { ovs_.vsctl("del-port br0 " + name); }
  void settle() override { ovs_.appctl("revalidator/wait", {}); }

 private:
  difftest::OvsInstance ovs_;
};

}  // namespace flowpath::test
