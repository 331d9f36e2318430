// The dpctl/* conntrack commands registered on a UnixctlServer, driven over
// the socket (and by Debian's real ovs-appctl when installed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "conntrack/ct_support.hpp"
#include "flowpath/conntrack/dpctl.hpp"
#include "flowpath/control/unixctl_client.hpp"
#include "support/shell.hpp"

namespace flowpath::cttest {
namespace dpctl_unixctl_test {

std::string sock_path() { return "/tmp/flowpath-ct-" + std::to_string(getpid()) + ".ctl"; }

TEST(DpctlUnixctl, CommandsOverTheSocket) {
  Conntrack ct;
  int64_t now = 5000;
  const std::string path = sock_path();
  UnixctlServer srv(path);
  register_dpctl_conntrack(srv, ct, [&] { return now; });
  srv.start();
  PacketBuffer b = parsed(udp4("192.0.2.1", "198.51.100.2", 1111, 53));
  ct.execute(b.packet(), CtParams{.zone = 3, .commit = true}, now);

  UnixctlReply r = unixctl_call(path, "dpctl/dump-conntrack", {"zone=3"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result,
            "udp,orig=(src=192.0.2.1,dst=198.51.100.2,sport=1111,dport=53),"
            "reply=(src=198.51.100.2,dst=192.0.2.1,sport=53,dport=1111),zone=3\n");
  r = unixctl_call(path, "dpctl/ct-set-limits", {"default=9", "zone=3,limit=4"});
  ASSERT_TRUE(r.ok) << r.error;
  r = unixctl_call(path, "dpctl/ct-get-limits", {"zone=3"});
  EXPECT_EQ(r.result, "default limit=9\nzone=3,limit=4,count=1\n");
  r = unixctl_call(path, "dpctl/ct-set-limits", {"zone=3,limit=x"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "failed to parse field limit");
  r = unixctl_call(path, "dpctl/ct-stats-show", {});
  EXPECT_EQ(r.result, "Connections Stats:\n    Total: 1\n  UDP: 1\n");
  if (std::system("command -v ovs-appctl >/dev/null 2>&1") == 0) {
    auto appctl = flowpath::test::shell("ovs-appctl -t " + path + " dpctl/flush-conntrack zone=3");
    EXPECT_EQ(appctl.status, 0) << appctl.out;
  } else {
    ASSERT_TRUE(unixctl_call(path, "dpctl/flush-conntrack", {"zone=3"}).ok);
  }
  EXPECT_EQ(ct.n_conns(), 0u);
  srv.stop();
}

}  // namespace dpctl_unixctl_test
}  // namespace flowpath::cttest
