// The unixctl server and client over a socket in a temporary directory.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "flowpath/control/unixctl_client.hpp"
#include "flowpath/control/unixctl_server.hpp"

namespace flowpath {
namespace unixctl_test {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/fpctlXXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

class UnixctlTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string sock = dir.path + "/t.ctl";
};

TEST_F(UnixctlTest, ServesCommandsErrorsAndBuiltins) {
  UnixctlServer srv(sock, "flowpath test");
  srv.add_command("echo", 0, -1, "[ARG...]", [](const UnixctlArgs& a) {
    std::string out;
    for (const auto& s : a) out += s + "|";
    return out + "\n";
  });
  srv.add_command("boom", 1, 1, "X", [](const UnixctlArgs& a) -> std::string {
    throw Error("no bridge named " + a[0]);
  });
  srv.start();
  auto r = unixctl_call(sock, "echo", {"a b", "\"q\"", "\xc3\xa9\n"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, "a b|\"q\"|\xc3\xa9\n|\n");
  r = unixctl_call(sock, "boom", {"br9"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "no bridge named br9");
  r = unixctl_call(sock, "boom", {});
  EXPECT_EQ(r.error, "\"boom\" command requires at least 1 arguments");
  r = unixctl_call(sock, "boom", {"a", "b"});
  EXPECT_EQ(r.error, "\"boom\" command takes at most 1 arguments");
  r = unixctl_call(sock, "nope", {});
  EXPECT_EQ(r.error,
            "\"nope\" is not a valid command (use \"list-commands\" to see a list of valid "
            "commands)");
  r = unixctl_call(sock, "version", {});
  EXPECT_EQ(r.result, "flowpath test\n");
  r = unixctl_call(sock, "list-commands", {});
  EXPECT_EQ(r.result.rfind("The available commands are:\n", 0), 0u);
  EXPECT_NE(r.result.find("  echo                    [ARG...]\n"), std::string::npos) << r.result;
  EXPECT_NE(r.result.find("  version"), std::string::npos);
}

TEST_F(UnixctlTest, RawProtocolBackToBackRequestsOnOneConnection) {
  UnixctlServer srv(sock);
  srv.add_command("n", 0, 0, "", [](const UnixctlArgs&) { return std::string("x\ty"); });
  srv.start();
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, sock.c_str());
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string req = R"({"method":"n","params":[],"id":41}{"method":"n","params":[1],"id":"s"})";
  ASSERT_EQ(write(fd, req.data(), req.size()), ssize_t(req.size()));
  json::Splitter in;
  std::vector<std::string> replies;
  char buf[512];
  while (replies.size() < 2) {
    ssize_t n = read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    in.feed(buf, size_t(n));
    while (auto t = in.next()) replies.push_back(*t);
  }
  close(fd);
  EXPECT_EQ(replies[0], R"({"id":41,"error":null,"result":"x\ty"})");
  EXPECT_EQ(replies[1],
            R"({"id":"s","error":"\"n\" command takes at most 0 arguments","result":null})");
}

TEST_F(UnixctlTest, GarbageDropsOnlyThatClient) {
  UnixctlServer srv(sock);
  srv.start();
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, sock.c_str());
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(write(fd, "hello\n", 6), 6);
  char c;
  EXPECT_EQ(read(fd, &c, 1), 0);  // closed by the server
  close(fd);
  EXPECT_TRUE(unixctl_call(sock, "version", {}).ok);
}

TEST_F(UnixctlTest, PeriodicRunsAndStopRemovesTheSocket) {
  std::atomic<int> ticks{0};
  {
    UnixctlServer srv(sock);
    srv.set_periodic([&] { ++ticks; }, 10);
    srv.start();
    for (int i = 0; i < 200 && ticks < 3; ++i) usleep(5000);
    EXPECT_GE(ticks.load(), 3);
    EXPECT_TRUE(std::filesystem::exists(sock));
  }
  EXPECT_FALSE(std::filesystem::exists(sock));
  EXPECT_THROW(unixctl_call(sock, "version", {}), Error);
}

TEST_F(UnixctlTest, StaleSocketIsReplacedLiveOneIsNot) {
  {
    UnixctlServer first(sock);
    first.start();
    EXPECT_THROW(UnixctlServer second(sock), Error);
  }
  // A socket file left by a dead process: bind it without a listener.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, sock.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  close(fd);
  UnixctlServer again(sock);
  again.start();
  EXPECT_TRUE(unixctl_call(sock, "version", {}).ok);
}

TEST_F(UnixctlTest, FindControlSocket) {
  EXPECT_THROW(find_control_socket(dir.path), Error);
  std::ofstream(dir.path + "/a.ctl").put('x');
  EXPECT_EQ(find_control_socket(dir.path), dir.path + "/a.ctl");
  std::ofstream(dir.path + "/b.ctl").put('x');
  EXPECT_THROW(find_control_socket(dir.path), Error);
}

TEST_F(UnixctlTest, BadPaths) {
  EXPECT_THROW(UnixctlServer(std::string(200, 'x')), Error);
  EXPECT_THROW(UnixctlServer(dir.path + "/no/such/dir/s.ctl"), Error);
}

}  // namespace unixctl_test
}  // namespace flowpath
