// flowpath switch --config FILE [--pmd-cores LIST] [--ctl PATH] [--generic]
//   Runs the configuration's bridges over real ports (AF_XDP, TAP for
//   internal ports), one busy-polling PMD thread per listed core (default:
//   one, on the last CPU), and serves the control socket (default
//   /run/flowpath/flowpath.<pid>.ctl; `flowpath ctl` or `ovs-appctl -t`).
//   Runs until SIGINT/SIGTERM/SIGHUP or `flowpath ctl exit`; then stops the
//   threads, detaches XDP, deletes the TAP devices and the socket file.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "flowpath/switch/openflow_service.hpp"
#include "flowpath/switch/switch_control.hpp"

namespace flowpath_cli {
namespace {

void switch_usage(FILE* f) {
  std::fprintf(f,
               "usage: flowpath switch --config FILE [--pmd-cores LIST] [--ctl PATH] [--generic]\n"
               "  --pmd-cores LIST  cores of the polling threads, e.g. 1 or 1,2 (default: the\n"
               "                    last CPU, one thread)\n"
               "  --ctl PATH        control socket (default /run/flowpath/flowpath.<pid>.ctl)\n"
               "  --generic         attach XDP in generic (SKB) mode\n");
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

}  // namespace

int cmd_switch(int argc, char** argv) {
  std::string config, ctl, cores;
  flowpath::Switch::Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      switch_usage(stdout);
      return 0;
    }
    if (a == "--config" && i + 1 < argc)
      config = argv[++i];
    else if (a == "--ctl" && i + 1 < argc)
      ctl = argv[++i];
    else if (a == "--pmd-cores" && i + 1 < argc)
      cores = argv[++i];
    else if (a == "--generic")
      opt.xdp_mode = flowpath::XdpMode::kGeneric;
    else {
      std::fprintf(stderr, "flowpath switch: unexpected argument '%s'\n", a.c_str());
      switch_usage(stderr);
      return 2;
    }
  }
  if (config.empty()) {
    switch_usage(stderr);
    return 2;
  }
  // Signals wait for sigwait() below, in every thread: a Ctrl-C during
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
    flowpath::Switch sw(flowpath::SwitchConfig::load(config), opt);
    flowpath::UnixctlServer srv(ctl);
    flowpath::add_switch_commands(srv, sw, [] { kill(getpid(), SIGTERM); });
    srv.set_periodic([&sw] { sw.ofproto().run_periodic(); }, 1000);
    // OpenFlow (the config's set-controller lines): served on a thread of
    // its own; the guard stops it before the switch goes.
    flowpath::OpenFlowService ofsvc(sw, flowpath::SwitchConfig::load(config));
    std::atomic<bool> of_stop{false};
    std::jthread of_thread;
    if (!ofsvc.empty()) of_thread = std::jthread([&] { ofsvc.run(of_stop); });
    struct StopOf {
      std::atomic<bool>& stop;
      ~StopOf() { stop = true; }
    } stop_of{of_stop};
    srv.start();
    sw.start();
    std::printf("flowpath switch: control socket %s\n", ctl.c_str());
    print_ports(sw);
    std::fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    std::printf("flowpath switch: signal %d, stopping\n", sig);
    srv.stop();
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
