// tests/ovsdb/ovsdb_server.hpp — a private ovsdb-server for the tests: its
// own temp directory (database, sockets, pid, log; OVS_RUNDIR/DBDIR/LOGDIR/
// SYSCONFDIR point there), run in the foreground and stopped by its PID,
// never the system's.  available() says why it cannot run (tests skip).
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/shell.hpp"

namespace flowpath::testing {

class OvsdbServer {
 public:
  static constexpr const char* kSchema = "/usr/share/openvswitch/vswitch.ovsschema";

  /// "" when ovsdb-server, ovsdb-tool, ovs-vsctl and the schema exist.
  static std::string available() {
    for (const char* p :
         {"/usr/sbin/ovsdb-server", "/usr/bin/ovsdb-tool", "/usr/bin/ovs-vsctl", kSchema})
      if (access(p, X_OK) != 0 && access(p, R_OK) != 0)
        return std::string(p) + " missing (install openvswitch-switch)";
    return {};
  }

  OvsdbServer() {
    char tmpl[] = "/tmp/fp-ovsdb-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    for (const char* v : {"OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"})
      setenv(v, dir_.c_str(), 1);
    run({"/usr/bin/ovsdb-tool", "create", db(), kSchema});
    start();
  }
  ~OvsdbServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void start() {
    std::filesystem::remove(sock());
    std::filesystem::remove(dir_ + "/ovsdb.log");
    pid_ = fork();
    if (pid_ == 0) {
      std::string remote = "--remote=punix:" + sock(), pid = "--pidfile=" + dir_ + "/ovsdb.pid",
                  ctl = "--unixctl=" + dir_ + "/ovsdb.ctl",
                  log = "--log-file=" + dir_ + "/ovsdb.log";
      execl("/usr/sbin/ovsdb-server", "ovsdb-server", db().c_str(), remote.c_str(),
            "--remote=ptcp:0:127.0.0.1", pid.c_str(), ctl.c_str(), log.c_str(), "-vconsole:off",
            (char*)nullptr);
      _exit(127);
    }
    // Ready when the socket exists and the log names the TCP port.
    const std::string key = "listening on port ";
    for (int i = 0; i < 500; ++i) {
      std::ifstream in(dir_ + "/ovsdb.log");
      std::stringstream ss;
      ss << in.rdbuf();
      std::string log = ss.str();
      size_t at = log.find(key);
      if (std::filesystem::exists(sock()) && at != std::string::npos) {
        tcp_port_ = std::atoi(log.c_str() + at + key.size());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("ovsdb-server did not come up in " + dir_);
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    kill(pid_, SIGCONT);  // a paused server would never see the SIGTERM
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  /// SIGSTOP / SIGCONT: a server that keeps its sockets but says nothing.
  void pause(bool stop) const {
    if (pid_ > 0) kill(pid_, stop ? SIGSTOP : SIGCONT);
  }

  std::string sock() const { return dir_ + "/db.sock"; }
  std::string db() const { return dir_ + "/conf.db"; }
  std::string unix_remote() const { return "unix:" + sock(); }
  std::string tcp_remote() const { return "tcp:127.0.0.1:" + std::to_string(tcp_port_); }
  const std::string& dir() const { return dir_; }

  /// ovs-vsctl --no-wait ARGS against this server; throws on failure.
  std::string vsctl(const std::string& args, bool no_wait = true) const {
    return sh("ovs-vsctl --timeout=10 --db=" + unix_remote() + (no_wait ? " --no-wait " : " ") +
              args);
  }

  /// Runs cmd (throws when it fails); its output without trailing newlines.
  static std::string sh(const std::string& cmd) {
    std::string out = flowpath::test::shell_checked(cmd);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

 private:
  static void run(const std::vector<std::string>& argv) {
    std::string cmd;
    for (const auto& a : argv) cmd += "'" + a + "' ";
    sh(cmd);
  }

  std::string dir_;
  pid_t pid_ = -1;
  int tcp_port_ = 0;
};

}  // namespace flowpath::testing
