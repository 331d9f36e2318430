// Snippet: hash flow keys under a megaflow mask and find them in a bucket
// with the simd/ layer (Default backend = Highway, static dispatch).
#include <cstdio>
#include <flowpath/simd/backend_name.hpp>
#include <flowpath/simd/compare.hpp>
#include <flowpath/simd/hash.hpp>
#include <vector>

int main() {
  using namespace flowpath;
  namespace simd = flowpath::simd;

  FlowKey key;
  key.in_port = 3;
  key.dl_type = Be16(kEthTypeIpv4);
  key.nw_dst = Be32(0xc0000205);  // 192.0.2.5
  FlowMask mask;                  // the megaflow consults in_port and nw_dst
  mask.in_port = ~0u;
  mask.nw_dst = Be32(0xffffffff);

  // The same bits from every backend.
  const uint32_t h = simd::hash_masked(key, mask);
  if (h != simd::hash_masked<simd::Scalar>(key, mask) ||
      h != simd::hash_masked<simd::Xsimd>(key, mask))
    return 1;

  // Compact form, as a megaflow subtable stores it: only the touched words.
  uint64_t words[FlowKey::kWords];
  const size_t n = simd::gather_masked_words(key, mask, mask_word_map(mask), words);
  if (n != 2) return 2;
  const uint32_t hc = simd::hash_words<simd::Default, 2>(words, 0);
  if (hc != simd::hash_words(words, n, 0)) return 3;

  // A bucket of three stored 2-word entries; the probe matches the third.
  std::vector<uint64_t> bucket = {1, 2, 3, 4, words[0], words[1]};
  if (simd::find_words<simd::Default, 2>(words, bucket.data(), 3) != 2) return 4;

  // Which stored masked values does a key match?
  std::vector<FlowKey> values = {masked(FlowKey{}, mask), masked(key, mask)};
  if (simd::find_masked(key, mask, values) != 1) return 5;

  std::printf("hash %08x compact %08x on %s\n", h, hc, simd::backend_name<simd::Default>().c_str());
  return 0;
}
