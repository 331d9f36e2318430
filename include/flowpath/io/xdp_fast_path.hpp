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
// Maps (layout: xdp_fast_abi.h): fp_slots (array, one entry per counter
// slot: its key, then its ops; mmapped, io/xdp_fast_cache.hpp), fp_flows4
// and fp_flows (hash, exact-match key -> slot; IPv4 flows under the
// compact fp_xdp_key4, IPv6 ones under fp_xdp_key: callers pass
// fp_xdp_key and this class picks), fp_counts (per-CPU packets/bytes per slot: the program's plain
// adds; read() and take() sum them into fp_xdp_flow), fp_ports (devmap:
// datapath port -> ifindex; an empty slot makes the program hand the
// packet to the PMD untouched), fp_stats (per-CPU hit/miss/punt/abort),
// and the IPv4 exact-match cache in front of fp_flows4 (fp_emc -> slot,
// written under the mutex).
// Each port's copy has its own XSKMAP and its datapath port number in
// .rodata, so one set of maps serves any number of interfaces.  Kernel
// memory: the two hash maps preallocated (keys and 4-byte values), plus 16
// bytes per slot per CPU (1 MiB per CPU) for fp_counts, 18.5 MiB for
// fp_slots and 512 KiB for fp_emc.

// The object is embedded (flowpath/io/xdp_fast_object.inc, generated at
// build time by cmake/FlowpathXdpObject.cmake): nothing is looked up on
// disk at run time.  available() is false when the library was built
// without clang; constructing then throws.
//
// Cost: a verifier pass per port at open (~ms); map updates are syscalls
// (the PMD's slow path only; read() is two).  Thread-safety: the map calls
// are syscalls and the counter slots' FIFO is under a mutex, so any thread
// may call; construct/destroy from one thread.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/core/error.hpp"
#include "flowpath/io/xdp_fast_abi.h"
#include "flowpath/io/xdp_fast_cache.hpp"

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
    cache_.emplace();
    flows_ = make_map(BPF_MAP_TYPE_HASH, "fp_flows", sizeof(fp_xdp_key), 4, FP_XDP_MAX_FLOWS);
    flows4_ = make_map(BPF_MAP_TYPE_HASH, "fp_flows4", sizeof(fp_xdp_key4), 4, FP_XDP_MAX_FLOWS);
    counts_ =
        make_map(BPF_MAP_TYPE_PERCPU_ARRAY, "fp_counts", 4, sizeof(fp_xdp_count), FP_XDP_MAX_FLOWS);
    int n = libbpf_num_possible_cpus();
    ncpu_ = size_t(n > 0 ? n : 1);
    scratch_.resize(ncpu_);
    for (uint32_t i = 0; i < FP_XDP_MAX_FLOWS; ++i) free_.push_back(i);
    ports_ = make_map(BPF_MAP_TYPE_DEVMAP, "fp_ports", 4, 4, FP_XDP_MAX_PORTS);
    stats_ = make_map(BPF_MAP_TYPE_PERCPU_ARRAY, "fp_stats", 4, 8, FP_XDP_STAT_COUNT);
  }
  XdpFastPath(const XdpFastPath&) = delete;
  XdpFastPath& operator=(const XdpFastPath&) = delete;
  ~XdpFastPath() {
    for (int fd : {flows_, flows4_, counts_, ports_, stats_})
      if (fd >= 0) close(fd);
  }

  /// Loads a copy of the program for datapath port dp_port (its XSKMAP
  /// sized for `queues`); throws Error naming the interface.
  std::pair<int, int> load(const std::string& ifname, uint32_t dp_port, uint32_t queues) const {
    return load(ifname, dp_port, queues, kXdpFastObject, sizeof kXdpFastObject);
  }
  /// The same for another build of bpf/flowpath_xdp.bpf.c (same maps and
  /// ABI: builds before the hash maps held slot numbers fail the verifier), e.g. the profiling
  /// variants and old builds that bench/e2e/xdp_hop_cost.cpp times against the embedded one.
  std::pair<int, int> load(const std::string& ifname, uint32_t dp_port, uint32_t queues,
                           const unsigned char* object, size_t size) const {
    bpf_object_open_opts o{};
    o.sz = sizeof o;
    o.object_name = "fp_xdp";
    bpf_object* obj = bpf_object__open_mem(object, size, &o);
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

  /// The IPv4 map's key for k (only meaningful when is_ipv4(k)).
  static fp_xdp_key4 key4_of(const fp_xdp_key& k) noexcept {
    fp_xdp_key4 c;
    std::memset(&c, 0, sizeof c);
    std::memcpy(c.macs, k.dl_dst, 6);
    std::memcpy(c.macs + 6, k.dl_src, 6);
    c.in_port = k.in_port;
    const uint8_t vlan[4] = {uint8_t(k.vlan_tpid >> 8), uint8_t(k.vlan_tpid),
                             uint8_t(k.vlan_tci >> 8), uint8_t(k.vlan_tci)};
    std::memcpy(c.vlan, vlan, 4);
    std::memcpy(c.src, k.src, 4);
    std::memcpy(c.dst, k.dst, 4);
    const uint8_t tp[4] = {uint8_t(k.tp_src >> 8), uint8_t(k.tp_src), uint8_t(k.tp_dst >> 8),
                           uint8_t(k.tp_dst)};
    std::memcpy(c.tp, tp, 4);
    c.nw_ttl = k.nw_ttl, c.nw_proto = k.nw_proto, c.nw_tos = k.nw_tos;
    return c;
  }
  static bool is_ipv4(const fp_xdp_key& k) noexcept { return k.dl_type == 0x0800; }

  /// Inserts k -> f with a fresh counter slot (f.packets, f.bytes and
  /// f.slot are ignored; *slot receives it, for counts()).  False when k is
  /// already there (it has one owner, whose counts stay single), or the map
  /// or the free slots are exhausted: the PMD keeps the flow.
  bool insert(const fp_xdp_key& k, fp_xdp_flow f, uint32_t* slot = nullptr) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() <= kQuarantine) return false;
    f.slot = free_.front();
    f.packets = f.bytes = 0;
    std::fill(scratch_.begin(), scratch_.end(), fp_xdp_count{});
    if (bpf_map_update_elem(counts_, &f.slot, scratch_.data(), BPF_ANY) != 0) return false;
    if (!update(k, f)) return false;
    free_.pop_front();
    if (slot) *slot = f.slot;
    return true;
  }
  /// Deletes k; after it returns no new lookup finds it (RCU: a packet
  /// already past the lookup on another CPU may still finish).
  void erase(const fp_xdp_key& k) noexcept {
    fp_xdp_flow f;
    take(k, f);
  }
  /// Reads k's ops and its kernel hits so far (summed over CPUs).
  bool read(const fp_xdp_key& k, fp_xdp_flow& out) const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return lookup(k, out) && sum(out);
  }
  /// The kernel hits so far of the entry insert() gave `slot` (one syscall:
  /// the PMD's periodic collect), into f.packets and f.bytes.
  bool counts(uint32_t slot, fp_xdp_flow& f) const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    f.slot = slot;
    return sum(f);
  }
  /// Reads and deletes k (its last counts); false: not there.
  bool take(const fp_xdp_key& k, fp_xdp_flow& out) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (!lookup(k, out, true)) return false;
    sum(out);
    free_.push_back(out.slot);  // reused only after kQuarantine other inserts
    return true;
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

  int flows_fd() const noexcept { return flows_; }    // IPv6 entries
  int flows4_fd() const noexcept { return flows4_; }  // IPv4 entries
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
    const std::pair<const char*, int> shared[] = {{"fp_flows", flows_},
                                                  {"fp_flows4", flows4_},
                                                  {"fp_counts", counts_},
                                                  {"fp_ports", ports_},
                                                  {"fp_stats", stats_},
                                                  {"fp_emc", cache_->emc_fd()},
                                                  {"fp_slots", cache_->slots_fd()}};
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
  // A freed counter slot goes to the back of the FIFO and at least
  // kQuarantine slots stay free, so a slot is reused only after that many
  // inserts (map-update syscalls, milliseconds): long after any packet that
  // found the deleted entry (one program run, microseconds) has counted.
  static constexpr size_t kQuarantine = 1024;

  // k's slot, from its hash map through `op` (bpf_map_lookup_elem, or
  // bpf_map_lookup_and_delete_elem, which also deletes the element).
  using MapOp = int (*)(int, const void*, void*);
  bool find_slot(const fp_xdp_key& k, MapOp op, uint32_t& slot) const noexcept {
    int e;
    if (is_ipv4(k)) {
      const fp_xdp_key4 c = key4_of(k);
      e = op(flows4_, &c, &slot);
    } else {
      e = op(flows_, &k, &slot);
    }
    return e == 0 && slot < FP_XDP_MAX_FLOWS;
  }
  // k's entry into out, deleting it (hash element, cache index, slot's
  // valid) when del.  Under mu_.
  bool lookup(const fp_xdp_key& k, fp_xdp_flow& out, bool del) noexcept {
    uint32_t slot = 0;
    if (!find_slot(k, del ? bpf_map_lookup_and_delete_elem : bpf_map_lookup_elem, slot))
      return false;
    out = cache_->at(slot).flow;
    if (del) {
      if (is_ipv4(k))
        cache_->withdraw(key4_of(k), slot);
      else
        cache_->clear(slot);
    }
    return true;
  }
  bool lookup(const fp_xdp_key& k, fp_xdp_flow& out) const noexcept {
    uint32_t slot = 0;
    if (!find_slot(k, bpf_map_lookup_elem, slot)) return false;
    out = cache_->at(slot).flow;
    return true;
  }
  // Fills f.slot, then maps k to it (BPF_NOEXIST), then caches an IPv4
  // entry; a refused insert leaves the slot free again.
  bool update(const fp_xdp_key& k, const fp_xdp_flow& f) noexcept {
    if (!is_ipv4(k)) {
      cache_->fill(k, f);
      if (bpf_map_update_elem(flows_, &k, &f.slot, BPF_NOEXIST) == 0) return true;
      cache_->clear(f.slot);
      return false;
    }
    const fp_xdp_key4 c = key4_of(k);
    cache_->fill(c, f);
    if (bpf_map_update_elem(flows4_, &c, &f.slot, BPF_NOEXIST) != 0) {
      cache_->clear(f.slot);
      return false;
    }
    cache_->cache(c, f.slot);
    return true;
  }
  /// f.packets/f.bytes := the per-CPU sums of f.slot.
  bool sum(fp_xdp_flow& f) const noexcept {
    f.packets = f.bytes = 0;
    if (bpf_map_lookup_elem(counts_, &f.slot, scratch_.data()) != 0) return false;
    for (const fp_xdp_count& c : scratch_) f.packets += c.packets, f.bytes += c.bytes;
    return true;
  }

  [[noreturn]] static void fail(const std::string& ifname, const char* what, int err) {
    std::string msg = "xdp fast path on " + ifname + ": " + what + " failed: " + std::strerror(err);
    if (err == EPERM) msg += " (needs root / CAP_BPF, CAP_NET_ADMIN)";
    throw Error(msg);
  }

  std::optional<XdpFastCache> cache_;  // fp_slots, fp_emc (written under mu_)
  int flows_ = -1, flows4_ = -1, counts_ = -1, ports_ = -1, stats_ = -1;
  size_t ncpu_ = 1;                            // possible CPUs: per-CPU value count
  mutable std::mutex mu_;                      // the slot FIFO, across PMD threads
  std::deque<uint32_t> free_;                  // free counter slots, oldest-freed first
  mutable std::vector<fp_xdp_count> scratch_;  // one slot's per-CPU values (under mu_)
  std::unique_ptr<std::atomic<bool>[]> present_ =
      std::make_unique<std::atomic<bool>[]>(FP_XDP_MAX_PORTS);  // devmap slots in use
};

}  // namespace flowpath
