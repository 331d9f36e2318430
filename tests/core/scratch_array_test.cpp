// ScratchArray: construct() value-initialises exactly the entries it is
// given and leaves the others as they were; data() initialises nothing.
#include "flowpath/core/scratch_array.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace flowpath {
namespace scratch_array_test {

struct Entry {  // as the datapath's: plain fields with default initialisers
  uint8_t state = 0;
  uint16_t zone = 0;
  uint32_t mark = 0;
  uint64_t label[2] = {0, 0};
};

TEST(ScratchArray, ConstructValueInitialisesOnlyItsRange) {
  ScratchArray<Entry, 6> a;
  for (size_t i = 0; i < a.size(); ++i) a[i] = Entry{uint8_t(0xa0 + i), 7, 9, {1, 2}};
  Entry* got = a.construct(2, 3);
  EXPECT_EQ(got, a.data() + 2);
  for (size_t i = 0; i < a.size(); ++i) {
    const bool cleared = i >= 2 && i < 5;
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].state, cleared ? 0 : 0xa0 + i);
    EXPECT_EQ(a[i].zone, cleared ? 0 : 7);
    EXPECT_EQ(a[i].mark, cleared ? 0u : 9u);
    EXPECT_EQ(a[i].label[1], cleared ? 0u : 2u);
  }
}

TEST(ScratchArray, StorageIsAlignedAndSized) {
  struct alignas(64) Wide {
    uint64_t w[3] = {};
  };
  ScratchArray<Wide, 5> a;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  EXPECT_GE(sizeof a, 5 * sizeof(Wide));
  EXPECT_EQ(&a[4], a.data() + 4);
}

}  // namespace scratch_array_test
}  // namespace flowpath
