// A control socket (Open vSwitch's unixctl protocol) and its client:
// what `flowpath switch` serves and `flowpath ctl` / `ovs-appctl -t` send.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "flowpath/control/unixctl_client.hpp"
#include "flowpath/control/unixctl_server.hpp"

int main() {
  using namespace flowpath;
  std::string path = "/tmp/flowpath-snippet." + std::to_string(getpid()) + ".ctl";
  UnixctlServer srv(path);
  srv.add_command("hello", 1, 1, "NAME", [](const UnixctlArgs& a) {
    if (a[0].empty()) throw Error("hello: empty name");
    return "hello, " + a[0] + "\n";
  });
  srv.start();
  UnixctlReply r = unixctl_call(path, "hello", {"br-int"});
  std::fputs(r.result.c_str(), stdout);
  UnixctlReply bad = unixctl_call(path, "hello", {""});
  std::printf("error: %s\n", bad.error.c_str());
  return r.ok && r.result == "hello, br-int\n" && !bad.ok ? 0 : 1;
}
