// libFuzzer over the OpenFlow codec: arbitrary bytes go through the framer
// and decode_or_error(); whatever decodes is re-encoded and decoded again,
// which must succeed (an encodable message) or throw flowpath::Error (a
// value the encoder refuses, e.g. a 1.0 match that ofp_match cannot hold).
// A bundle add's inner message is decoded too.
// Crashes, sanitizer reports and over-reads are the failures.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "flowpath/openflow/framing.hpp"

namespace of = flowpath::openflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  of::Framer framer(4096);
  framer.feed(std::span(data, size));
  while (auto frame = framer.next()) {
    if (frame->error) break;
    auto r = of::decode_or_error(frame->bytes);
    if (r.error) {
      of::decode(*r.error);  // our own error reply must decode
      continue;
    }
    // a bundle add's inner message goes through the decoder as the
    // connection sends it (openflow/connection.hpp, bundle_add)
    if (auto* ba = std::get_if<of::BundleAdd>(&r.message.body)) {
      auto inner = of::decode_or_error(ba->message);
      if (inner.error) of::decode(*inner.error);
    }
    try {
      auto again = of::decode_or_error(of::encode(r.message));
      if (again.error) std::abort();
    } catch (const flowpath::Error&) {
    }
  }
  return 0;
}
