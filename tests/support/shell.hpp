// tests/support/shell.hpp — run a shell command from a test and capture
// what it printed and how it ended.
//
//   ShellResult r = shell("ovs-ofctl --version");   // never throws
//   if (!r.ok()) GTEST_SKIP() << r.out;
//   std::string text = shell_output("ovs-ofctl dump-flows br0");  // status ignored
//   std::string ok = shell_checked("ovs-vsctl add-br br0");      // throws when it fails
//
// The command runs under /bin/sh (popen) with stderr folded into stdout
// ("2>&1" is appended), so a failure's message is in `out`.  The caller
// builds the command: quote what comes from outside the test.
//
// Cost: one fork/exec of /bin/sh per call.  Thread-safety: as popen (safe;
// the caller's strings only).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace flowpath::test {

struct ShellResult {
  std::string out;  // stdout and stderr, as printed
  int status = -1;  // exit status; -1: the shell could not start or was killed
  bool ok() const { return status == 0; }
};

/// Runs `cmd` (with 2>&1), reads everything it prints, waits for it.
inline ShellResult shell(const std::string& cmd) {
  ShellResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int st = pclose(p);
  if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
  return r;
}

/// What `cmd` printed, however it ended.
inline std::string shell_output(const std::string& cmd) { return shell(cmd).out; }

/// What `cmd` printed; throws E (std::runtime_error or one derived from it)
/// naming the command, its status and its output when it did not exit 0.
template <class E = std::runtime_error>
inline std::string shell_checked(const std::string& cmd) {
  ShellResult r = shell(cmd);
  if (!r.ok()) throw E("'" + cmd + "' failed (status " + std::to_string(r.status) + "): " + r.out);
  return r.out;
}

}  // namespace flowpath::test
