// flowpath/switch/netlink_msg.hpp — walking the messages of one netlink
// read without the sign mix of <linux/netlink.h>'s NLMSG_OK.
//
//   int left = int(n);
//   for (auto* h = (nlmsghdr*)buf; nlmsg_fits(h, left); h = NLMSG_NEXT(h, left))
//
// NLMSG_OK compares the header's __u32 length with the int bytes left, which
// clang reports (-Wsign-compare) in every file that expands it.  Same test,
// the conversions written out; `left` stays an int, so NLMSG_NEXT's
// subtraction of an aligned length past the end makes it negative and the
// walk stops (an unsigned count would wrap and read on).
#pragma once

#include <linux/netlink.h>

namespace flowpath {

/// True when a whole message header, and the message it announces, lie
/// within the `left` bytes at h.
inline bool nlmsg_fits(const nlmsghdr* h, int left) noexcept {
  return left >= int(sizeof(nlmsghdr)) && h->nlmsg_len >= sizeof(nlmsghdr) &&
         h->nlmsg_len <= unsigned(left);
}

}  // namespace flowpath
