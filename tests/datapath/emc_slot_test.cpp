// The EMC's two-line slot (classify/emc.hpp, session 17): 14 key words in
// the slot, words 10-11 (nd_target) of an ND key in a side array and the
// slot marked.  Checked against a 20-line reference EMC that stores whole
// keys (the layout before), with the same slot choice and victim rule, over
// random inserts, lookups and megaflow removals of keys that collide on
// their hash and differ in the words the layout treats apart (10, 11, 15)
// and the others.  (It lives here, beside the datapath tests that use the
// EMC, because tests/classify/ is another helper's area this session.)
#include <gtest/gtest.h>

#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "flowpath/classify/emc.hpp"
#include "flowpath/classify/megaflow_cache.hpp"

namespace flowpath {
namespace emc_slot_test {

// The reference: whole keys, two candidates (Emc's slot choice), the same
// victim rule; answers what Emc::lookup must.
class WholeKeyEmc {
 public:
  explicit WholeKeyEmc(uint32_t entries) : mask_(entries - 1), slots_(entries) {}
  MegaflowEntry* lookup(const FlowKey& k, uint32_t h) const {
    for (uint32_t i : {h & mask_, second(h)}) {
      const Slot& s = slots_[i];
      if (s.hash == h && s.flow && s.flow->alive(s.serial) && s.key == k) return s.flow;
    }
    return nullptr;
  }
  void insert(const FlowKey& k, uint32_t h, MegaflowEntry* f) {
    Slot *a = &slots_[h & mask_], *b = &slots_[second(h)], *v = b;
    if (a->hash == h && a->key == k)
      v = a;
    else if (b->hash == h && b->key == k)
      v = b;
    else if (!(a->flow && a->flow->alive(a->serial)))
      v = a;
    else if (!(b->flow && b->flow->alive(b->serial)))
      v = b;
    *v = Slot{k, h, f->serial, f};
  }

 private:
  struct Slot {
    FlowKey key;
    uint32_t hash = 0, serial = 0;
    MegaflowEntry* flow = nullptr;
  };
  uint32_t second(uint32_t h) const { return (h >> 13 ^ h >> 26) & mask_; }
  uint32_t mask_;
  std::vector<Slot> slots_;
};

FlowKey key_of(uint32_t v) {
  FlowKey k;
  k.in_port = 1 + (v & 1);
  k.nw_src = Be32(0xc0000200u | ((v >> 1) & 3));
  k.tp_dst = Be16(uint16_t(80 + ((v >> 3) & 1)));
  if ((v >> 4) & 1) k.nd_target.b[0] = 0xfe;  // word 10
  if ((v >> 5) & 1) k.nd_target.b[15] = 1;    // word 11
  if ((v >> 6) & 1) k.ct_state = 0x21;        // word 15
  if ((v >> 7) & 1) k.ct_mark = Be32(7);      // word 15
  if ((v >> 8) & 1) k.arp_sha.b[0] = 2;       // word 12
  return k;
}

TEST(EmcSlot, AnNdKeyHitsOnlyItselfAndAKeyWithoutNdWordsNeverHitsIt) {
  MegaflowCache<simd::Scalar> mf;
  FlowMask m;
  m.in_port = ~0u;
  Emc emc(EmcConfig{.insert_inv_prob = 1});
  FlowKey plain = key_of(0), nd = key_of(1u << 4), nd2 = key_of(1u << 5 | 1u << 4);
  FlowKey plain_port2 = key_of(1);
  MegaflowEntry* f1 = mf.install(plain, m, {DpAction::output(1)}, {});
  MegaflowEntry* f2 = mf.install(plain_port2, m, {DpAction::output(2)}, {});
  const uint32_t h = 0x1234;  // one hash: both candidates shared
  emc.insert(nd, h, f1);
  EXPECT_EQ(emc.lookup(nd, h), f1);
  EXPECT_EQ(emc.lookup(plain, h), nullptr) << "words 10-11 of the stored key ignored";
  EXPECT_EQ(emc.lookup(nd2, h), nullptr) << "word 11 of the ND key not compared";
  emc.insert(plain, h, f2);
  EXPECT_EQ(emc.lookup(plain, h), f2);
  EXPECT_EQ(emc.lookup(nd, h), f1);
  EXPECT_EQ(emc.size(), 2u);
}

TEST(EmcSlot, AgreesWithAWholeKeyEmcUnderRandomInsertsLookupsAndRemovals) {
  MegaflowCache<simd::Scalar> mf;
  std::vector<MegaflowEntry*> flows;
  for (uint32_t v = 0; v < 512; ++v) {
    FlowMask m;
    m.in_port = ~0u;
    m.nw_src = Be32(~0u);
    m.tp_dst = Be16(0xffff);
    FlowKey k;
    k.in_port = v;  // 512 distinct megaflows
    flows.push_back(mf.install(k, m, {DpAction::output(1)}, {}));
  }
  Emc emc(EmcConfig{.entries = 8, .insert_inv_prob = 1});
  WholeKeyEmc ref(8);
  std::mt19937 rng(17);
  uint64_t hits = 0, nd_hits = 0;
  std::vector<std::pair<uint32_t, uint32_t>> recent(16);  // (key, hash) inserted lately
  for (int step = 0; step < 200'000; ++step) {
    uint32_t v = rng() & 511;
    // 16 hashes: keys that differ share hashes (and slots) often.
    uint32_t h = (rng() & 15) * 0x9e3779b1u;
    if (rng() & 1) std::tie(v, h) = recent[rng() % recent.size()];  // likely a hit
    const FlowKey k = key_of(v);
    switch (rng() % 8) {
      case 0:
      case 1: {
        MegaflowEntry* f = flows[rng() % flows.size()];
        if (f->dead) break;
        emc.insert(k, h, f);
        ref.insert(k, h, f);
        recent[uint32_t(step) % recent.size()] = {v, h};
        break;
      }
      case 2:
        if (rng() % 512 == 0) {  // a removal kills its EMC entries
          const size_t i = rng() % flows.size();
          if (!flows[i]->dead) mf.remove(flows[i]);
        }
        break;
      default: {
        MegaflowEntry* got = emc.lookup(k, h);
        ASSERT_EQ(got, ref.lookup(k, h)) << "step " << step << " key " << v << " hash " << h;
        hits += got != nullptr;
        nd_hits += got && ((v >> 4) & 3);
      }
    }
  }
  EXPECT_GT(hits, 10'000u);
  EXPECT_GT(nd_hits, 1'000u);
}

}  // namespace emc_slot_test
}  // namespace flowpath
