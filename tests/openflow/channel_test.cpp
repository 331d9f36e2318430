// The channel's socket shell without ovs-ofctl: target syntax, the config
// lines, and an active unix: target that connects to a listener of the
// test, says hello, and reconnects with backoff after the peer goes.
#include "flowpath/openflow/channel.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "flowpath/switch/openflow_service.hpp"

namespace of = flowpath::openflow;

TEST(OpenflowChannel, TargetsParseAsOvsVsctl) {
  using K = of::Target::Kind;
  auto t = of::Target::parse("tcp:192.0.2.10");
  EXPECT_EQ(t.kind, K::kTcp);
  EXPECT_EQ(t.ip, "192.0.2.10");
  EXPECT_EQ(t.port, 6653);
  EXPECT_EQ(of::Target::parse("tcp:192.0.2.10:6633").port, 6633);
  t = of::Target::parse("ptcp:");
  EXPECT_EQ(t.kind, K::kPtcp);
  EXPECT_EQ(t.port, 6653);
  EXPECT_EQ(t.ip, "");
  t = of::Target::parse("ptcp:0:127.0.0.1");
  EXPECT_EQ(t.port, 0);
  EXPECT_EQ(t.ip, "127.0.0.1");
  EXPECT_EQ(of::Target::parse("ptcp::127.0.0.1").port, 6653);
  EXPECT_EQ(of::Target::parse("punix:/run/x.mgmt").path, "/run/x.mgmt");
  EXPECT_TRUE(of::Target::parse("punix:/run/x.mgmt").passive());
  EXPECT_FALSE(of::Target::parse("unix:/run/x.mgmt").passive());
  for (const char* bad : {"tcp", "tcp:", "tcp:999.1.1.1", "tcp:192.0.2.1:70000", "ptcp:x",
                          "ssl:192.0.2.1", "unix:", "tcp:192.0.2.1:"}) {
    EXPECT_THROW(of::Target::parse(bad), flowpath::Error) << bad;
  }
  try {
    of::Target::parse("tcp:192.0.2.1:70000");
  } catch (const flowpath::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'tcp:192.0.2.1:70000'"), std::string::npos);
  }
}

TEST(OpenflowChannel, ConfigLines) {
  auto cfg = flowpath::SwitchConfig::parse(
      "add-br br0\nset-controller br0 punix:/tmp/a tcp:192.0.2.1\nset-fail-mode br0 secure\n");
  EXPECT_EQ(cfg.bridges[0].controllers,
            (std::vector<std::string>{"punix:/tmp/a", "tcp:192.0.2.1"}));
  EXPECT_EQ(cfg.bridges[0].fail_mode, "secure");
  cfg = flowpath::SwitchConfig::parse("add-br br0\nset-controller br0 ptcp:\nset-controller br0\n");
  EXPECT_TRUE(cfg.bridges[0].controllers.empty());  // the last line wins, as ovs-vsctl
  auto error = [](const char* text) {
    try {
      flowpath::SwitchConfig::parse(text, "t.conf");
    } catch (const flowpath::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("add-br br0\nset-controller br0 tcp:nowhere\n").find("t.conf:2: OpenFlow target"),
            std::string::npos);
  EXPECT_NE(error("add-br br0\nset-fail-mode br0 open\n").find("t.conf:2: usage: set-fail-mode"),
            std::string::npos);
  EXPECT_NE(error("set-controller br9 ptcp:\n").find("unknown bridge 'br9'"), std::string::npos);
}

namespace channel_test {
int listen_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) || listen(fd, 4)) {
    close(fd);
    return -1;
  }
  return fd;
}
/// Drives the channel until `done` or `ms` elapse; returns the clock.
template <class F>
int64_t drive(of::Channel& ch, int64_t now, int ms, F done) {
  for (int64_t end = now + ms; now < end && !done(); now += 10) {
    std::vector<pollfd> fds;
    ch.add_pollfds(fds);
    poll(fds.data(), fds.size(), 10);
    ch.handle(fds, now);
  }
  return now;
}
// A fresh private directory for one test's unix sockets, removed with
// whatever the test left in it on every exit (a failed ASSERT included).
struct SocketDir {
  std::string dir;
  explicit SocketDir(const char* prefix) {
    std::string tmpl = std::string("/tmp/") + prefix + "XXXXXX";
    if (char* d = mkdtemp(tmpl.data())) dir = d;
  }
  ~SocketDir() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  std::string path(const char* name) const { return dir + "/" + name; }
};

TEST(OpenflowChannel, ActiveTargetConnectsAndReconnectsWithBackoff) {
  SocketDir tmp("fp-ofchan-");
  ASSERT_FALSE(tmp.dir.empty()) << "mkdtemp in /tmp failed";
  std::string path = tmp.path("ctrl.sock");
  flowpath::Ofproto ofp(flowpath::SwitchConfig::parse("add-br br0\n"));
  flowpath::OfprotoBackend be(ofp, "br0");
  of::Channel ch(be, {of::Target::parse("unix:" + path)});
  // No controller yet: attempts fail and back off.
  int64_t now = drive(ch, 0, 50, [] { return false; });
  EXPECT_EQ(ch.timeout_ms(now), int(1000 - now));  // next attempt after 1 s
  int lfd = listen_unix(path);
  ASSERT_GE(lfd, 0);
  int peer = -1;
  now = drive(ch, 1000, 100,
              [&] { return (peer = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0; });
  ASSERT_GE(peer, 0) << "the channel did not connect after its backoff";
  auto hello = of::encode(of::Message{of::kOfp13, 1, of::Hello{1u << 4}});
  ASSERT_EQ(write(peer, hello.data(), hello.size()), ssize_t(hello.size()));
  now = drive(ch, now, 500, [&] { return ch.num_active() == 1; });
  EXPECT_EQ(ch.num_active(), 1u);
  uint8_t buf[64];
  EXPECT_GE(read(peer, buf, sizeof buf), 16);  // our hello
  EXPECT_EQ(buf[1], 0);                        // OFPT_HELLO
  close(peer);                                 // the controller goes away
  now = drive(ch, now, 200, [&] { return ch.num_active() == 0; });
  EXPECT_EQ(ch.num_active(), 0u);
  peer = -1;
  drive(ch, now, 1500, [&] { return (peer = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0; });
  EXPECT_GE(peer, 0) << "no reconnection";
  if (peer >= 0) close(peer);
  close(lfd);
}

/// A switch whose br0 (p1, p2) has a unix: controller target at `path`.
struct FailModeSwitch {
  flowpath::SwitchConfig cfg;
  std::unique_ptr<flowpath::Switch> sw;
  std::unique_ptr<flowpath::OpenFlowService> svc;
  FailModeSwitch(const std::string& path, const char* mode) {
    cfg = flowpath::SwitchConfig::parse(
        "add-br br0\nadd-port br0 p1\nadd-port br0 p2\n"
        "set-controller br0 unix:" +
        path + "\nset-fail-mode br0 " + mode + "\n");
    flowpath::Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    sw = std::make_unique<flowpath::Switch>(cfg, o);
    of::ChannelOptions co;
    co.probe_interval_ms = 50;  // fail open after 150 ms
    svc = std::make_unique<flowpath::OpenFlowService>(*sw, cfg, co);
  }
  void serve_for(int ms) {
    for (int64_t end = flowpath::OpenFlowService::now_ms() + ms;
         flowpath::OpenFlowService::now_ms() < end;) {
      std::vector<pollfd> fds;
      svc->add_pollfds(fds);
      poll(fds.data(), fds.size(), 10);
      svc->handle(fds, flowpath::OpenFlowService::now_ms());
    }
  }
  size_t forwarded() {  // one broadcast frame from p1: copies that reach p2
    size_t before = sw->port("p2")->memory()->sent().size();
    std::vector<uint8_t> f(60, 0);
    std::fill(f.begin(), f.begin() + 6, 0xff);
    f[6] = 2, f[11] = 1, f[12] = 0x08, f[13] = 0x06;
    sw->port("p1")->memory()->inject(f);
    sw->poll_once();
    return sw->port("p2")->memory()->sent().size() - before;
  }
};

TEST(OpenflowChannel, StandaloneFailsOpenSecureDoesNot) {
  SocketDir tmp("fp-ofchfo-");
  ASSERT_FALSE(tmp.dir.empty()) << "mkdtemp in /tmp failed";
  std::string path = tmp.path("ctrl.sock");
  FailModeSwitch secure(path, "secure");
  FailModeSwitch standalone(path, "standalone");
  EXPECT_EQ(standalone.forwarded(), 0u);
  secure.serve_for(250);
  standalone.serve_for(250);
  EXPECT_TRUE(standalone.svc->failed_open("br0"));
  EXPECT_EQ(standalone.forwarded(), 1u);  // NORMAL floods to p2
  EXPECT_FALSE(secure.svc->failed_open("br0"));
  EXPECT_EQ(secure.forwarded(), 0u);
  // Hidden from OpenFlow: flow stats do not list it.
  flowpath::OfprotoBackend be(standalone.sw->ofproto(), "br0");
  of::StatsRequest rq;
  rq.type = of::StatsType::kFlow;
  EXPECT_TRUE(be.stats(rq).flows.empty());
  // A controller connects: the fail-open flow goes.
  int lfd = listen_unix(path);
  ASSERT_GE(lfd, 0);
  int peer = -1;
  for (int i = 0; i < 200 && peer < 0; ++i) {
    standalone.serve_for(10);
    peer = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
  }
  ASSERT_GE(peer, 0);
  auto hello = of::encode(of::Message{of::kOfp13, 1, of::Hello{1u << 4}});
  ASSERT_EQ(write(peer, hello.data(), hello.size()), ssize_t(hello.size()));
  standalone.serve_for(100);
  EXPECT_FALSE(standalone.svc->failed_open("br0"));
  EXPECT_EQ(standalone.forwarded(), 0u);
  close(peer);
  close(lfd);
}

}  // namespace channel_test
