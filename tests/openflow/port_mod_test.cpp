// OFPT_PORT_MOD (docs/openflow.md, "Port-mod"): the codec in 1.0, 1.3 and
// 1.4 (round trips, wire sizes, the version's config bits as OVS's
// ofputil_decode_port_mod masks them, bad lengths, ovs-ofctl's ofp-print
// of our encodings), and a connection to an OfprotoBackend with memory
// ports: BAD_PORT and BAD_HW_ADDR as OVS sends them, config bits kept
// and shown in port-desc / features.
// FP_PORT_MOD_SEED_DIR=DIR writes the encoded messages there as fuzz
// seeds (tests/fuzz/corpus/openflow_decode_fuzz/port_mod_*).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "flowpath/openflow/connection.hpp"
#include "flowpath/switch/openflow_backend.hpp"
#include "support/shell.hpp"

namespace port_mod_test {

namespace of = flowpath::openflow;

std::string hexstr(const std::vector<uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) s += d[x >> 4], s += d[x & 15];
  return s;
}

of::PortMod sample(uint32_t port, uint32_t config, uint32_t mask) {
  of::PortMod m;
  m.port_no = port;
  m.hw_addr = flowpath::EthAddr{{0x02, 0, 0, 0, 0, 7}};
  m.config = config, m.mask = mask, m.advertise = 0x20;  // 1GB-FD
  return m;
}

TEST(OpenflowPortMod, RoundTripsInEveryVersion) {
  const char* seeds = std::getenv("FP_PORT_MOD_SEED_DIR");
  const uint32_t down = of::kPortConfigDown, fwd = of::kPortConfigNoFwd,
                 pin = of::kPortConfigNoPacketIn, flood = of::kPortConfigNoFlood;
  int n = 0;
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14}) {
    const size_t size = v == of::kOfp10 ? 32 : 40;  // 1.4: 32 + the ethernet property
    for (of::PortMod m : {sample(2, down | fwd, down | fwd | pin), sample(0xfffe, 0, down),
                          sample(0xff00, pin, pin)}) {
      if (v == of::kOfp10) m.config |= flood, m.mask |= flood;  // 1.0's own bit
      auto bytes = of::encode(of::Message{v, 9, m});
      EXPECT_EQ(bytes.size(), size) << int(v);
      EXPECT_EQ(bytes[1], v == of::kOfp10 ? 15 : 16);
      auto r = of::decode_or_error(bytes);
      ASSERT_FALSE(r.error) << r.what;
      EXPECT_EQ(r.message, (of::Message{v, 9, m})) << int(v);
      if (seeds)
        std::ofstream(std::string(seeds) + "/port_mod_" + std::to_string(n), std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
      ++n;
    }
  }
}

TEST(OpenflowPortMod, DecodeKeepsTheVersionsBitsAsOvs) {
  // config bits outside the mask go (OVS: pm->config &= pm->mask); 1.3 and
  // 1.4 have no NO_FLOOD (OFPPC11_ALL), 1.0 has it
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14}) {
    of::Message m{v, 1, sample(3, 0xffffffff, 0xffffffff)};
    std::vector<uint8_t> b = of::encode(m);
    const size_t at = v == of::kOfp10 ? 8 + 8 : 8 + 16;  // config, then mask
    for (size_t i = 0; i < 8; ++i) b[at + i] = 0xff;
    b[at + 7] = 0x5f;  // mask: all but NO_FWD (0x20) and 0x80
    auto r = of::decode_or_error(b);
    ASSERT_FALSE(r.error) << r.what;
    const auto& pm = std::get<of::PortMod>(r.message.body);
    const uint32_t all = v == of::kOfp10 ? 0x7f : 0x65;
    EXPECT_EQ(pm.mask, 0xffffff5fu & all) << int(v);
    EXPECT_EQ(pm.config, pm.mask) << int(v);
    EXPECT_EQ(bool(pm.mask & of::kPortConfigNoFlood), v == of::kOfp10);
  }
}

TEST(OpenflowPortMod, BadLengthsAndPortsAreRefused) {
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14}) {
    std::vector<uint8_t> b = of::encode(of::Message{v, 1, sample(2, 1, 1)});
    std::vector<uint8_t> shorter(b.begin(), b.end() - 4);
    shorter[2] = 0, shorter[3] = uint8_t(shorter.size());
    auto r = of::decode_or_error(shorter);
    EXPECT_TRUE(r.error) << int(v);
    if (v == of::kOfp14) {  // a property longer than what is left
      std::vector<uint8_t> bad = b;
      bad[8 + 24 + 3] = 16;
      EXPECT_TRUE(of::decode_or_error(bad).error);
    }
  }
  // 1.3: a port number between 0xff00 and 0xfffffff8 has no 1.0 form
  std::vector<uint8_t> b = of::encode(of::Message{of::kOfp13, 1, sample(2, 1, 1)});
  b[8] = 0x00, b[9] = 0x01, b[10] = 0x00, b[11] = 0x00;
  EXPECT_TRUE(of::decode_or_error(b).error);
}

TEST(OpenflowPortMod, OvsOfctlPrintsOurEncodings) {
  if (!flowpath::test::shell("ovs-ofctl --version").ok()) GTEST_SKIP() << "no ovs-ofctl";
  of::PortMod m = sample(2, of::kPortConfigNoFwd, of::kPortConfigNoFwd | of::kPortConfigDown);
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14}) {
    std::string out =
        flowpath::test::shell_output("ovs-ofctl ofp-print " + hexstr(of::encode({v, 5, m})));
    EXPECT_NE(out.find("OFPT_PORT_MOD"), std::string::npos) << out;
    EXPECT_NE(out.find("port: 2: addr:02:00:00:00:00:07"), std::string::npos) << out;
    EXPECT_NE(out.find("config: NO_FWD"), std::string::npos) << out;
    EXPECT_NE(out.find("mask:   PORT_DOWN NO_FWD"), std::string::npos) << out;
    EXPECT_NE(out.find("advertise: 1GB-FD"), std::string::npos) << out;
  }
}

TEST(OpenflowPortMod, OvsOfctlNamesOurErrors) {
  if (!flowpath::test::shell("ovs-ofctl --version").ok()) GTEST_SKIP() << "no ovs-ofctl";
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14})
    for (auto [e, name] : {std::pair{of::OfpErrc::kPortModBadPort, "OFPPMFC_BAD_PORT"},
                           std::pair{of::OfpErrc::kPortModBadHwAddr, "OFPPMFC_BAD_HW_ADDR"}}) {
      auto request = of::encode(of::Message{v, 0x66, sample(2, 1, 1)});
      std::string out = flowpath::test::shell_output("ovs-ofctl ofp-print " +
                                                     hexstr(of::make_error_reply(e, request)));
      EXPECT_NE(out.find(std::string("(xid=0x66): ") + name), std::string::npos)
          << int(v) << " " << out;
    }
}

/// A connection in `version` to bridge br0 with memory ports p1 (1), p2 (2).
struct Conn {
  flowpath::ManualClock clock;
  flowpath::Ofproto ofp{
      flowpath::SwitchConfig::parse("add-br br0\nadd-port br0 p1 type=memory ofport=1\n"
                                    "add-port br0 p2 type=memory ofport=2\n"),
      options(&clock)};
  flowpath::OfprotoBackend be{ofp, "br0"};
  of::Connection c{be, {}, 0};
  uint8_t v;
  explicit Conn(uint8_t version) : v(version) {
    c.take_output();
    c.receive(of::encode(of::Message{v, 1, of::Hello{1u << v}}), 0);
  }
  static flowpath::Ofproto::Options options(const flowpath::Clock* c) {
    flowpath::Ofproto::Options o;
    o.clock = c;
    return o;
  }
  std::vector<of::Message> send(of::MessageBody b, uint32_t xid) {
    c.receive(of::encode(of::Message{v, xid, std::move(b)}), 1);
    of::Framer fr;
    fr.feed(c.take_output());
    std::vector<of::Message> out;
    while (auto f = fr.next()) out.push_back(of::decode(f->bytes));
    return out;
  }
  of::PortDesc port(uint32_t no) {
    for (const auto& d : be.port_descs())
      if (d.port_no == no) return d;
    return {};
  }
};

TEST(OpenflowPortMod, ErrorsAsOvsAndConfigKept) {
  for (uint8_t v : {of::kOfp10, of::kOfp13, of::kOfp14}) {
    SCOPED_TRACE(int(v));
    Conn k(v);
    ASSERT_EQ(k.c.version(), v);
    of::PortDesc p2 = k.port(2);
    ASSERT_EQ(p2.port_no, 2u);
    EXPECT_EQ(p2.config, 0u);
    const uint16_t type = v == of::kOfp10 ? 4 : 7;  // OFPET_PORT_MOD_FAILED
    of::PortMod m;
    m.port_no = 9;  // no such port
    m.hw_addr = p2.hw_addr;
    m.config = m.mask = of::kPortConfigNoFwd;
    auto bad_port = k.send(m, 2);
    ASSERT_EQ(bad_port.size(), 1u);
    auto e = std::get<of::ErrorMsg>(bad_port[0].body);
    EXPECT_EQ(e.type, type);
    EXPECT_EQ(e.code, 0);  // BAD_PORT
    m.port_no = 2;
    m.hw_addr.b[5] ^= 1;
    auto bad_addr = k.send(m, 3);
    ASSERT_EQ(bad_addr.size(), 1u);
    e = std::get<of::ErrorMsg>(bad_addr[0].body);
    EXPECT_EQ(e.type, type);
    EXPECT_EQ(e.code, 1);             // BAD_HW_ADDR
    EXPECT_EQ(k.port(2).config, 0u);  // nothing changed
    m.hw_addr = p2.hw_addr;
    m.config = of::kPortConfigNoFwd | of::kPortConfigDown;
    m.mask = of::kPortConfigNoFwd | of::kPortConfigDown | of::kPortConfigNoPacketIn;
    if (v == of::kOfp10) m.config |= of::kPortConfigNoFlood, m.mask |= of::kPortConfigNoFlood;
    EXPECT_TRUE(k.send(m, 4).empty());
    uint32_t want = of::kPortConfigNoFwd | of::kPortConfigDown;
    if (v == of::kOfp10) want |= of::kPortConfigNoFlood;
    EXPECT_EQ(k.port(2).config, want);
    EXPECT_EQ(k.port(1).config, 0u);
    // what a controller reads back, in its version (1.3+ has no NO_FLOOD)
    of::StatsRequest rq;
    rq.type = of::StatsType::kPortDesc;
    auto descs = k.send(rq, 5);
    ASSERT_FALSE(descs.empty());
    const auto& rep = std::get<of::StatsReply>(descs[0].body);
    ASSERT_EQ(rep.port_descs.size(), 3u);  // p1, p2, LOCAL
    EXPECT_EQ(rep.port_descs[1].config, want & of::port_config_mask(v));
    // a mask of 0 changes nothing; clearing one bit keeps the others
    m.mask = of::kPortConfigDown, m.config = 0;
    EXPECT_TRUE(k.send(m, 6).empty());
    EXPECT_EQ(k.port(2).config, want & ~of::kPortConfigDown);
  }
}

}  // namespace port_mod_test
