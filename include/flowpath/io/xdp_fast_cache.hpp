// flowpath/io/xdp_fast_cache.hpp — the writer's half of the XDP fast
// path's entry store and IPv4 exact-match cache: the maps fp_slots (slot
// -> key + flow, every entry) and fp_emc (index -> slot, IPv4) that
// bpf/flowpath_xdp.bpf.c reads (layout and protocol: xdp_fast_abi.h).
//
//   XdpFastCache c;                   // creates and mmaps both maps
//   c.fill(slot, key4, flow);         // before fp_flows4 maps key4 -> slot
//   c.cache(key4, slot);              // after: the cache's hit
//   c.withdraw(key4, slot);           // after fp_flows4 lost key4
//
// The hash maps find an entry's slot, the slot holds the entry: the
// program compares the slot's key with the packet's, so a hash element the
// kernel reused for another key, or a cache index overwritten by another
// entry, is a miss, never another entry's actions.  Writes are plain
// stores to the mmapped values in a fixed order (slot content, valid,
// index on insert; index, valid on delete), so the program, reading index,
// valid, key and flow in that order, never pairs one entry's key with
// another's flow; a slot's content changes again only when XdpFastPath
// reuses the slot, after its quarantine.
//
// Cost: fill copies one entry (~300 bytes), index and withdraw one or two
// stores; no syscalls.  Memory: 18.5 MiB (fp_slots) + 512 KiB (fp_emc),
// shared with the kernel.  Thread-safety: none; XdpFastPath calls it
// under its mutex.
#pragma once

#include <bpf/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "flowpath/core/error.hpp"
#include "flowpath/io/xdp_fast_abi.h"

namespace flowpath {

class XdpFastCache {
 public:
  static constexpr size_t kEmcSize = size_t(1) << FP_XDP_EMC_BITS;

  /// Creates both maps; throws Error naming the map that failed.
  XdpFastCache() {
    try {
      emc_fd_ = make_map("fp_emc", 8, kEmcSize);
      slots_fd_ = make_map("fp_slots", sizeof(fp_xdp_slot), FP_XDP_MAX_FLOWS);
      emc_ = static_cast<uint64_t*>(map_memory(emc_fd_, kEmcBytes, "fp_emc"));
      slots_ = static_cast<fp_xdp_slot*>(map_memory(slots_fd_, kSlotsBytes, "fp_slots"));
    } catch (...) {
      release();
      throw;
    }
    std::fill(emc_, emc_ + kEmcSize, uint64_t(FP_XDP_EMC_EMPTY));  // slots: zero, not valid
  }
  XdpFastCache(const XdpFastCache&) = delete;
  XdpFastCache& operator=(const XdpFastCache&) = delete;
  ~XdpFastCache() { release(); }

  int emc_fd() const noexcept { return emc_fd_; }
  int slots_fd() const noexcept { return slots_fd_; }

  /// fp_emc's index for c: the program's computation (xdp_fast_abi.h).
  static uint32_t index(const fp_xdp_key4& c) noexcept {
    uint64_t w[4];
    uint32_t tail;
    std::memcpy(w, &c, sizeof w);
    std::memcpy(&tail, reinterpret_cast<const unsigned char*>(&c) + sizeof w, sizeof tail);
    return fp_xdp_emc_index(w[0], w[1], w[2], w[3], tail);
  }

  /// The entry in `slot` (read under XdpFastPath's mutex).
  const fp_xdp_slot& at(uint32_t slot) const noexcept { return slots_[slot]; }

  /// Writes the IPv4 entry c -> f into f.slot, then marks it valid.
  void fill(const fp_xdp_key4& c, const fp_xdp_flow& f) noexcept {
    fp_xdp_slot& s = begin_fill(f);
    s.key4 = c;
    __atomic_store_n(&s.valid, FP_XDP_SLOT_IPV4, __ATOMIC_RELEASE);
  }
  /// The same for an IPv6 entry.
  void fill(const fp_xdp_key& k, const fp_xdp_flow& f) noexcept {
    fp_xdp_slot& s = begin_fill(f);
    s.key = k;
    __atomic_store_n(&s.valid, FP_XDP_SLOT_IPV6, __ATOMIC_RELEASE);
  }
  /// Caches c's filled slot on c's index (release store); the index's
  /// previous entry stays findable in fp_flows4.
  void cache(const fp_xdp_key4& c, uint32_t slot) noexcept {
    __atomic_store_n(&emc_[index(c)], uint64_t(slot), __ATOMIC_RELEASE);
  }
  /// Uncaches the IPv4 entry c in `slot` (its index if it still names the
  /// slot), then frees the slot.  A program run already past both reads
  /// finishes with the entry, as one past a hash-map lookup does.
  void withdraw(const fp_xdp_key4& c, uint32_t slot) noexcept {
    uint64_t* e = &emc_[index(c)];
    if (__atomic_load_n(e, __ATOMIC_ACQUIRE) == slot)
      __atomic_store_n(e, uint64_t(FP_XDP_EMC_EMPTY), __ATOMIC_RELEASE);
    clear(slot);
  }
  /// Frees `slot` (an IPv6 entry's, or one filled for an insert that failed).
  void clear(uint32_t slot) noexcept {
    __atomic_store_n(&slots_[slot].valid, FP_XDP_SLOT_FREE, __ATOMIC_RELEASE);
  }

 private:
  fp_xdp_slot& begin_fill(const fp_xdp_flow& f) noexcept {
    fp_xdp_slot& s = slots_[f.slot];  // free (valid 0) since its last clear
    std::memset(&s.key, 0, sizeof s.key);
    s.flow = f;
    return s;
  }

  // Array values are laid out at 8-byte strides: fp_emc's are 8 bytes,
  // fp_slots' a multiple of 8, so the mmapped memory is a plain array.
  static_assert(sizeof(fp_xdp_slot) % 8 == 0, "fp_slots values must not be padded by the kernel");
  static constexpr size_t kEmcBytes = kEmcSize * 8;
  static constexpr size_t kSlotsBytes = sizeof(fp_xdp_slot) * FP_XDP_MAX_FLOWS;

  static int make_map(const char* name, uint32_t value_size, size_t n) {
    LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
    int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, value_size, uint32_t(n), &o);
    if (fd < 0)
      throw Error(std::string("xdp fast path: creating map ") + name +
                  " failed: " + std::strerror(-fd));
    return fd;
  }
  static void* map_memory(int fd, size_t bytes, const char* name) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
      throw Error(std::string("xdp fast path: mapping ") + name +
                  " failed: " + std::strerror(errno));
    return p;
  }
  void release() noexcept {
    if (emc_) munmap(emc_, kEmcBytes);
    if (slots_) munmap(slots_, kSlotsBytes);
    for (int fd : {emc_fd_, slots_fd_})
      if (fd >= 0) close(fd);
    emc_ = nullptr, slots_ = nullptr, emc_fd_ = slots_fd_ = -1;
  }

  int emc_fd_ = -1, slots_fd_ = -1;
  uint64_t* emc_ = nullptr;       // fp_emc's values
  fp_xdp_slot* slots_ = nullptr;  // fp_slots' values
};

}  // namespace flowpath
