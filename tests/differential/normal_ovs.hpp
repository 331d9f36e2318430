// tests/differential/normal_ovs.hpp — a private Open vSwitch for the
// differential tests: ovsdb-server + ovs-vswitchd --enable-dummy under a
// fresh temporary directory, configured from flowpath's own configuration
// file (SwitchConfig), torn down by the PIDs it started.
//
// Every bridge gets datapath_type=dummy and every port type=dummy (patch
// ports type=patch), with ofport_request = flowpath's OpenFlow number, so
// the two switches number their ports alike and no kernel device is made:
// this runs without root.  The bridges of several configurations can live
// in one instance as long as their names differ.
//
// Commands go to ovs-vswitchd over its unixctl socket (one connection per
// request, no process per call), so a trace costs well under a millisecond.
// Thread-safety: none.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "flowpath/bridge/config.hpp"
#include "flowpath/control/unixctl_client.hpp"
#include "support/shell.hpp"

namespace flowpath::difftest {

/// Runs a shell command; returns its output, throws Error with it on failure.
inline std::string run(const std::string& cmd) { return test::shell_checked<Error>(cmd); }

inline bool have_tool(const char* name) {
  return std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0;
}

class OvsInstance {
 public:
  /// Why an instance cannot run here (empty: it can).
  static std::string unavailable() {
    for (const char* t : {"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl"})
      if (!have_tool(t)) return std::string(t) + " not found (install openvswitch-switch)";
    if (!std::filesystem::exists("/usr/share/openvswitch/vswitch.ovsschema"))
      return "/usr/share/openvswitch/vswitch.ovsschema not found";
    return "";
  }

  /// kDummy: dummy devices only, no root needed (the differential
  /// tests); kSystem: the real devices of the namespace it runs in, for
  /// tests that need a kernel device's own state (carrier, flags).
  enum class Devices { kDummy, kSystem };

  explicit OvsInstance(Devices devices = Devices::kDummy) {
    char tmpl[] = "/tmp/flowpath-diff-ovs-XXXXXX";
    if (!mkdtemp(tmpl)) throw Error("mkdtemp failed");
    dir_ = tmpl;
    // Every OVS tool this process starts looks here, never at the system's.
    for (const char* v : {"OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"})
      setenv(v, dir_.c_str(), 1);
    db_ = "unix:" + dir_ + "/db.sock";
    run("ovsdb-tool create " + dir_ + "/conf.db /usr/share/openvswitch/vswitch.ovsschema");
    run("ovsdb-server " + dir_ + "/conf.db --remote=p" + db_ + " --pidfile=" + dir_ +
        "/ovsdb-server.pid --unixctl=" + dir_ + "/ovsdb-server.ctl --log-file=" + dir_ +
        "/ovsdb-server.log --detach");
    pids_.push_back(read_pid("ovsdb-server.pid"));
    vsctl("--no-wait init");
    run("ovs-vswitchd " + db_ +
        (devices == Devices::kDummy ? " --enable-dummy=override --disable-system" : "") +
        " --pidfile=" + dir_ + "/ovs-vswitchd.pid --unixctl=" + ctl() + " --log-file=" + dir_ +
        "/ovs-vswitchd.log --detach");
    pids_.push_back(read_pid("ovs-vswitchd.pid"));
  }
  ~OvsInstance() {
    for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) stop(*it);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  OvsInstance(const OvsInstance&) = delete;
  OvsInstance& operator=(const OvsInstance&) = delete;

  const std::string& dir() const { return dir_; }
  std::string ctl() const { return dir_ + "/ovs-vswitchd.ctl"; }
  std::string vsctl(const std::string& args) {
    return run("ovs-vsctl --db=" + db_ + " --timeout=30 " + args);
  }
  std::string appctl(const std::string& method, const std::vector<std::string>& params) {
    UnixctlReply r = unixctl_call(ctl(), method, params);
    if (!r.ok) throw Error("ovs-appctl " + method + ": " + r.error);
    return r.result;
  }

  /// Creates the bridges, ports and flows of `cfg`.
  void configure(const SwitchConfig& cfg) {
    std::string cmd;
    for (const auto& b : cfg.bridges) {
      cmd += " -- add-br " + b.name + " -- set bridge " + b.name + " datapath_type=dummy";
      for (const auto& p : b.ports) {
        if (p.ofport == kOfPortLocal) continue;
        cmd += " -- add-port " + b.name + " " + p.name + port_columns(p);
        cmd += " -- set interface " + p.name + " ofport_request=" + std::to_string(p.ofport);
        if (p.type == PortType::kPatch)
          cmd += " type=patch options:peer=" + p.peer;
        else
          cmd += " type=dummy";
      }
    }
    vsctl(cmd);
    // Flows one by one: as OpenFlow 1.0 + Nicira extensions where they fit
    // (so mod_vlan_vid pushes a tag when there is none, as in flowpath's
    // text), else as OpenFlow 1.3 (goto_table, push_vlan).
    for (const auto& b : cfg.bridges) {
      run("ovs-ofctl del-flows " + b.name);
      for (const auto& f : b.flows) {
        std::string add = "ovs-ofctl add-flow " + b.name + " '" + f.text + "'";
        try {
          run(add);
        } catch (const Error&) {
          run("ovs-ofctl -O OpenFlow13 add-flow " + b.name + " '" + f.text + "'");
        }
      }
    }
    load_dp_ports();
  }

  /// Datapath port number -> port name (from dpif/show).
  const std::map<uint32_t, std::string>& dp_names() const { return dp_names_; }

 private:
  static std::string port_columns(const PortConfig& p) {
    std::string s;
    if (p.tag) s += " tag=" + std::to_string(*p.tag);
    if (!p.trunks.empty()) {
      s += " trunks=";
      for (size_t i = 0; i < p.trunks.size(); ++i)
        s += (i ? "," : "") + std::to_string(p.trunks[i]);
    }
    if (p.vlan_mode) s += " vlan_mode=" + std::string(to_string(*p.vlan_mode));
    return s;
  }
  void load_dp_ports() {
    std::istringstream in(appctl("dpif/show", {}));
    std::string line;
    while (std::getline(in, line)) {
      // "    vm1 1/2: (dummy)": name, OpenFlow port / datapath port.
      std::istringstream ls(line);
      std::string name, nums;
      if (!(ls >> name >> nums)) continue;
      auto slash = nums.find('/');
      if (slash == std::string::npos || nums.back() != ':') continue;
      std::string dp = nums.substr(slash + 1, nums.size() - slash - 2);
      if (dp.empty() || dp.find_first_not_of("0123456789") != std::string::npos) continue;
      dp_names_[uint32_t(std::stoul(dp))] = name;
    }
  }
  pid_t read_pid(const std::string& file) {
    std::ifstream in(dir_ + "/" + file);
    pid_t pid = 0;
    in >> pid;
    if (pid <= 0) throw Error(dir_ + "/" + file + ": no pid");
    return pid;
  }
  static void stop(pid_t pid) {
    if (kill(pid, SIGTERM) != 0) return;
    for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  }

  std::string dir_, db_;
  std::vector<pid_t> pids_;
  std::map<uint32_t, std::string> dp_names_;
};

}  // namespace flowpath::difftest
