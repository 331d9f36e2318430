// nlmsg_fits (switch/netlink_msg.hpp): the walk over one netlink read
// visits whole messages only, and stops at a truncated or short one.
#include "flowpath/switch/netlink_msg.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace flowpath {
namespace netlink_msg_test {

// Messages of the given total lengths (header included) laid out as the
// kernel does, each at a 4-byte boundary; `cut` bytes taken off the end.
std::vector<int> walk(const std::vector<uint32_t>& lens, int cut, int lie_last = 0) {
  alignas(nlmsghdr) static char buf[512];
  std::memset(buf, 0, sizeof buf);
  int off = 0;
  for (size_t i = 0; i < lens.size(); ++i) {
    nlmsghdr h{};
    h.nlmsg_len = lens[i] + (i + 1 == lens.size() ? uint32_t(lie_last) : 0);
    h.nlmsg_seq = uint32_t(i);
    std::memcpy(buf + off, &h, sizeof h);
    off += int(NLMSG_ALIGN(lens[i]));
  }
  int left = off - cut;
  std::vector<int> seen;
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf); nlmsg_fits(h, left); h = NLMSG_NEXT(h, left))
    seen.push_back(int(h->nlmsg_seq));
  return seen;
}

TEST(NlmsgFits, VisitsWholeMessagesAndStopsAtATruncatedOne) {
  EXPECT_EQ(walk({32, 20, 48}, 0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(walk({32, 20, 48}, 1), (std::vector<int>{0, 1}));   // the last one cut
  EXPECT_EQ(walk({32, 20, 48}, 40), (std::vector<int>{0, 1}));  // only its header left
  EXPECT_EQ(walk({32, 18}, 0), (std::vector<int>{0, 1}));       // unaligned last length
  EXPECT_EQ(walk({32, 20}, 0, 100), (std::vector<int>{0}));     // announces more than there is
  EXPECT_EQ(walk({32, 8}, 0), (std::vector<int>{0}));           // shorter than a header
  EXPECT_TRUE(walk({}, 0).empty());
}

}  // namespace netlink_msg_test
}  // namespace flowpath
