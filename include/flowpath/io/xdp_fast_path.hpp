// flowpath/io/xdp_fast_path.hpp — the kernel half of the XDP fast path:
// the maps one switch shares across its ports, and a loader that gives
// each AF_XDP port its own copy of the program (bpf/flowpath_xdp.bpf.c).
//
//   XdpFastPath fp;                            // creates the shared maps
//   AfxdpPort::Config c{.ifname = "vm1"};
//   c.load_program = fp.loader(/*dp_port=*/2); // instead of XskProgram's
//   fp.set_port(2, ifindex_of_vm1);            // outputs to port 2 allowed
//   fp.insert(key, flow);                      // the PMD (xdp_offload.hpp)
//
// Maps (layout: xdp_fast_abi.h): fp_flows (hash, exact-match key -> ops +
// counters), fp_ports (devmap: datapath port -> ifindex; an empty slot
// makes the program hand the packet to the PMD untouched), fp_stats
// (per-CPU hit/miss/punt/abort).  Each port's copy has its own XSKMAP and
// its datapath port number in .rodata, so one set of maps serves any
// number of interfaces.
//
// The object is embedded (flowpath/io/xdp_fast_object.inc, generated at
// build time by cmake/FlowpathXdpObject.cmake): nothing is looked up on
// disk at run time.  available() is false when the library was built
// without clang; constructing then throws.
//
// Cost: a verifier pass per port at open (~ms); map updates are syscalls
// (the PMD's slow path only).  Thread-safety: the map calls are syscalls
// and safe from any thread; construct/destroy from one thread.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/core/error.hpp"
#include "flowpath/io/xdp_fast_abi.h"

namespace flowpath {

#if __has_include("flowpath/io/xdp_fast_object.inc")
inline constexpr unsigned char kXdpFastObject[] = {
#include "flowpath/io/xdp_fast_object.inc"
};
inline constexpr bool kXdpFastBuilt = true;
#else
inline constexpr unsigned char kXdpFastObject[] = {0};
inline constexpr bool kXdpFastBuilt = false;
#endif

struct XdpFastStats {
  uint64_t hit = 0, miss = 0, punt = 0, abort = 0;
};

class XdpFastPath {
 public:
  /// (program fd, XSKMAP fd), both owned by the caller.
  using Loader = std::function<std::pair<int, int>(const std::string& ifname, uint32_t queues)>;

  static constexpr bool available() noexcept { return kXdpFastBuilt; }

  XdpFastPath() {
    if (!available())
      throw Error("xdp fast path: flowpath was built without clang -target bpf (no program)");
    flows_ = make_map(BPF_MAP_TYPE_HASH, "fp_flows", sizeof(fp_xdp_key), sizeof(fp_xdp_flow),
                      FP_XDP_MAX_FLOWS);
    ports_ = make_map(BPF_MAP_TYPE_DEVMAP, "fp_ports", 4, 4, FP_XDP_MAX_PORTS);
    stats_ = make_map(BPF_MAP_TYPE_PERCPU_ARRAY, "fp_stats", 4, 8, FP_XDP_STAT_COUNT);
  }
  XdpFastPath(const XdpFastPath&) = delete;
  XdpFastPath& operator=(const XdpFastPath&) = delete;
  ~XdpFastPath() {
    for (int fd : {flows_, ports_, stats_})
      if (fd >= 0) close(fd);
  }

  /// Loads a copy of the program for datapath port dp_port (its XSKMAP
  /// sized for `queues`); throws Error naming the interface.
  std::pair<int, int> load(const std::string& ifname, uint32_t dp_port, uint32_t queues) const {
    bpf_object_open_opts o{};
    o.sz = sizeof o;
    o.object_name = "fp_xdp";
    bpf_object* obj = bpf_object__open_mem(kXdpFastObject, sizeof kXdpFastObject, &o);
    if (!obj) fail(ifname, "opening the embedded XDP object", errno);
    int err = configure(obj, dp_port, queues);
    if (err == 0) err = bpf_object__load(obj);
    if (err) {
      bpf_object__close(obj);
      fail(ifname, "loading the XDP fast-path program (verifier)", -err);
    }
    int prog = dup(bpf_program__fd(bpf_object__find_program_by_name(obj, "fp_xdp_fast")));
    int xsks = dup(bpf_map__fd(bpf_object__find_map_by_name(obj, "fp_xsks")));
    bpf_object__close(obj);
    return {prog, xsks};
  }
  /// For AfxdpPort::Config::load_program.
  Loader loader(uint32_t dp_port) const {
    return [this, dp_port](const std::string& ifname, uint32_t queues) {
      return load(ifname, dp_port, queues);
    };
  }

  /// Outputs to dp_port go to ifindex (set when the port opens).
  bool set_port(uint32_t dp_port, int ifindex) noexcept {
    uint32_t k = dp_port, v = uint32_t(ifindex);
    if (dp_port >= FP_XDP_MAX_PORTS || bpf_map_update_elem(ports_, &k, &v, BPF_ANY) != 0)
      return false;
    present_[dp_port].store(true, std::memory_order_release);
    return true;
  }
  /// True when dp_port runs the fast-path program and has a devmap slot:
  /// the PMDs offload only flows that enter and leave through such ports.
  bool has_port(uint32_t dp_port) const noexcept {
    return dp_port < FP_XDP_MAX_PORTS && present_[dp_port].load(std::memory_order_acquire);
  }
  /// Removes dp_port: kernel entries naming it punt to the PMD from now on.
  void clear_port(uint32_t dp_port) noexcept {
    uint32_t k = dp_port;
    if (dp_port >= FP_XDP_MAX_PORTS) return;
    present_[dp_port].store(false, std::memory_order_release);
    bpf_map_delete_elem(ports_, &k);
  }

  bool insert(const fp_xdp_key& k, const fp_xdp_flow& f) noexcept {
    return bpf_map_update_elem(flows_, &k, &f, BPF_ANY) == 0;
  }
  /// Deletes k; after it returns no new lookup finds it (RCU: a packet
  /// already past the lookup on another CPU may still finish).
  void erase(const fp_xdp_key& k) noexcept { bpf_map_delete_elem(flows_, &k); }
  bool read(const fp_xdp_key& k, fp_xdp_flow& out) const noexcept {
    return bpf_map_lookup_elem(flows_, &k, &out) == 0;
  }

  /// The program's counters, summed over CPUs.
  XdpFastStats stats() const {
    XdpFastStats s;
    uint64_t* f[] = {&s.hit, &s.miss, &s.punt, &s.abort};
    int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> v(size_t(ncpu > 0 ? ncpu : 1));
    for (uint32_t k = 0; k < FP_XDP_STAT_COUNT; ++k)
      if (bpf_map_lookup_elem(stats_, &k, v.data()) == 0)
        for (uint64_t x : v) *f[k] += x;
    return s;
  }

  int flows_fd() const noexcept { return flows_; }
  int ports_fd() const noexcept { return ports_; }

 private:
  static int make_map(bpf_map_type t, const char* name, uint32_t ks, uint32_t vs, uint32_t n) {
    int fd = bpf_map_create(t, name, ks, vs, n, nullptr);
    if (fd < 0)
      throw Error(std::string("xdp fast path: creating map ") + name +
                  " failed: " + std::strerror(-fd));
    return fd;
  }
  // Shared maps by fd, this port's number in .rodata, XSKMAP size.
  int configure(bpf_object* obj, uint32_t dp_port, uint32_t queues) const {
    const std::pair<const char*, int> shared[] = {
        {"fp_flows", flows_}, {"fp_ports", ports_}, {"fp_stats", stats_}};
    for (auto [name, fd] : shared) {
      bpf_map* m = bpf_object__find_map_by_name(obj, name);
      if (!m) return -ENOENT;
      if (int e = bpf_map__reuse_fd(m, fd)) return e;
    }
    bpf_map* xsks = bpf_object__find_map_by_name(obj, "fp_xsks");
    if (!xsks) return -ENOENT;
    if (int e = bpf_map__set_max_entries(xsks, queues ? queues : 1)) return e;
    bpf_map* m = nullptr;
    bpf_object__for_each_map(m, obj) {
      if (!bpf_map__is_internal(m)) continue;
      size_t sz = 0;
      if (!bpf_map__initial_value(m, &sz) || sz != sizeof(uint32_t))
        return -EINVAL;  // only fp_port_no lives there
      return bpf_map__set_initial_value(m, &dp_port, sizeof dp_port);
    }
    return -ENOENT;
  }
  [[noreturn]] static void fail(const std::string& ifname, const char* what, int err) {
    std::string msg = "xdp fast path on " + ifname + ": " + what + " failed: " + std::strerror(err);
    if (err == EPERM) msg += " (needs root / CAP_BPF, CAP_NET_ADMIN)";
    throw Error(msg);
  }

  int flows_ = -1, ports_ = -1, stats_ = -1;
  std::unique_ptr<std::atomic<bool>[]> present_ =
      std::make_unique<std::atomic<bool>[]>(FP_XDP_MAX_PORTS);  // devmap slots in use
};

}  // namespace flowpath
