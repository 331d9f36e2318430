// tests/openflow/backend_fixture.hpp — one bridge "br0" behind an
// OfprotoBackend, with a manual clock: the in-process setup of the tests
// that drive the OpenFlow backend without a socket (dumps, flow-mods).
#pragma once

#include "flowpath/switch/openflow_backend.hpp"

namespace flowpath::test {

struct BackendFixture {
  ManualClock clock;
  Ofproto ofp;
  OfprotoBackend be;
  BackendFixture() : ofp(config(), options(&clock)), be(ofp, "br0") {}
  static SwitchConfig config() {
    SwitchConfig cfg;
    cfg.bridges.push_back(BridgeConfig{"br0", {}, {}, {}, ""});
    return cfg;
  }
  static Ofproto::Options options(const Clock* c) {
    Ofproto::Options o;
    o.clock = c;
    return o;
  }
};

}  // namespace flowpath::test
