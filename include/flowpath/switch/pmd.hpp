// flowpath/switch/pmd.hpp — one poll-mode-driver (PMD) thread of the
// switch: busy-polls its ports and runs their packets through its own
// datapath (caches per thread, as in Open vSwitch's dpif-netdev).
//
//   Pmd pmd(of, /*index=*/0, /*core=*/1, table);   // table: the switch's
//   pmd.add_rx_port(port);                         // ports it receives from
//   std::thread t([&] { pmd.run(stop); });         // or poll_once() in tests
//
// The generation fence.  Each poll starts, under the mutex, by
// revalidating the datapath if the Ofproto's generation moved and then
// publishing the generation it has now seen (seen_generation()).  At that
// point the PMD holds no packet and no port pointer from an earlier pass,
// so once seen_generation() >= g every later pass sees the configuration
// of generation g: no megaflow, table read or deferred output from before
// it is left (Switch::wait_pmds_past builds "in effect" on this).
// A waiter that cannot spin (OfprotoBackend::barrier, once a PMD is slow
// to publish) sleeps in wait_for_publish(): while anyone waits, each
// publish bumps a futex word and wakes it (one load per pass otherwise).
// A table change (not a port change) needs less: between_batches() says no
// batch is being processed now, and every later batch revalidates first
// (Datapath::process), so an idle, sleeping or preempted-in-an-empty-poll
// PMD costs the barrier no wait at all.
//
// The rx list is read-copy-update, not locked.  add_rx_port/remove_rx_port
// (control thread) publish a new immutable list with a higher version; each
// pass loads the list once, at its start, and publishes the version it
// loaded (seen_rx_version()).  Once seen_rx_version() >= rx_version() no
// pass that could still use an older list is running, so a removed port may
// be closed and the old lists are freed (reclaim()).  So the control thread
// never waits for the PMD's mutex to change ports; it only waits for the
// PMD to start its next pass (Switch::wait_pmds_past, a few µs when busy).
//
// One pass, under the PMD's mutex taken once for the pass: the sync (a
// few loads when nothing moved), then for every rx port: rx_burst (<= 32
// packets), in_port = the port's datapath number, datapath.process(batch,
// sink), flush the ports that got output.  Outputs for other PMDs' ports
// are delivered with the mutex released (switch_sink.hpp).  TAP ports are
// read only when readable, checked every ~25 µs (kTapCheckCycles) with one
// poll() of zero timeout for all of them (an empty read() is a syscall).  Every
// 64 empty passes the PMD also flushes all its ports (recycles finished
// transmissions).
//
// The mutex guards the ports' rings and the datapath's state: another PMD
// sending to one of our ports (switch_sink.hpp), packet-outs,
// pmd-stats-show, pmd-stats-clear and dpctl/dump-flows take it, so they
// see the datapath between two passes.  Uncontended, it costs one atomic
// pair per pass (it was one per port poll).  It is released between two
// passes, as it was between two port polls: a waiter is woken by the
// unlock's futex wake, a syscall the PMD pays before it can retake the
// mutex (tests/switch/pmd_poll_test.cpp checks a control thread gets in).
//
// Sleeping when idle (off by default, as Open vSwitch's pmd-maxsleep).
// With set_max_sleep_us(N > 0), a PMD whose passes found nothing for
// kParkAfterPolls passes parks: it blocks in poll() on its ports' fds and
// a wake eventfd for at most N µs, then makes one pass (TAP ports
// included) and, if that pass found nothing either, parks again at once:
// an idle PMD makes about one pass per wake-up, not kParkAfterPolls (which
// kept a core ~15% busy while "asleep", stealing it from the kernel's XDP
// forwarding on the same core).  A parked PMD is
// quiescent (parked(): between two passes, holding no packet; its next
// pass starts with the fence's sync), so wait_pmds_past does not wait for
// it to be scheduled, it only wakes it (a new rx list changes the fds it
// sleeps on) — except when an AF_XDP port was added (owes_pass()): the
// pass that first loads a list primes its ports (fill rings filled), and
// a new port is in effect only once it can receive, so the fence waits
// for that pass.  On a machine whose PMD core is shared, a busy-polling PMD
// that is preempted delays every fence by a scheduler slice; a parked one
// does not, and leaves its core to the rest while idle.  Cost: up to the
// wake-up latency (tens of µs) on the first packet after a quiet spell.
//
// Busy cycles (the benchmark's figure).  A pass reads the TSC once at its
// start and once after each port poll that received (rdtsc is not cheap
// in a VM: two per port poll were a fifth of an idle PMD's time).  The
// cycles from the last stamp to the end of a poll that received — the
// receive, process, transmit and flush, plus whatever came since the
// stamp before (the lock and sync, empty polls of earlier ports in the
// pass) — are busy; everything else is idle: empty passes, the TAP check
// (stamped apart), a pass's tail after its last receiving port.  As the
// floor counts a whole iteration that received, flowpath counts at least
// each receiving port's poll.  pmd_stats_show() prints them in Open
// vSwitch's shape: "processing cycles" = busy, "avg processing cycles per
// packet" = busy / packets received.
// Thread-safety: run()/poll_once() on one thread; add_rx_port,
// remove_rx_port, rx_version and reclaim on the control thread; the rest
// under mutex().
#pragma once

#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "flowpath/datapath/xdp_offload.hpp"
#include "flowpath/io/umem.hpp"
#include "flowpath/switch/switch_sink.hpp"

namespace flowpath {

class Pmd {
  struct RxList {  // immutable once published
    std::vector<SwitchPort*> ports;
    uint64_t version = 0;
  };

 public:
  /// TAP ports (internal ports: the host's own traffic, low rate) are
  /// checked for readability (one poll() for all of them) once this many
  /// TSC cycles have passed since the last check (~25 µs at 2.6 GHz), and
  /// after every sleep: a bounded syscall rate however fast the passes
  /// go (every 8th pass, as before, was 400,000 empty read()s a second on
  /// an idle PMD), and a bounded delay for the host's packets.
  static constexpr uint64_t kTapCheckCycles = uint64_t(1) << 16;
  /// Empty passes before an idle PMD may sleep (see set_max_sleep_us).
  static constexpr uint64_t kParkAfterPolls = 1024;

  Pmd(Ofproto& of, unsigned index, int core, PortTable ports, DatapathConfig dpc = {})
      : index_(index), core_(core), of_(of), dp_(of, with_core(dpc, core)), sink_(ports, index) {}
  ~Pmd() {
    if (wake_fd_ >= 0) close(wake_fd_);
  }
  Pmd(const Pmd&) = delete;
  Pmd& operator=(const Pmd&) = delete;

  /// 0 (default): always busy-poll; else sleep up to us µs when idle
  /// (before run()).
  void set_max_sleep_us(uint32_t us) {
    max_sleep_us_ = us;
    if (us && wake_fd_ < 0) wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) max_sleep_us_ = 0;  // no eventfd: keep polling
  }
  /// Passes made and sleeps taken so far (any thread; for tests and stats).
  uint64_t passes() const noexcept { return polls_.load(std::memory_order_relaxed); }
  uint64_t parks() const noexcept { return parks_.load(std::memory_order_relaxed); }
  /// True while the PMD sleeps between two passes (quiescent: the fence).
  bool parked() const noexcept { return parked_.load(std::memory_order_seq_cst); }
  /// Ends a sleep at once (control thread, after a change).
  void wake() noexcept {
    uint64_t one = 1;
    if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
    }
  }

  /// Publishes a new rx list with p (no lock: see the header comment).
  void add_rx_port(SwitchPort* p) {
    p->set_domain(&mu_);
    std::vector<SwitchPort*> v = list_->ports;
    v.push_back(p);
    publish(std::move(v));
    if (p->needs_prime()) added_at_ = list_->version;  // a TAP queues what comes meanwhile
  }
  /// Publishes a new rx list without p; the caller closes p once
  /// seen_rx_version() >= rx_version() (Switch::wait_pmds_past).
  void remove_rx_port(SwitchPort* p) {
    std::vector<SwitchPort*> v = list_->ports;
    std::erase(v, p);
    publish(std::move(v));
  }
  /// The version of the last rx list published, and the one the PMD's
  /// current pass uses.
  uint64_t rx_version() const noexcept { return list_->version; }
  uint64_t seen_rx_version() const noexcept { return seen_rx_.load(std::memory_order_acquire); }
  /// True until a pass has loaded the last list that added an AF_XDP
  /// port: that pass primes it (fills its rings) before the list counts as
  /// seen, so a parked PMD is not "past the fence" for such a port.  (A
  /// TAP needs no priming: what arrives meanwhile waits in its queue.)
  bool owes_pass() const noexcept { return seen_rx_version() < added_at_; }
  /// Frees the rx lists no pass can use any more (control thread).
  void reclaim() {
    if (seen_rx_version() >= rx_version()) retired_.clear();
  }
  /// Revalidates if the Ofproto moved and publishes the generation seen
  /// (the fence; poll_once does it at the start of every pass).
  const RxList& sync() {
    std::lock_guard lock(mu_);
    return sync_locked();
  }
  uint64_t seen_generation() const noexcept { return seen_.load(std::memory_order_acquire); }
  /// Sleeps until this PMD publishes a generation >= g or timeout_us pass
  /// (control thread; returns at once if it already has).  The PMD wakes
  /// the sleeper from its next sync, so a waiter needs no timer polling.
  void wait_for_publish(uint64_t g, long timeout_us) noexcept {
    fence_waiters_.fetch_add(1, std::memory_order_seq_cst);
    uint32_t seq = fence_seq_.load(std::memory_order_acquire);
    if (seen_.load(std::memory_order_seq_cst) < g) {  // after announcing: see sync_locked
      timespec ts{timeout_us / 1000000, (timeout_us % 1000000) * 1000};
      syscall(SYS_futex, &fence_seq_, FUTEX_WAIT_PRIVATE, seq, &ts, nullptr, 0);
    }
    fence_waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
  /// True if, at this moment, no batch is being processed (control thread,
  /// after a table change): every later batch then starts with
  /// Datapath::process's revalidation, which reads the generation after the
  /// batch was marked (a Dekker pair of seq_cst fences), so the change is in
  /// effect for this PMD without waiting for its next pass.  Empty polls and
  /// sleeps are between batches.  False with the XDP offload on: its kernel
  /// entries are swept only by the next pass's sync.
  bool between_batches() const noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the change, then the mark
    return (batch_seq_.load(std::memory_order_acquire) & 1) == 0 &&
           !offload_.load(std::memory_order_relaxed);
  }
  /// This PMD's UMEM, created on first use (AF_XDP ports of the PMD share it).
  Umem& umem(const Umem::Config& cfg = {}) {
    if (!umem_) umem_ = std::make_unique<Umem>(cfg);
    return *umem_;
  }

  /// One pass over the rx ports; returns the packets received.
  uint32_t poll_once() noexcept {
    uint32_t total = 0;
    const bool woke = std::exchange(woke_, false);
    const uint64_t pass = polls_.load(std::memory_order_relaxed) + 1;
    polls_.store(pass, std::memory_order_relaxed);  // one writer: no locked add
    uint64_t mark = read_cycles();                  // the last stamp: see "Busy cycles" above
    std::unique_lock lock(mu_);
    if (last_stamp_) idle_ += mark - last_stamp_;  // the previous pass's tail
    const RxList& list = sync_locked();
    const bool check_taps = woke || mark - last_tap_check_ >= kTapCheckCycles;
    if (check_taps) {  // a syscall: charged as idle, apart from any port
      poll_taps();
      last_tap_check_ = read_cycles();
      idle_ += last_tap_check_ - mark;
      mark = last_tap_check_;
    }
    size_t tap = 0;
    int64_t now_ms = -1;  // read once, by the pass's first batch
    for (SwitchPort* port : list.ports) {
      if (port->kind() == SwitchPortKind::kTap && !tap_ready(tap++, check_taps)) continue;
      batch_.clear();
      uint32_t n = port->rx_burst(batch_);
      if (n == 0) continue;  // an empty poll: idle, stamped by the next one
      // odd while a batch is processed: between_batches() (the barrier)
      batch_seq_.store(batch_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // then process() reads the generation
      for (Packet* p : batch_) p->in_port = port->dp_port();
      sink_.begin(*port);
      if (now_ms < 0) now_ms = dp_.config().clock->now_ms();
      dp_.process(batch_, sink_, now_ms);
      sink_.flush_local();
      if (xdp_) offer_to_kernel(now_ms);
      batch_seq_.store(batch_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
      if (sink_.has_foreign()) {  // other PMDs' ports: never under our mutex
        lock.unlock();
        sink_.finish_foreign(mu_);
        lock.lock();
      }
      const uint64_t now = read_cycles();
      busy_ += now - mark;
      mark = now;
      total += n;
    }
    if (xdp_ && (woke || (pass & 1023) == 0)) maybe_collect();  // rate-limited
    if (total == 0 && (++empty_polls_ & 63) == 0)
      for (SwitchPort* p : list.ports) p->flush();
    last_stamp_ = mark;
    return total;  // unlocks: control threads get in between two passes
  }

  /// Pins the calling thread to core() (if >= 0) and polls until stop.
  void run(const std::atomic<bool>& stop) noexcept {
    if (core_ >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(core_, &set);
      pinned_ = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    }
    uint64_t quiet = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      quiet = poll_once() ? 0 : quiet + 1;
      if (max_sleep_us_ && quiet >= kParkAfterPolls) {
        // Slept: one empty pass parks again.  Could not (a port without
        // fds): keep busy-polling for another kParkAfterPolls passes.
        quiet = park() ? kParkAfterPolls - 1 : 0;
      }
    }
    std::lock_guard lock(mu_);
    for (SwitchPort* p : rx_.load(std::memory_order_acquire)->ports) p->flush();
  }

  /// Turns the XDP fast path's offload on for this PMD (docs/xdp-fast-path.md):
  /// its datapath's cacheable flows go into fp's kernel map.  Takes the mutex.
  void enable_xdp_offload(XdpFastPath& fp) {
    std::lock_guard lock(mu_);
    xdp_ = std::make_unique<XdpOffload>(fp);
    offload_.store(true, std::memory_order_seq_cst);
  }
  /// Kernel hits read back now (the PMD also does it every ~100 ms).
  void collect_xdp_counters() {
    std::lock_guard lock(mu_);
    if (xdp_) xdp_->collect(dp_.config().clock->now_ms());
  }
  /// Kernel-forwarded packets of datapath port dp (rx on it, tx to it).
  XdpOffload::PortCounts xdp_port_counts(uint32_t dp) {
    std::lock_guard lock(mu_);
    return xdp_ ? xdp_->port(dp) : XdpOffload::PortCounts{};
  }
  const XdpOffload* xdp_offload() const noexcept { return xdp_.get(); }

  // ---- control thread (take mutex() or use these) ------------------------
  std::string pmd_stats_show() {
    std::lock_guard lock(mu_);
    PmdStats s = dp_.stats();
    s.cycles = 0;  // the datapath's own figure; ours (whole polls) follows
    std::string out = flowpath::pmd_stats_show(s, 0, unsigned(core_ < 0 ? 0 : core_));
    if (xdp_) {
      xdp_->collect(dp_.config().clock->now_ms());
      const XdpOffloadStats& x = xdp_->stats();
      out += "  xdp fast path hits: " + std::to_string(x.kernel_packets) +
             "\n  xdp fast path flows: " + std::to_string(xdp_->size()) + " (inserted " +
             std::to_string(x.inserted) + ", removed " + std::to_string(x.removed) + ", refused " +
             std::to_string(x.refused) + ")\n";
    }
    uint64_t total = busy_ + idle_;
    if (total == 0) return out;
    char buf[256];
    auto pct = [total](uint64_t x) { return 100.0 * double(x) / double(total); };
    std::snprintf(buf, sizeof buf, "  idle cycles: %" PRIu64 " (%.02f%%)\n", idle_, pct(idle_));
    out += buf;
    std::snprintf(buf, sizeof buf, "  processing cycles: %" PRIu64 " (%.02f%%)\n", busy_,
                  pct(busy_));
    out += buf;
    if (s.packets == 0) return out;
    std::snprintf(buf, sizeof buf, "  avg cycles per packet: %.02f (%" PRIu64 "/%" PRIu64 ")\n",
                  double(total) / double(s.packets), total, s.packets);
    out += buf;
    std::snprintf(buf, sizeof buf,
                  "  avg processing cycles per packet: %.02f (%" PRIu64 "/%" PRIu64 ")\n",
                  double(busy_) / double(s.packets), busy_, s.packets);
    out += buf;
    return out;
  }
  void pmd_stats_clear() {
    std::lock_guard lock(mu_);
    dp_.pmd_stats_clear();
    busy_ = idle_ = 0;
    sink_.clear_stats();
  }
  std::string dpctl_dump_flows(const DpPortNamer& namer) {
    std::lock_guard lock(mu_);
    if (!xdp_) return dp_.dpctl_dump_flows(namer);
    // As Open vSwitch marks flows a hardware datapath holds: "offloaded:yes".
    const int64_t now = dp_.config().clock->now_ms();
    xdp_->collect(now);
    std::string out;
    dp_.megaflows().for_each([&](const MegaflowEntry& e) {
      std::string line = format_megaflow(e, now, namer);
      size_t at = line.rfind(", actions:");
      if (xdp_->offloaded(e) && at != std::string::npos) line.insert(at, ", offloaded:yes, dp:xdp");
      out += line + '\n';
    });
    return out;
  }
  uint64_t busy_cycles() {
    std::lock_guard lock(mu_);
    return busy_;
  }

  std::mutex& mutex() noexcept { return mu_; }
  Datapath<Ofproto>& datapath() noexcept { return dp_; }
  const SwitchSinkStats& sink_stats() const noexcept { return sink_.stats(); }
  unsigned index() const noexcept { return index_; }
  int core() const noexcept { return core_; }
  bool pinned() const noexcept { return pinned_; }
  /// The rx list last published (control thread).
  const std::vector<SwitchPort*>& rx_ports() const noexcept { return list_->ports; }

 private:
  // The start of a pass: generation first (the revalidation covers at
  // least g), then the port table's slots and the rx list (stored before
  // the generation moved, see Switch::apply).  Nothing moved since the
  // last pass (the common case): the loads and two compares, no fence and
  // no store — the published values already say what this pass would.
  const RxList& sync_locked() {
    uint64_t g = of_.generation();  // acquire loads: the rx_ load below stays after them
    const RxList* cur = rx_.load(std::memory_order_acquire);
    if (g == seen_.load(std::memory_order_relaxed) &&
        cur->version == seen_rx_.load(std::memory_order_relaxed) && !xdp_) [[likely]]
      return *cur;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const RxList* l = rx_.load(std::memory_order_acquire);
    dp_.revalidate_if_needed();
    // Kernel entries of removed megaflows go before the generation is
    // published: the fence then covers both paths (xdp_offload.hpp).
    if (xdp_) xdp_->sweep(dp_.megaflows(), dp_.config().clock->now_ms());
    // A new list may hold new ports: their rings are filled before the
    // version counts as seen, so "in effect" means "receives" (an AF_XDP
    // socket with an empty fill ring drops what arrives).
    if (l->version != seen_rx_.load(std::memory_order_relaxed)) load_list(*l);
    seen_rx_.store(l->version, std::memory_order_release);
    seen_.store(g, std::memory_order_seq_cst);
    // Dekker with wait_for_publish: it announces, then reads seen_; we
    // store seen_, then read the waiters — one of us sees the other.
    if (fence_waiters_.load(std::memory_order_seq_cst) != 0) {
      fence_seq_.fetch_add(1, std::memory_order_release);
      syscall(SYS_futex, &fence_seq_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    }
    return *l;
  }
  // A list seen for the first time: its AF_XDP ports primed, its TAPs'
  // fds gathered for poll_taps (in list order, as the pass meets them).
  void load_list(const RxList& l) noexcept {
    tap_fds_.clear();
    for (SwitchPort* p : l.ports) {
      p->prime();
      if (p->kind() == SwitchPortKind::kTap) tap_fds_.push_back({p->tap()->fd(), POLLIN, 0});
    }
  }
  // TAP ports are read only when readable: every kTapCheckCycles one
  // poll() for all of them, instead of one read() per TAP (an empty read
  // is a syscall too).
  void poll_taps() noexcept {
    if (tap_fds_.empty()) return;
    if (::poll(tap_fds_.data(), tap_fds_.size(), 0) < 0)
      for (pollfd& p : tap_fds_) p.revents = POLLIN;  // cannot tell: read them all
  }
  bool tap_ready(size_t i, bool slow_pass) const noexcept {
    return slow_pass && i < tap_fds_.size() &&
           (tap_fds_[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
  }
  // Sleeps in poll() on the ports' fds and wake_fd_, unless something
  // changed since this pass's sync (then the next pass must see it first).
  // False if it could not sleep (a port has no fd to wait on).
  bool park() noexcept {
    const RxList* l = rx_.load(std::memory_order_acquire);
    std::vector<int> fds;
    for (SwitchPort* p : l->ports)
      if (!p->add_rx_fds(fds)) return false;  // a port without fds: keep polling
    std::vector<pollfd> pfds;
    for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
    pfds.push_back({wake_fd_, POLLIN, 0});
    parked_.store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(
        std::memory_order_seq_cst);  // parked, then re-read: see wait_pmds_past
    if (of_.generation() == seen_.load(std::memory_order_relaxed) &&
        rx_.load(std::memory_order_seq_cst) == l)
      ::poll(pfds.data(), pfds.size(), int((max_sleep_us_ + 999) / 1000));
    uint64_t drained;
    if (read(wake_fd_, &drained, sizeof drained) < 0) {
    }
    parked_.store(false, std::memory_order_seq_cst);
    parks_.store(parks_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    woke_ = true;
    last_stamp_ = 0;  // the sleep is neither busy nor idle polling
    return true;
  }
  void publish(std::vector<SwitchPort*> v) {
    auto next = std::make_unique<RxList>(RxList{std::move(v), list_->version + 1});
    rx_.store(next.get(), std::memory_order_release);
    retired_.push_back(std::move(list_));
    list_ = std::move(next);
  }
  void offer_to_kernel(int64_t now_ms) noexcept {
    xdp_->sweep(dp_.megaflows(), now_ms);  // limit evictions
    xdp_->offer(batch_, dp_.megaflows());
  }
  void maybe_collect() noexcept {  // under the mutex (poll_once)
    int64_t now = dp_.config().clock->now_ms();
    if (now - last_collect_ms_ < 100) return;
    last_collect_ms_ = now;
    xdp_->collect(now);
  }
  static DatapathConfig with_core(DatapathConfig c, int core) {
    c.core_id = unsigned(core < 0 ? 0 : core);
    return c;
  }

  unsigned index_;
  int core_;
  Ofproto& of_;
  std::mutex mu_;
  std::atomic<uint64_t> seen_{0};
  std::atomic<uint32_t> fence_seq_{0}, fence_waiters_{0};  // wait_for_publish's futex
  alignas(64) std::atomic<uint64_t> batch_seq_{0};         // odd while a batch is processed
  std::atomic<bool> offload_{false};                       // xdp_ set (read by between_batches)
  std::unique_ptr<Umem> umem_;  // before the ports that use it are closed: see Switch
  std::unique_ptr<RxList> list_ = std::make_unique<RxList>();  // control thread's
  std::vector<std::unique_ptr<RxList>> retired_;               // until reclaim()
  std::atomic<const RxList*> rx_{list_.get()};                 // what passes load
  std::atomic<uint64_t> seen_rx_{0};
  uint64_t added_at_ = 0;  // control thread: the last version that added an AF_XDP port
  std::atomic<bool> parked_{false};
  int wake_fd_ = -1;
  uint32_t max_sleep_us_ = 0;
  Datapath<Ofproto> dp_;
  SwitchSink sink_;
  Batch batch_;
  std::vector<pollfd> tap_fds_;  // the current list's TAPs, in list order (PMD thread)
  uint64_t busy_ = 0, idle_ = 0, empty_polls_ = 0;
  uint64_t last_tap_check_ = 0;  // TSC of the last poll_taps()
  uint64_t last_stamp_ = 0;      // TSC of the last pass's last stamp (0: none yet)
  std::atomic<uint64_t> polls_{0}, parks_{0};
  bool woke_ = false;  // the next pass follows a sleep: poll TAPs too
  bool pinned_ = false;
  std::unique_ptr<XdpOffload> xdp_;  // the XDP fast path's writer, when on
  int64_t last_collect_ms_ = 0;
};

}  // namespace flowpath
