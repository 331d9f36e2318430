// flowpath/switch/link_resets.hpp — Interface link_resets as ovs-vswitchd
// counts them: the carrier changes of a device since the switch opened it
// (netdev-linux: +1 for each rtnetlink link message whose IFF_RUNNING
// differs from the one before).
//
//   LinkResets lr;                         // subscribes to the kernel's link messages
//   lr.start("vm1", ifindex, running, /*fresh=*/true);   // the port was opened
//   lr.read();                             // later, off the path of a change
//   int64_t n = lr.observe("vm1", ifindex, running);     // the count now
//
// The messages queue on a netlink socket subscribed to RTNLGRP_LINK
// (LinkWatch); read() takes them.  A count started `fresh` (by a change,
// which makes no system call for it) takes the messages of that first
// read as its state without counting: they may be from before the open (a
// TAP the open created, say).  observe() compares a state read with the
// last message seen and counts a difference: messages the kernel dropped
// (ENOBUFS) and a change not yet read, never one change twice.
// Cost: read() is one recv per queued message; start/observe a map
// lookup.  Thread-safety: one thread (the switch's control thread).
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "flowpath/switch/netlink_msg.hpp"

namespace flowpath {

/// Carrier changes of the namespace's devices, as ovs-vswitchd counts
/// Interface link_resets (netdev-linux: +1 for each rtnetlink link message
/// whose IFF_RUNNING differs from the one before it).  A netlink socket
/// subscribed to RTNLGRP_LINK, opened once; the kernel queues the
/// messages, drain() reads them (non-blocking) and calls
/// f(ifindex, name, running, deleted) for each RTM_NEWLINK (deleted =
/// false) and RTM_DELLINK (running = false, deleted = true).  Returns false when the kernel
/// dropped messages (ENOBUFS): the caller then compares states instead.
/// The control thread only.
class LinkWatch {
 public:
  LinkWatch() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd_ < 0) return;
    // A second of link messages while many ports come and go (each XDP
    // attach sends some): 1 MiB where allowed, else the system's default.
    int rcvbuf = 1 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_nl a{};
    a.nl_family = AF_NETLINK;
    a.nl_groups = RTMGRP_LINK;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~LinkWatch() {
    if (fd_ >= 0) close(fd_);
  }
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;
  bool ok() const noexcept { return fd_ >= 0; }

  template <class F>
  bool drain(F&& f) {
    if (fd_ < 0) return false;
    bool complete = true;
    alignas(nlmsghdr) static char buf[64 * 1024];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == ENOBUFS) {
        complete = false;
        continue;
      }
      if (n <= 0) return complete;  // EAGAIN: drained
      int left = int(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); nlmsg_fits(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
        const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
        std::string name;
        int len = int(h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
        for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
          if (a->rta_type == IFLA_IFNAME) {
            const char* d = static_cast<const char*>(RTA_DATA(a));
            name.assign(d, strnlen(d, RTA_PAYLOAD(a)));
          }
        bool deleted = h->nlmsg_type == RTM_DELLINK;
        f(int64_t(ifi->ifi_index), name, !deleted && (ifi->ifi_flags & IFF_RUNNING), deleted);
      }
    }
  }

 private:
  int fd_ = -1;
};

class LinkResets {
 public:
  /// The count of `dev` starts at 0 (the port was opened, or first seen).
  void start(const std::string& dev, int64_t ifindex, bool running, bool fresh) {
    counts_[dev] = {ifindex, 0, running, fresh};
    any_fresh_ = any_fresh_ || fresh;
  }
  bool known(const std::string& dev, int64_t ifindex) const {
    auto it = counts_.find(dev);
    return it != counts_.end() && it->second.ifindex == ifindex;
  }
  /// The count, after comparing the state just read with the last seen.
  int64_t observe(const std::string& dev, int64_t ifindex, bool running) {
    if (!known(dev, ifindex)) start(dev, ifindex, running, false);
    Count& c = counts_[dev];
    if (c.running != running) {
      ++c.resets;
      c.running = running;
    }
    return c.resets;
  }
  /// Takes the queued link messages.
  void read() {
    watch_.drain([&](int64_t ifindex, const std::string& name, bool running, bool deleted) {
      auto it = counts_.find(name);
      if (it == counts_.end() || it->second.ifindex != ifindex) return;
      if (deleted) {
        counts_.erase(it);
      } else if (it->second.running != running) {
        if (!it->second.fresh) ++it->second.resets;
        it->second.running = running;
      }
    });
    if (any_fresh_)
      for (auto& [dev, c] : counts_) c.fresh = false;
    any_fresh_ = false;
  }

 private:
  struct Count {
    int64_t ifindex = 0, resets = 0;
    bool running = false, fresh = false;
  };
  std::map<std::string, Count> counts_;  // device -> since opened
  LinkWatch watch_;
  bool any_fresh_ = false;
};

}  // namespace flowpath
