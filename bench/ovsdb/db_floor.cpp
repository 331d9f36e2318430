// ovsdb_floor — the floor contestant of bench/ovsdb/run.sh: an OVSDB
// "switch" that switches nothing.  It does only what ovs-vsctl waits for
// and the database's view measures: when ovs-vsctl raises
// Open_vSwitch next_cfg, it answers at once with one transaction that
// gives each new Interface an ofport and raises cur_cfg to next_cfg (as
// ovs-vswitchd and flowpath do, in one transaction).  No device is opened,
// no configuration built, nothing forwards.
//
//   ovsdb_floor unix:PATH
//
// So a change's time against this floor is ovsdb-server's (two commits,
// their updates to every monitor) plus one client's read-parse-transact,
// the least any switch following the same database can take; a switch's
// time minus it is the switch's own share.  Raw socket, flowpath's
// JSON-RPC framer, nlohmann-json: no replica, no session.  Runs until
// SIGINT/SIGTERM or the server closes the connection.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "flowpath/ovsdb/jsonrpc.hpp"

namespace ovsdb = flowpath::ovsdb;
using Json = ovsdb::Json;

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct State {
  std::string root;         // the Open_vSwitch row's uuid
  int64_t next_cfg = 0;     // as the database has it
  int64_t answered = -1;    // the next_cfg we last raised cur_cfg to
  std::map<std::string, bool> ifaces;  // uuid -> has an ofport
  int64_t next_ofport = 1;
  int txn = 0;
};

// Applies a monitor result or "update" notification's table-updates.
void apply(State& s, const Json& updates) {
  if (!updates.is_object()) return;
  if (auto t = updates.find("Open_vSwitch"); t != updates.end())
    for (auto& [uuid, row] : t->items()) {
      s.root = uuid;
      if (auto n = row.find("new"); n != row.end() && n->contains("next_cfg"))
        s.next_cfg = (*n)["next_cfg"].get<int64_t>();
    }
  if (auto t = updates.find("Interface"); t != updates.end())
    for (auto& [uuid, row] : t->items()) {
      auto n = row.find("new");
      if (n == row.end()) {
        s.ifaces.erase(uuid);
        continue;
      }
      // ofport is a set of 0 or 1 integers: ["set", []] when empty.
      bool has = false;
      if (auto o = n->find("ofport"); o != n->end()) has = o->is_number_integer();
      else if (auto it = s.ifaces.find(uuid); it != s.ifaces.end()) has = it->second;
      s.ifaces[uuid] = has;
    }
}

// One transaction: ofports for the interfaces lacking one, cur_cfg.
std::string answer(State& s) {
  Json ops = Json::array({"Open_vSwitch"});
  for (auto& [uuid, has] : s.ifaces) {
    if (has) continue;
    ops.push_back({{"op", "update"},
                   {"table", "Interface"},
                   {"where", Json::array({Json::array({"_uuid", "==", {"uuid", uuid}})})},
                   {"row", {{"ofport", s.next_ofport++}}}});
    has = true;
  }
  ops.push_back({{"op", "update"},
                 {"table", "Open_vSwitch"},
                 {"where", Json::array({Json::array({"_uuid", "==", {"uuid", s.root}})})},
                 {"row", {{"cur_cfg", s.next_cfg}}}});
  s.answered = s.next_cfg;
  return Json{{"method", "transact"}, {"params", ops}, {"id", "t" + std::to_string(++s.txn)}}
      .dump();
}

bool send_all(int fd, const std::string& m) {
  for (size_t off = 0; off < m.size();) {
    ssize_t n = send(fd, m.data() + off, m.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::strncmp(argv[1], "unix:", 5) != 0) {
    std::fprintf(stderr, "usage: ovsdb_floor unix:PATH\n");
    return 2;
  }
  const char* path = argv[1] + 5;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof a.sun_path) {
    std::fprintf(stderr, "ovsdb_floor: socket path '%s' too long\n", path);
    return 2;
  }
  std::strcpy(a.sun_path, path);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "ovsdb_floor: connect %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Json mon = {{"method", "monitor"},
              {"id", "m"},
              {"params",
               {"Open_vSwitch", nullptr,
                {{"Open_vSwitch", {{"columns", {"next_cfg"}}}},
                 {"Interface", {{"columns", {"ofport"}}}}}}}};
  if (!send_all(fd, mon.dump())) return 1;
  State s;
  ovsdb::Framer in;
  char buf[65536];
  while (!g_stop) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.feed(buf, size_t(n));
    bool changed = false;
    while (auto m = in.next()) {
      if (!m->ok()) {
        std::fprintf(stderr, "ovsdb_floor: %s\n", m->error.c_str());
        return 1;
      }
      const Json& j = m->json;
      const std::string method = j.value("method", "");
      if (method == "echo") {  // the server's probe: answer it
        send_all(fd, Json{{"result", j["params"]}, {"error", nullptr}, {"id", j["id"]}}.dump());
      } else if (method == "update" && j["params"].is_array() && j["params"].size() == 2) {
        apply(s, j["params"][1]);
        changed = true;
      } else if (j.contains("id") && j["id"] == "m") {
        if (!j["error"].is_null()) {
          std::fprintf(stderr, "ovsdb_floor: monitor refused: %s\n", j["error"].dump().c_str());
          return 1;
        }
        apply(s, j["result"]);
        changed = true;
      } else if (j.contains("error") && !j["error"].is_null()) {
        std::fprintf(stderr, "ovsdb_floor: %s\n", j.dump().c_str());
      }
    }
    if (changed && !s.root.empty() && s.next_cfg != s.answered && !send_all(fd, answer(s))) break;
  }
  close(fd);
  return 0;
}
