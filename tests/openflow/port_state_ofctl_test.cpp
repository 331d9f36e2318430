// OpenFlow port state (docs/openflow.md, "Port state"): the real ovs-ofctl
// against a private ovs-vswitchd (netdev datapath, system ports) and
// against a flowpath Switch (system ports) with its OpenFlowService, on
// the same veths in the test's own network namespace, one switch after
// the other.  `show` (1.0), `dump-ports-desc` (1.3, 1.4) print the same
// config and state lines — LINK_DOWN while the veth peer is down, LIVE
// (1.3+) while it is up, PORT_DOWN when the device itself is down — and
// `ovs-ofctl monitor` sees the same port-status MODIFYs when links go
// down and up while the switch runs.  `ovs-ofctl mod-port` in 1.0, 1.3
// and 1.4 (no-forward, no-packet-in, no-flood, down, up, ...): the same
// config lines, the device set down and up again, the same MODIFYs.
// Real frames (veth to veth through flowpath): FLOOD and NORMAL's
// flooding skip a no-flood port, ALL does not, nothing is output to a
// no-forward port; each against a control without the bit.
// Needs root (skips without it).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "differential/normal_ovs.hpp"
#include "flowpath/switch/openflow_service.hpp"
#include "support/ofctl_monitor.hpp"
#include "support/private_netns.hpp"
#include "support/shell.hpp"

namespace flowpath {
namespace port_state_ofctl_test {

// Port 1 on fps-a0 (peer fps-a1), port 2 on fps-b0 (peer fps-b1).
const char* const kLinks[] = {"fps-a", "fps-b"};

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string checked(const std::string& cmd) {
  test::ShellResult r = test::shell(cmd);
  if (!r.ok()) throw Error(cmd + ": " + r.out);
  return r.out;
}

/// Every link back to the start: both ends up, but fps-a1 (so fps-a0 has
/// no carrier).
void reset_links() {
  test::sh(
      "ip link set fps-a0 up; ip link set fps-a1 down; ip link set fps-b0 up;"
      "ip link set fps-b1 up");
}

/// A private ovs-vswitchd in this process's namespace: bridge psovs on
/// the netdev datapath, fps-a0 and fps-b0 as its system ports 1 and 2,
/// fail-mode secure; its LOCAL device set up (flowpath brings its LOCAL
/// TAP up when it opens it; OVS leaves it down).  Stopped by the PIDs it
/// started; its dir removed.
class OvsSwitch {
 public:
  OvsSwitch()
      : ovs_(std::make_unique<difftest::OvsInstance>(difftest::OvsInstance::Devices::kSystem)) {
    ovs_->vsctl(
        "add-br psovs -- set bridge psovs datapath_type=netdev fail-mode=secure"
        " -- add-port psovs fps-a0 -- set interface fps-a0 ofport_request=1"
        " -- add-port psovs fps-b0 -- set interface fps-b0 ofport_request=2");
    test::sh("ip link set psovs up");
  }
  ~OvsSwitch() {
    ovs_.reset();  // stopped first, then its LOCAL device removed
    test::sh("ip link del psovs");
  }
  OvsSwitch(const OvsSwitch&) = delete;
  OvsSwitch& operator=(const OvsSwitch&) = delete;
  std::string target() const { return "unix:" + ovs_->dir() + "/psovs.mgmt"; }

 private:
  std::unique_ptr<difftest::OvsInstance> ovs_;
};

/// flowpath: bridge psfp with fps-a0 and fps-b0 as system ports 1 and 2
/// (its LOCAL port the TAP psfp), served on punix:DIR/psfp.mgmt by an
/// OpenFlowService on a thread of its own; no PMD thread (poll() runs
/// it); `extra`: more config lines.
class FlowpathSwitch {
 public:
  explicit FlowpathSwitch(const std::string& extra = "") {
    char tmpl[] = "/tmp/fp-ofps-fp-XXXXXX";
    if (!mkdtemp(tmpl)) throw Error("mkdtemp failed");
    dir_ = tmpl;
    setenv("OVS_RUNDIR", dir_.c_str(), 1);  // ovs-ofctl monitor's own control socket
    cfg_ = SwitchConfig::parse(
        "add-br psfp\nadd-port psfp fps-a0 type=system ofport=1\n"
        "add-port psfp fps-b0 type=system ofport=2\nset-fail-mode psfp secure\n" +
        extra + "set-controller psfp punix:" + dir_ + "/psfp.mgmt\n");
    Switch::Options o;
    o.pmd_cores = {-1};
    sw_ = std::make_unique<Switch>(cfg_, o);
    svc_ = std::make_unique<OpenFlowService>(*sw_, cfg_);
    thread_ = std::thread([this] { svc_->run(stop_, 10); });
  }
  ~FlowpathSwitch() {
    stop_ = true;
    thread_.join();
    svc_.reset();
    sw_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FlowpathSwitch(const FlowpathSwitch&) = delete;
  FlowpathSwitch& operator=(const FlowpathSwitch&) = delete;
  std::string target() const { return "unix:" + dir_ + "/psfp.mgmt"; }
  void poll() { sw_->poll_once(); }

 private:
  std::string dir_;
  SwitchConfig cfg_;
  std::unique_ptr<Switch> sw_;
  std::unique_ptr<OpenFlowService> svc_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The port lines of ovs-ofctl's printout, one per port (or port-status):
/// "MOD: 1(fps-a0) config=0 state=LIVE"; the LOCAL port's name (the
/// bridge's) as "br"; MACs, speeds and everything else left out.
std::vector<std::string> port_lines(const std::string& text) {
  static const std::regex head(R"((?:(ADD|DEL|MOD): )?(\d+|LOCAL)\(([^)]*)\): addr:)");
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string cur;
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, head)) {
      cur = (m[1].matched ? m[1].str() + ": " : "") + m[2].str() + "(" +
            (m[2] == "LOCAL" ? std::string("br") : m[3].str()) + ")";
    } else if (!cur.empty() && l.rfind("     config:", 0) == 0) {
      cur += " config=" + l.substr(l.find_first_not_of(' ', 12));
    } else if (!cur.empty() && l.rfind("     state:", 0) == 0) {
      out.push_back(cur + " state=" + l.substr(l.find_first_not_of(' ', 11)));
      cur.clear();
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

/// What both switches print for the ports in 1.0 (show), 1.3 and 1.4
/// (dump-ports-desc), with fps-a0 without carrier, then again once
/// fps-b0 itself is down.
std::string describe(const std::string& t) {
  std::string out;
  auto all = [&] {
    out += "show\n" + joined(port_lines(checked("ovs-ofctl show " + t)));
    out += "1.3\n" + joined(port_lines(checked("ovs-ofctl -O OpenFlow13 dump-ports-desc " + t)));
    out += "1.4\n" + joined(port_lines(checked("ovs-ofctl -O OpenFlow14 dump-ports-desc " + t)));
  };
  all();
  test::sh("ip link set fps-b0 down");
  sleep_ms(300);
  all();
  return out;
}

/// Links going down and up under `ovs-ofctl OPTS monitor TARGET 65534`:
/// its port-status lines.
std::vector<std::string> link_changes(const std::string& t, const std::string& opts) {
  // 1.2 s a step: the kernel reports a carrier coming up through its
  // linkwatch, which may wait up to 1 s; a shorter step could let the
  // next change overtake it (on either switch) on a loaded machine.
  std::string text = test::ofctl_monitored(t, opts, 65534, 7, [] {
    for (const char* cmd : {"ip link set fps-a1 up", "ip link set fps-a1 down",
                            "ip link set fps-b0 down", "ip link set fps-b0 up"}) {
      test::sh(cmd);
      sleep_ms(1200);
    }
  });
  return port_lines(text);
}

/// OVS clears a port's LIVE bit (its port_run: no carrier) before it
/// sees the device's new flags, so a link going down gives two MODIFYs,
/// "state=0" then "state=LINK_DOWN"; flowpath reads both from one ioctl
/// and sends the second only.
std::vector<std::string> without_transitional(std::vector<std::string> v) {
  std::erase_if(v, [](const std::string& l) { return l.ends_with(" state=0"); });
  return v;
}

/// Whether the device is administratively up (`ip link`'s UP flag).
std::string admin(const char* dev) {
  std::string l = test::sh_out(std::string("ip -o link show ") + dev);
  return std::regex_search(l, std::regex("[<,]UP[,>]")) ? "ip:up\n" : "ip:down\n";
}

/// ovs-ofctl mod-port in each version, as a user types it, and what the
/// switch then shows (1.0, 1.3, 1.4) and the device is; returns the
/// printouts and, in `mods`, what a 1.3 monitor saw meanwhile.
std::string mod_ports(const std::string& t, std::vector<std::string>& mods) {
  std::string out;
  auto show = [&] {
    out += "show\n" + joined(port_lines(checked("ovs-ofctl show " + t)));
    out += "1.3\n" + joined(port_lines(checked("ovs-ofctl -O OpenFlow13 dump-ports-desc " + t)));
    out += "1.4\n" + joined(port_lines(checked("ovs-ofctl -O OpenFlow14 dump-ports-desc " + t)));
    out += admin("fps-b0");
  };
  auto mod = [&](const std::string& opts, const std::string& args) {
    test::ShellResult r = test::shell("ovs-ofctl " + opts + " mod-port " + t + " " + args);
    out += opts + " " + args + " -> " + std::to_string(r.status) + "\n";
  };
  std::string text = test::ofctl_monitored(t, "-O OpenFlow13", 65534, 9, [&] {
    mod("", "fps-b0 no-forward");
    mod("-O OpenFlow13", "fps-b0 no-packet-in");
    mod("-O OpenFlow13", "fps-b0 no-flood");  // 1.3 has no NO_FLOOD: no change
    mod("", "fps-b0 no-flood");
    mod("-O OpenFlow14", "2 down");
    sleep_ms(300);
    show();
    mod("-O OpenFlow14", "2 up");
    // the carrier follows the device up through the kernel's linkwatch
    // (up to 1 s): the next change waits for it on both switches
    for (int i = 0; i < 300 && test::sh_out("cat /sys/class/net/fps-b0/operstate") != "up\n"; ++i)
      sleep_ms(10);
    sleep_ms(200);  // read by the switch (flowpath: two 20 ms polls)
    mod("", "fps-b0 forward");
    mod("", "fps-b0 flood");
    mod("-O OpenFlow13", "fps-b0 packet-in");
    sleep_ms(1500);  // the carrier's return (linkwatch: up to 1 s)
    show();
  });
  mods = port_lines(text);
  // Half-way states either switch may catch: OVS's LIVE bit cleared
  // before the new flags (state=0 in 1.3), and a device set up before its
  // carrier follows (fps-b0's peer stays up).
  std::erase_if(mods, [](const std::string& l) {
    return l.ends_with(" state=0") ||
           (l.ends_with(" state=LINK_DOWN") && l.find("PORT_DOWN") == std::string::npos);
  });
  return out;
}

class PortStateOfctl : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = test::private_netns();
    if (!why.empty()) GTEST_SKIP() << "skipped: " << why;
    for (const char* t : {"ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl"})
      if (!test::shell(std::string("command -v ") + t).ok())
        GTEST_SKIP() << t << " not found (install openvswitch-switch)";
    for (const char* l : kLinks) {
      std::string n = l;
      ASSERT_EQ(test::sh("ip link add " + n + "0 type veth peer name " + n + "1"), 0) << n;
    }
    reset_links();
  }
  void TearDown() override {
    for (const char* l : kLinks) test::sh(std::string("ip link del ") + l + "0");
  }
};

TEST_F(PortStateOfctl, ShowAndPortDescPrintTheStateOvsPrints) {
  std::string ovs, fp;
  {
    OvsSwitch o;
    sleep_ms(500);  // the ports' state read
    ovs = describe(o.target());
  }
  reset_links();
  {
    FlowpathSwitch f;
    fp = describe(f.target());
  }
  // The states this is about, in each version (the control: OVS's own).
  for (const std::string* s : {&ovs, &fp}) {
    EXPECT_NE(s->find("show\n1(fps-a0) config=0 state=LINK_DOWN\n2(fps-b0) config=0 state=0\n"),
              std::string::npos)
        << *s;
    EXPECT_NE(s->find("1.3\n1(fps-a0) config=0 state=LINK_DOWN\n2(fps-b0) config=0 state=LIVE\n"),
              std::string::npos)
        << *s;
    EXPECT_NE(s->find("2(fps-b0) config=PORT_DOWN state=LINK_DOWN\n"), std::string::npos) << *s;
  }
  EXPECT_EQ(fp, ovs);
}

TEST_F(PortStateOfctl, MonitorSeesLinkDownAndUpAsOvs) {
  for (const char* opts : {"-O OpenFlow13", "-O OpenFlow10"}) {
    std::vector<std::string> ovs, fp;
    reset_links();
    {
      OvsSwitch o;
      sleep_ms(500);
      ovs = link_changes(o.target(), opts);
    }
    reset_links();
    {
      FlowpathSwitch f;
      sleep_ms(100);
      fp = link_changes(f.target(), opts);
    }
    const std::vector<std::string> want13 = {
        "MOD: 1(fps-a0) config=0 state=LIVE", "MOD: 1(fps-a0) config=0 state=LINK_DOWN",
        "MOD: 2(fps-b0) config=PORT_DOWN state=LINK_DOWN", "MOD: 2(fps-b0) config=0 state=LIVE"};
    if (std::string(opts) != "-O OpenFlow10") {
      EXPECT_EQ(fp, want13) << opts << "\n" << joined(fp);
      EXPECT_EQ(without_transitional(ovs), want13) << opts << "\n" << joined(ovs);
    } else {
      // 1.0 has no LIVE: "up" is state 0, so OVS's transitional MODIFY
      // cannot be told from it; both switches' last word per change.
      EXPECT_EQ(fp.size(), 4u) << joined(fp);
      EXPECT_NE(joined(fp).find("MOD: 1(fps-a0) config=0 state=LINK_DOWN\n"), std::string::npos);
      EXPECT_NE(joined(ovs).find("MOD: 1(fps-a0) config=0 state=LINK_DOWN\n"), std::string::npos);
      EXPECT_EQ(fp.back(), ovs.back());
    }
  }
}

TEST_F(PortStateOfctl, ModPortAsOvs) {
  std::string ovs, fp;
  std::vector<std::string> ovs_mods, fp_mods;
  {
    OvsSwitch o;
    sleep_ms(500);
    ovs = mod_ports(o.target(), ovs_mods);
  }
  reset_links();
  {
    FlowpathSwitch f;
    sleep_ms(100);
    fp = mod_ports(f.target(), fp_mods);
  }
  // The control: what OVS does, as the docs say.
  EXPECT_NE(ovs.find("show\n1(fps-a0) config=0 state=LINK_DOWN\n"
                     "2(fps-b0) config=PORT_DOWN NO_FLOOD NO_FWD NO_PACKET_IN state=LINK_DOWN\n"),
            std::string::npos)
      << ovs;
  EXPECT_NE(ovs.find("1.3\n1(fps-a0) config=0 state=LINK_DOWN\n"
                     "2(fps-b0) config=PORT_DOWN NO_FWD NO_PACKET_IN state=LINK_DOWN\n"),
            std::string::npos)
      << ovs;
  EXPECT_NE(ovs.find("ip:down\n"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("2(fps-b0) config=0 state=LIVE\n"), std::string::npos) << ovs;
  EXPECT_EQ(fp, ovs);
  EXPECT_EQ(fp_mods, ovs_mods) << "flowpath:\n" << joined(fp_mods) << "OVS:\n" << joined(ovs_mods);
  EXPECT_GE(ovs_mods.size(), 6u) << joined(ovs_mods);
}

/// Sends `frame` into port 1 (from fps-a1), polls the switch; which of
/// fps-b1 (port 2) and fps-c1 (port 3) got it: "b", "c", "bc" or "".
std::string arrivals(FlowpathSwitch& f, test::RawSocket& a, test::RawSocket& b, test::RawSocket& c,
                     const std::vector<uint8_t>& frame) {
  while (!b.recv(0).empty() || !c.recv(0).empty()) {
  }
  a.send(frame);
  for (int i = 0; i < 50; ++i) f.poll(), sleep_ms(2);
  std::string out;
  for (auto [s, n] : {std::pair{&b, "b"}, std::pair{&c, "c"}})
    for (std::vector<uint8_t> got; !(got = s->recv(50)).empty();)
      if (got == frame) {
        out += n;
        break;
      }
  return out;
}

TEST_F(PortStateOfctl, NoFloodAndNoForwardKeepFramesOffThePort) {
  ASSERT_EQ(test::sh("ip link add fps-c0 type veth peer name fps-c1"), 0);
  test::sh("ip link set fps-a1 up; ip link set fps-c0 up; ip link set fps-c1 up");
  {
    FlowpathSwitch f("add-port psfp fps-c0 type=system ofport=3\n");
    test::RawSocket a("fps-a1"), b("fps-b1"), c("fps-c1");
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    const std::string t = f.target();
    auto flow = [&](const std::string& actions) {
      checked("ovs-ofctl del-flows " + t);
      checked("ovs-ofctl add-flow " + t + " in_port=1,actions=" + actions);
    };
    std::vector<uint8_t> frame = test::udp_frame(4000, 0x5a);  // to 02:00:00:00:00:02
    std::vector<uint8_t> bcast = frame;
    std::fill(bcast.begin(), bcast.begin() + 6, 0xff);
    flow("FLOOD");
    EXPECT_EQ(arrivals(f, a, b, c, frame), "bc");  // the control
    checked("ovs-ofctl mod-port " + t + " fps-b0 no-flood");
    EXPECT_EQ(arrivals(f, a, b, c, frame), "c");
    flow("ALL");  // ALL ignores NO_FLOOD (OVS too)
    EXPECT_EQ(arrivals(f, a, b, c, frame), "bc");
    flow("NORMAL");  // NORMAL's flooding skips it
    EXPECT_EQ(arrivals(f, a, b, c, bcast), "c");
    checked("ovs-ofctl mod-port " + t + " fps-b0 flood");
    EXPECT_EQ(arrivals(f, a, b, c, bcast), "bc");
    flow("output:2,output:3");
    EXPECT_EQ(arrivals(f, a, b, c, frame), "bc");
    checked("ovs-ofctl -O OpenFlow13 mod-port " + t + " 2 no-forward");
    EXPECT_EQ(arrivals(f, a, b, c, frame), "c");
    flow("FLOOD");
    EXPECT_EQ(arrivals(f, a, b, c, frame), "c");
    checked("ovs-ofctl -O OpenFlow14 mod-port " + t + " 2 forward");
    EXPECT_EQ(arrivals(f, a, b, c, frame), "bc");
  }
  test::sh("ip link del fps-c0");
}

}  // namespace port_state_ofctl_test
}  // namespace flowpath
