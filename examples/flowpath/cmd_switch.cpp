// flowpath switch (--config FILE | --db unix:PATH|tcp:IP:PORT) [--pmd-cores LIST]
//                 [--ctl PATH] [--generic] [--pmd-max-sleep US]
//                 [--xdp-fast | --no-xdp-fast] [--shared-umem | --umem-frames N]
//   Runs the bridges over real ports (AF_XDP, TAP for internal ports), one
//   busy-polling PMD thread per listed core (default: one, on the last
//   CPU), and serves the control socket (default
//   /run/flowpath/flowpath.<pid>.ctl; `flowpath ctl` or `ovs-appctl -t`).
//   --config reads a file once; --db follows an Open_vSwitch database
//   (ovsdb-server) live, as ovs-vswitchd does (switch/switch_db.hpp).
//   One control loop on the main thread polls the control socket, the
//   database connection and a signalfd together, so a database change and
//   a control command never run at the same time.
//   Runs until SIGINT/SIGTERM/SIGHUP or `flowpath ctl exit`; then stops the
//   threads, detaches XDP, deletes the TAP devices and the socket file.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/ovsdb/client.hpp"
#include "flowpath/switch/openflow_service.hpp"
#include "flowpath/switch/switch_control.hpp"
#include "flowpath/switch/switch_db.hpp"

namespace flowpath_cli {
namespace {

void switch_usage(FILE* f) {
  std::fprintf(
      f,
      "usage: flowpath switch (--config FILE | --db REMOTE) [--pmd-cores LIST] [--ctl PATH]\n"
      "                       [--generic] [--pmd-max-sleep US] [--xdp-fast | --no-xdp-fast]\n"
      "                       [--shared-umem | --umem-frames N]\n"
      "  --config FILE     bridges and ports from a file, read once\n"
      "  --db REMOTE       follow an Open_vSwitch database live (ovsdb-server at\n"
      "                    unix:PATH or tcp:IP:PORT), as ovs-vswitchd does\n"
      "  --pmd-cores LIST  cores of the polling threads, e.g. 1 or 1,2 (default: the\n"
      "                    last CPU, one thread)\n"
      "  --ctl PATH        control socket (default /run/flowpath/flowpath.<pid>.ctl)\n"
      "  --generic         attach XDP in generic (SKB) mode\n"
      "  --pmd-max-sleep US  an idle PMD sleeps up to US microseconds instead of\n"
      "                    busy-polling (default 0: never; as OVS's pmd-maxsleep)\n"
      "  --xdp-fast        forward cached flows inside the kernel (XDP fast path;\n"
      "                    a port opts out with options:xdp-fast=false)\n"
      "  --no-xdp-fast     every packet through the PMD (the default)\n"
      "  (default: each AF_XDP port has a UMEM of its own, 2 x ring frames per\n"
      "                    queue; frames cross between ports by copy)\n"
      "  --port-ring N     ring entries of a port with its own UMEM (default 2048;\n"
      "                    64-4096, a power of two; smaller binds faster, buffers less)\n"
      "  --shared-umem     the AF_XDP ports of a PMD share one UMEM (16384 frames:\n"
      "                    zero-copy forwarding, but the kernel sizes each socket's\n"
      "                    pool by it: an add costs O(frames), docs/benchmarks.md)\n"
      "  --umem-frames N   --shared-umem with N frames (2048-262144, a power of two;\n"
      "                    rings then min(2048, N/8) each)\n");
}

void print_ports(flowpath::Switch& sw) {
  for (flowpath::SwitchPort* p : sw.ports()) {
    std::printf("  port %u %s: %s, pmd %u", p->dp_port(), p->name().c_str(),
                flowpath::to_string(p->kind()), p->pmd());
    if (auto* a = p->afxdp())
      std::printf(" (%s XDP, %s, %u queue%s)", a->native_xdp() ? "native" : "generic",
                  a->zero_copy() ? "zero-copy" : "copy mode", a->num_queues(),
                  a->num_queues() == 1 ? "" : "s");
    std::printf("\n");
  }
  for (size_t i = 0; i < sw.num_pmds(); ++i)
    std::printf("  pmd %zu: core %d%s\n", i, sw.pmd(i).core(),
                sw.pmd(i).core() < 0 ? " (not pinned)" : "");
}

// FLOWPATH_DB_TRACE=1: one line per database update on stderr, the µs
// from the update's first recv() to the end of each stage (docs/ovsdb.md,
// "Where a change's time goes").
void print_db_trace(const flowpath::SwitchDb& sdb, const flowpath::ovsdb::Client& c,
                    int64_t sent_ns, size_t ops) {
  const auto& t = sdb.trace();
  const auto& r = sdb.last_result();
  int64_t t0 = c.last_recv_ns();
  auto us = [&](int64_t t1) { return double(t1 - t0) / 1000.0; };
  std::fprintf(stderr,
               "db-trace: parsed %.1f config %.1f opened %.1f fenced %.1f written %.1f "
               "sent %.1f us, %zu ops, %zu opened\n",
               us(t.begin_ns), us(t.config_ns), us(r.opened_ns), us(r.fenced_ns), us(t.written_ns),
               us(sent_ns), ops, r.opened.size());
}

void on_db_action(flowpath::SwitchDb& sdb, flowpath::ovsdb::Client& c,
                  const flowpath::ovsdb::Action& a) {
  using K = flowpath::ovsdb::Action::Kind;
  switch (a.kind) {
    case K::kReplicaUpdated: {
      flowpath::ovsdb::Json ops = sdb.on_replica(c.replica());
      if (!ops.empty()) c.transact(ops);
      static const bool trace = std::getenv("FLOWPATH_DB_TRACE") != nullptr;
      if (trace) print_db_trace(sdb, c, flowpath::steady_now_ns(), ops.size());
      sdb.after_sent();
      for (const auto& e : sdb.last_result().errors)
        std::fprintf(stderr, "flowpath switch: %s\n", e.message.c_str());
      break;
    }
    case K::kTransactReply:
      if (!a.error.empty()) {
        std::fprintf(stderr, "flowpath switch: write-back refused: %s\n", a.error.c_str());
        sdb.forget();  // the next update writes everything again
      }
      break;
    case K::kReconnect:
      std::fprintf(stderr, "flowpath switch: %s: %s; reconnecting in %lld ms\n",
                   c.remote().text.c_str(), a.error.c_str(), (long long)a.delay_ms);
      sdb.forget();
      break;
    case K::kError:
      std::fprintf(stderr, "flowpath switch: %s\n", a.error.c_str());
      break;
    default:
      break;
  }
}

// What the OpenFlow service is built from: each bridge's controller
// targets and fail_mode.  With --db they come from the Controller table and
// may change at run time; the service is then rebuilt (its connections
// start again, as when ovs-vsctl set-controller changes a bridge's targets).
std::string openflow_signature(const flowpath::SwitchConfig& c) {
  std::string sig;
  for (const auto& b : c.bridges) {
    sig += b.name + '\n' + b.fail_mode + '\n';
    for (const auto& t : b.controllers) sig += t + ' ';
    sig += '\n';
  }
  return sig;
}

void follow_openflow_config(flowpath::Switch& sw, std::unique_ptr<flowpath::OpenFlowService>& of,
                            std::string& sig) {
  std::string now = openflow_signature(sw.config());
  if (now == sig) return;
  sig = now;
  of.reset();
  try {
    of = std::make_unique<flowpath::OpenFlowService>(sw, sw.config());
    if (of->empty()) of.reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath switch: controller: %s\n", e.what());
  }
}

// The control thread: the control socket, the database, the OpenFlow
// channels and the signals in one poll(); MAC and flow expiry once a
// second.  Returns the signal.
int control_loop(flowpath::Switch& sw, flowpath::UnixctlServer& srv,
                 flowpath::ovsdb::Client* client, std::unique_ptr<flowpath::OpenFlowService>& of,
                 const sigset_t& sigs) {
  std::string of_sig = openflow_signature(sw.config());
  int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) throw flowpath::Error(std::string("signalfd: ") + std::strerror(errno));
  flowpath::SwitchDb sdb(sw);
  sw.prepare_spare();  // the first AF_XDP add finds its Umem ready
  using flowpath::ovsdb::Client;
  int64_t next_tick = Client::now_ms() + 1000, db_turn = 0;
  for (;;) {
    int64_t now = Client::now_ms(), wake = next_tick;
    if (client) {
      wake = std::min(wake, now + 100);  // a pending connect wants POLLOUT: look again soon
      if (int64_t t = client->next_wakeup_ms(); t >= 0) wake = std::min(wake, t);
    }
    std::vector<pollfd> extra = {{sfd, POLLIN, 0}, {client ? client->fd() : -1, POLLIN, 0}};
    if (of) {
      of->add_pollfds(extra);
      if (int t = of->timeout_ms(now); t >= 0) wake = std::min(wake, now + t);
    }
    srv.serve_once(int(std::max<int64_t>(0, wake - now)), extra);
    if (extra[0].revents & POLLIN) {
      signalfd_siginfo si{};
      if (read(sfd, &si, sizeof si) == ssize_t(sizeof si)) {
        close(sfd);
        return int(si.ssi_signo);
      }
    }
    if (of) of->handle(extra, Client::now_ms());
    // The database's turn (a poll of its own, and the OpenFlow targets
    // compared) when its socket or timer asks, else every 10 ms: an
    // OpenFlow peer can wake this loop 100,000 times in a few seconds
    // (ovs-ofctl add-flows: a flow-mod and a barrier each).
    int64_t after = Client::now_ms();
    if (client && ((extra[1].revents != 0) || after >= db_turn ||
                   (client->next_wakeup_ms() >= 0 && after >= client->next_wakeup_ms()))) {
      db_turn = after + 10;
      for (const auto& a : client->run_once(0)) on_db_action(sdb, *client, a);
      follow_openflow_config(sw, of, of_sig);
    }
    if (Client::now_ms() >= next_tick) {
      sw.ofproto().run_periodic();
      sw.sweep_conntrack();
      if (client && client->session().state() == flowpath::ovsdb::Session::State::kSynced)
        if (auto ops = sdb.refresh(client->replica()); !ops.empty()) client->transact(ops);
      next_tick = Client::now_ms() + 1000;
    }
  }
}

}  // namespace

int cmd_switch(int argc, char** argv) {
  std::string config, db, ctl, cores;
  flowpath::Switch::Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      switch_usage(stdout);
      return 0;
    }
    if (a == "--config" && i + 1 < argc)
      config = argv[++i];
    else if (a == "--db" && i + 1 < argc)
      db = argv[++i];
    else if (a == "--ctl" && i + 1 < argc)
      ctl = argv[++i];
    else if (a == "--pmd-cores" && i + 1 < argc)
      cores = argv[++i];
    else if (a == "--pmd-max-sleep" && i + 1 < argc) {
      std::string v = argv[++i];
      if (v.empty() || v.size() > 7 || v.find_first_not_of("0123456789") != std::string::npos) {
        std::fprintf(stderr, "flowpath switch: --pmd-max-sleep '%s': expected microseconds\n",
                     v.c_str());
        return 2;
      }
      opt.pmd_max_sleep_us = uint32_t(std::stoul(v));
    } else if (a == "--umem-frames" && i + 1 < argc) {
      std::string v = argv[++i];
      bool digits = !v.empty() && v.size() <= 6 && v.find_first_not_of("0123456789") == v.npos;
      uint32_t n = digits ? uint32_t(std::stoul(v)) : 0;
      if (n < 2048 || n > 262144 || (n & (n - 1))) {
        std::fprintf(stderr,
                     "flowpath switch: --umem-frames '%s': expected a power of two, "
                     "2048-262144\n",
                     v.c_str());
        return 2;
      }
      opt.umem.num_frames = n;
      opt.port_ring = 0;  // a PMD's shared Umem
      // Rings of at most an eighth of the pool each: two ports' fill rings
      // must not take every frame (transmit copies need some).
      opt.umem.fill_size = opt.umem.comp_size = std::min<uint32_t>(2048, n / 8);
    } else if (a == "--port-ring" && i + 1 < argc) {
      std::string v = argv[++i];
      bool digits = !v.empty() && v.size() <= 4 && v.find_first_not_of("0123456789") == v.npos;
      uint32_t n = digits ? uint32_t(std::stoul(v)) : 0;
      if (n < 64 || n > 4096 || (n & (n - 1))) {
        std::fprintf(stderr,
                     "flowpath switch: --port-ring '%s': expected a power of two, 64-4096\n",
                     v.c_str());
        return 2;
      }
      opt.port_ring = n;
    } else if (a == "--shared-umem") {
      opt.port_ring = 0;
    } else if (a == "--generic")
      opt.xdp_mode = flowpath::XdpMode::kGeneric;
    else if (a == "--xdp-fast" || a == "--no-xdp-fast")
      opt.xdp_fast = a == "--xdp-fast";
    else {
      std::fprintf(stderr, "flowpath switch: unexpected argument '%s'\n", a.c_str());
      switch_usage(stderr);
      return 2;
    }
  }
  if (config.empty() == db.empty()) {
    std::fprintf(stderr, "flowpath switch: give one of --config FILE and --db REMOTE\n");
    switch_usage(stderr);
    return 2;
  }
  // Signals wait for the control loop's signalfd, in every thread: a Ctrl-C during
  // start-up still ends in the orderly shutdown (XDP detached).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  // A crash must not leave XDP programs attached either.
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL})
    signal(sig, flowpath::xdp_cleanup_signal_handler);
  try {
    if (!cores.empty()) opt.pmd_cores = flowpath::parse_core_list(cores);
    if (ctl.empty()) {
      if (mkdir("/run/flowpath", 0755) < 0 && errno != EEXIST)
        throw flowpath::Error(
            std::string("cannot create /run/flowpath: ") + std::strerror(errno) +
            (errno == EACCES ? " (no permission: run as root or give --ctl)" : ""));
      ctl = "/run/flowpath/flowpath." + std::to_string(getpid()) + ".ctl";
    }
    flowpath::Switch sw(opt);
    std::unique_ptr<flowpath::OpenFlowService> ofsvc;  // the config's set-controller lines
    if (!config.empty()) {
      flowpath::SwitchConfig cfg = flowpath::SwitchConfig::load(config);
      flowpath::ApplyResult r = sw.apply(cfg);
      if (!r.errors.empty()) throw flowpath::Error(r.errors.front().message);
      ofsvc = std::make_unique<flowpath::OpenFlowService>(sw, cfg);
      if (ofsvc->empty()) ofsvc.reset();
    }
    std::unique_ptr<flowpath::ovsdb::Client> client;
    if (!db.empty()) client = std::make_unique<flowpath::ovsdb::Client>(db);
    flowpath::UnixctlServer srv(ctl);
    flowpath::add_switch_commands(srv, sw, [] { kill(getpid(), SIGTERM); });
    sw.start();
    std::printf("flowpath switch: control socket %s\n", ctl.c_str());
    if (client)
      std::printf("flowpath switch: following %s\n", db.c_str());
    else
      print_ports(sw);
    std::fflush(stdout);
    int sig = control_loop(sw, srv, client.get(), ofsvc, sigs);
    std::printf("flowpath switch: signal %d, stopping\n", sig);
    sw.stop();
    std::printf("%s", sw.dpctl_show().c_str());
    std::fflush(stdout);
    return 0;  // destructors close the ports: XDP detached, TAPs deleted, socket removed
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath switch: %s\n", e.what());
    return 1;
  }
}

}  // namespace flowpath_cli
