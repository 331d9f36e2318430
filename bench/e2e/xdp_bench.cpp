// xdp_bench — the kernel-side tools of bench/e2e/xdp_fast.sh, over the
// programs of xdp_bench.bpf.c (OBJ):
//
//   xdp_bench OBJ gen IFNAME FLOWS SECONDS CPU   live-frames generator:
//       64-byte UDP frames (02:00:00:00:00:01 -> 02:00:00:00:00:02,
//       198.51.100.1 -> 198.51.100.2, source port 1024 + i % FLOWS) sent
//       out of IFNAME by BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, the
//       technique of xdp-trafficgen, from CPU; prints "sent N packets"
//   xdp_bench OBJ sink IFNAME FILE    counts and drops in XDP; writes
//       "correct wrong flows-seen-correct" to FILE every 100 ms until
//       SIGTERM, then detaches
//   xdp_bench OBJ bare IN OUT         the floor: VLAN push + devmap
//       redirect IN -> OUT until SIGTERM, then detaches
//   xdp_bench OBJ fwd IN OUT          devmap redirect only (no push)
//   xdp_bench - progstat IFNAME       "run_cnt run_time_ns" of the XDP
//       program attached to IFNAME (kernel.bpf_stats_enabled=1 makes the
//       kernel count them; OBJ is not opened)
//
// Errors go to stderr with exit 1.  Needs root.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "xdp_bench: %s\n", what.c_str());
  std::exit(1);
}

bpf_object* open_obj(const char* path) {
  bpf_object* obj = bpf_object__open_file(path, nullptr);
  if (!obj) die(std::string("cannot open ") + path);
  if (bpf_object__load(obj)) die(std::string("cannot load ") + path);
  return obj;
}
int prog_fd(bpf_object* o, const char* name) {
  bpf_program* p = bpf_object__find_program_by_name(o, name);
  if (!p) die(std::string("no program ") + name);
  return bpf_program__fd(p);
}
int map_fd(bpf_object* o, const char* name) {
  bpf_map* m = bpf_object__find_map_by_name(o, name);
  if (!m) die(std::string("no map ") + name);
  return bpf_map__fd(m);
}
int ifindex(const char* name) {
  int i = int(if_nametoindex(name));
  if (!i) die(std::string("no interface ") + name);
  return i;
}
uint64_t percpu_sum(int fd, uint32_t key) {
  int n = libbpf_num_possible_cpus();
  std::vector<uint64_t> v(size_t(n > 0 ? n : 1));
  if (bpf_map_lookup_elem(fd, &key, v.data())) return 0;
  uint64_t s = 0;
  for (uint64_t x : v) s += x;
  return s;
}
void attach(int ifi, int fd, const char* name) {
  if (bpf_xdp_attach(ifi, fd, XDP_FLAGS_DRV_MODE, nullptr))
    die(std::string("cannot attach XDP to ") + name);
}
void wait_for_signal() {
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
}

std::vector<uint8_t> udp_frame() {
  std::vector<uint8_t> f(60, 0);
  const uint8_t dst[6] = {2, 0, 0, 0, 0, 2}, src[6] = {2, 0, 0, 0, 0, 1};
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45, ip[2] = 0, ip[3] = 46, ip[8] = 64, ip[9] = 17;
  inet_pton(AF_INET, "198.51.100.1", ip + 12);
  inet_pton(AF_INET, "198.51.100.2", ip + 16);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += uint32_t(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = uint8_t(~sum >> 8), ip[11] = uint8_t(~sum);
  uint8_t* udp = ip + 20;
  udp[0] = 0x04, udp[2] = 0, udp[3] = 9, udp[5] = 26;
  return f;
}

int gen(bpf_object* o, const char* ifname, uint32_t flows, double seconds, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  uint32_t k = 0;
  std::vector<uint8_t> frame = udp_frame();
  struct {
    uint32_t flows;
    uint8_t hdr[44];
  } cfg{};
  cfg.flows = flows;
  std::memcpy(cfg.hdr, frame.data(), 42);
  if (bpf_map_update_elem(map_fd(o, "fp_cfg"), &k, &cfg, BPF_ANY)) die("fp_cfg update");
  xdp_md ctx{};
  ctx.ingress_ifindex = uint32_t(ifindex(ifname));
  ctx.data_end = uint32_t(frame.size());  // the kernel insists: data_end = frame size
  int fd = prog_fd(o, "fp_gen");
  uint64_t sent = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto until = t0 + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = uint32_t(frame.size());
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof ctx;
    opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    opts.repeat = 1 << 16;
    if (bpf_prog_test_run_opts(fd, &opts)) die(std::string("live frames: ") + std::strerror(errno));
    sent += opts.repeat;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sent %llu packets in %.2f s: %.2f Mpps\n", (unsigned long long)sent, s,
              double(sent) / s / 1e6);
  return 0;
}

unsigned flows_seen(int fd) {
  unsigned n = 0;
  for (uint32_t k = 0; k < 4096; ++k) {
    uint32_t v = 0;
    n += bpf_map_lookup_elem(fd, &k, &v) == 0 && v;
  }
  return n;
}

int sink(bpf_object* o, const char* ifname, const char* file) {
  int ifi = ifindex(ifname);
  attach(ifi, prog_fd(o, "fp_sink"), ifname);
  wait_for_signal();
  int cnt = map_fd(o, "fp_cnt"), seen = map_fd(o, "fp_seen");
  while (!g_stop) {
    std::string tmp = std::string(file) + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%llu %llu %u\n", (unsigned long long)percpu_sum(cnt, 0),
                   (unsigned long long)percpu_sum(cnt, 2), flows_seen(seen));
      std::fclose(f);
      std::rename(tmp.c_str(), file);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  bpf_xdp_detach(ifi, XDP_FLAGS_DRV_MODE, nullptr);
  return 0;
}

int bare(bpf_object* o, const char* in, const char* out, const char* prog) {
  uint32_t k = 0, v = uint32_t(ifindex(out));
  if (bpf_map_update_elem(map_fd(o, "fp_out"), &k, &v, BPF_ANY)) die("devmap update");
  int ifi = ifindex(in);
  attach(ifi, prog_fd(o, prog), in);
  wait_for_signal();
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  bpf_xdp_detach(ifi, XDP_FLAGS_DRV_MODE, nullptr);
  return 0;
}

// The kernel's per-program run counters (bpf_stats_enabled) of whatever
// XDP program IFNAME runs: the per-hop cost of the program itself.
int progstat(const char* ifname) {
  bpf_xdp_query_opts q{};
  q.sz = sizeof q;
  if (bpf_xdp_query(ifindex(ifname), 0, &q)) die(std::string("xdp query on ") + ifname);
  uint32_t id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
  if (!id) die(std::string("no XDP program on ") + ifname);
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) die("prog id " + std::to_string(id));
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) die("prog info");
  close(fd);
  std::printf("%llu %llu\n", (unsigned long long)info.run_cnt,
              (unsigned long long)info.run_time_ns);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: xdp_bench OBJ gen IFNAME FLOWS SECONDS CPU | sink IFNAME FILE | "
                 "bare IN OUT\n");
    return 2;
  }
  std::string cmd = argv[2];
  if (cmd == "progstat" && argc == 4) return progstat(argv[3]);
  bpf_object* o = open_obj(argv[1]);
  if (cmd == "gen" && argc == 7)
    return gen(o, argv[3], uint32_t(std::atoi(argv[4])), std::atof(argv[5]), std::atoi(argv[6]));
  if (cmd == "sink" && argc == 5) return sink(o, argv[3], argv[4]);
  if (cmd == "bare" && argc == 5) return bare(o, argv[3], argv[4], "fp_bare");
  if (cmd == "fwd" && argc == 5) return bare(o, argv[3], argv[4], "fp_fwd");
  std::fprintf(stderr, "xdp_bench: bad arguments for %s\n", cmd.c_str());
  return 2;
}
