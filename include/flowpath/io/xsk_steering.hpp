// flowpath/io/xsk_steering.hpp — the one XDP program (and XSKMAP) that
// steers every flowpath AF_XDP port's frames into its sockets.
//
//   XskSteering& s = XskSteering::instance();     // loaded on first use
//   uint32_t base = s.add(ifindex, queues);       // slots base..base+queues-1
//   // attach s.prog_fd() to the interface; socket of queue q -> slot base+q
//   s.remove(ifindex, base, queues);              // after the sockets closed
//
// Why one program for every interface.  Attaching an XDP program that no
// interface runs yet changes the kernel's XDP dispatcher
// (bpf_dispatcher_change_prog), which waits for an RCU grace period
// (synchronize_rcu, ~10-20 ms here, measured from the kernel stacks of the
// switch during `ovs-vsctl add-port`).  Attaching a program that already
// runs on another interface only takes a reference: the dispatcher is
// unchanged and nothing waits.  So every port shares this program, and
// only the first attach (and the last detach) pays the grace period.
//
// The program: slot = ifindex_base[ctx->ingress_ifindex] + rx_queue_index
// (a hash map lookup), then bpf_redirect_map(&xsks, slot, XDP_PASS); an
// interface that is not ours, or a queue whose slot is empty, passes
// frames to the kernel stack.  One hash lookup per frame more than a
// per-interface program (tens of ns, against the ~4,000 cycles of the
// kernel's veth transmit path).
// Capacity: kInterfaces interfaces, kSlots sockets in all (Error beyond).
// Thread-safety: add/remove from any thread (a mutex); the fds are fixed.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "flowpath/core/error.hpp"

namespace flowpath {

class XskSteering {
 public:
  static constexpr uint32_t kSlots = 4096;  // sockets (interfaces x queues)
  static constexpr uint32_t kInterfaces = 1024;

  /// The process's steering program, loaded on first use; throws Error
  /// (no permission, no BPF) naming what failed.
  static XskSteering& instance() {
    static XskSteering s;
    return s;
  }
  XskSteering(const XskSteering&) = delete;
  XskSteering& operator=(const XskSteering&) = delete;
  ~XskSteering() {
    for (int fd : {prog_fd_, xsks_fd_, ifmap_fd_})
      if (fd >= 0) close(fd);
  }

  /// Reserves `queues` consecutive slots for ifindex and publishes them to
  /// the program; returns the first.  Throws Error when full.
  uint32_t add(int ifindex, uint32_t queues) {
    std::lock_guard lock(mu_);
    uint32_t base = 0, run = 0;
    for (uint32_t i = 0; i < kSlots && run < queues; ++i) {
      run = used_[i] ? 0 : run + 1;
      if (run == 1) base = i;
    }
    if (queues == 0 || run < queues)
      throw Error("afxdp: no room for " + std::to_string(queues) + " more sockets (" +
                  std::to_string(kSlots) + " in all)");
    uint32_t key = uint32_t(ifindex);
    if (int err = bpf_map_update_elem(ifmap_fd_, &key, &base, BPF_ANY); err)
      throw Error("afxdp: registering interface " + std::to_string(ifindex) +
                  " with the steering program failed: " + std::strerror(-err));
    for (uint32_t q = 0; q < queues; ++q) used_[base + q] = true;
    return base;
  }
  /// Forgets ifindex and frees its slots (its sockets are closed: the
  /// kernel cleared their XSKMAP entries then).
  void remove(int ifindex, uint32_t base, uint32_t queues) noexcept {
    std::lock_guard lock(mu_);
    uint32_t key = uint32_t(ifindex);
    bpf_map_delete_elem(ifmap_fd_, &key);
    for (uint32_t q = 0; q < queues && base + q < kSlots; ++q) used_[base + q] = false;
  }

  int prog_fd() const noexcept { return prog_fd_; }
  int xsks_fd() const noexcept { return xsks_fd_; }

 private:
  XskSteering() : used_(kSlots, false) {
    xsks_fd_ = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "fp_xsks", 4, 4, kSlots, nullptr);
    if (xsks_fd_ < 0) fail("creating the XSKMAP", -xsks_fd_);
    ifmap_fd_ = bpf_map_create(BPF_MAP_TYPE_HASH, "fp_ifbase", 4, 4, kInterfaces, nullptr);
    if (ifmap_fd_ < 0) fail("creating the interface map", -ifmap_fd_);
    load();
  }

  static bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
  }
  void load() {
    constexpr int16_t kIfindex = offsetof(xdp_md, ingress_ifindex);
    constexpr int16_t kQueue = offsetof(xdp_md, rx_queue_index);
    const bpf_insn prog[] = {
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),       // r6 = ctx
        insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, kIfindex, 0),  // r2 = ingress_ifindex
        insn(BPF_STX | BPF_MEM | BPF_W, 10, 2, -4, 0),       // key on the stack
        insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, ifmap_fd_),
        insn(0, 0, 0, 0, 0),                             // r1 = &ifbase
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),  // r2 = fp
        insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),  // r2 = &key
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
        insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 8, 0),       // not ours: pass
        insn(BPF_LDX | BPF_MEM | BPF_W, 2, 0, 0, 0),       // r2 = base
        insn(BPF_LDX | BPF_MEM | BPF_W, 3, 6, kQueue, 0),  // r3 = rx queue
        insn(BPF_ALU64 | BPF_ADD | BPF_X, 2, 3, 0, 0),     // r2 = slot
        insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, xsks_fd_),
        insn(0, 0, 0, 0, 0),                                   // r1 = &xsks
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, XDP_PASS),  // empty slot: pass
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    prog_fd_ = bpf_prog_load(BPF_PROG_TYPE_XDP, "fp_xsk_steer", "GPL", prog,
                             sizeof(prog) / sizeof(prog[0]), nullptr);
    if (prog_fd_ < 0) fail("loading the XDP program", -prog_fd_);
  }
  [[noreturn]] void fail(const char* what, int err) {
    for (int fd : {prog_fd_, xsks_fd_, ifmap_fd_})
      if (fd >= 0) close(fd);
    prog_fd_ = xsks_fd_ = ifmap_fd_ = -1;
    std::string msg = std::string("afxdp: ") + what + " failed: " + std::strerror(err);
    if (err == EPERM || err == EACCES)
      msg += " (no permission: needs root / CAP_BPF, CAP_NET_ADMIN)";
    throw Error(msg);
  }

  std::mutex mu_;
  std::vector<bool> used_;
  int prog_fd_ = -1, xsks_fd_ = -1, ifmap_fd_ = -1;
};

}  // namespace flowpath
