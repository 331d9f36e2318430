// tests/support/openflow_switch.hpp — a flowpath switch on memory ports
// with its OpenFlow service listening on `punix:DIR/br0.mgmt` in a private
// temp dir (mkdtemp): the flowpath side of tests that drive both switches with
// ovs-ofctl, as a private ovs-vswitchd is driven.
//
//   OpenFlowSwitch s(kConfig, "fp-ofasync");   // config text without set-controller
//   shell_output("ovs-ofctl add-flow " + s.target() + " actions=NORMAL");
//   s.sw().port("p1")->memory()->inject(frame);
//   s.sw().poll_once();
//
// The service runs on a thread of its own (10 ms poll); the PMD does not
// run (pmd_cores {-1}): the test polls.  OVS_RUNDIR is set to the dir, so
// `ovs-ofctl monitor` puts its own control socket there.  The destructor
// stops the service and removes the dir.  Thread-safety: one test thread.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "flowpath/switch/openflow_service.hpp"

namespace flowpath::test {

class OpenFlowSwitch {
 public:
  OpenFlowSwitch(const std::string& config, const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw Error("mkdtemp " + tmpl + " failed");
    dir_ = tmpl;
    setenv("OVS_RUNDIR", dir_.c_str(), 1);  // ovs-ofctl monitor's own control socket
    cfg_ = SwitchConfig::parse(config + "set-controller br0 punix:" + dir_ + "/br0.mgmt\n");
    Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    sw_ = std::make_unique<Switch>(cfg_, o);
    svc_ = std::make_unique<OpenFlowService>(*sw_, cfg_);
    thread_ = std::thread([this] { svc_->run(stop_, 10); });
  }
  OpenFlowSwitch(const OpenFlowSwitch&) = delete;
  OpenFlowSwitch& operator=(const OpenFlowSwitch&) = delete;
  ~OpenFlowSwitch() {
    stop_ = true;
    thread_.join();
    svc_.reset();
    sw_.reset();
    unlink((dir_ + "/br0.mgmt").c_str());
    rmdir(dir_.c_str());
  }

  std::string target() const { return "unix:" + dir_ + "/br0.mgmt"; }
  Switch& sw() { return *sw_; }
  OpenFlowService& svc() { return *svc_; }
  /// The configuration the switch runs (change it, then sw().apply(config())).
  SwitchConfig& config() { return cfg_; }

 private:
  std::string dir_;
  SwitchConfig cfg_;
  std::unique_ptr<Switch> sw_;
  std::unique_ptr<OpenFlowService> svc_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace flowpath::test
