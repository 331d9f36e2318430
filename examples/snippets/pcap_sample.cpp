// flowpath-snippet: own-binary (tests/io/flows_cli_test.sh runs it as a program)
// Writes a small sample capture with flowpath::PcapWriter, then reads it
// back with flowpath::PcapReader.  scripts/demo.sh uses it to make the pcap
// that `flowpath flows` prints.  Usage: snippet_pcap_sample [FILE.pcap]
// (default sample.pcap in the current directory).  Exit 0 on success.
#include <cstdio>
#include <flowpath/io/pcap_reader.hpp>
#include <flowpath/io/pcap_writer.hpp>
#include <initializer_list>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes be16(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v)}; }

const Bytes kVm1 = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const Bytes kVm2 = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// IPv4 header (no options, checksum filled in) for `payload` bytes of proto.
Bytes ipv4(uint8_t proto, Bytes src, Bytes dst, size_t payload) {
  Bytes h =
      cat({{0x45, 0x00}, be16(uint16_t(20 + payload)), {0, 0, 0x40, 0, 64, proto, 0, 0}, src, dst});
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += uint32_t(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  h[10] = uint8_t(~sum >> 8), h[11] = uint8_t(~sum);
  return h;
}

std::vector<Bytes> sample_frames() {
  Bytes udp = cat({be16(1234), be16(5001), be16(8 + 4), {0, 0}, {'f', 'l', 'o', 'w'}});
  Bytes icmp = {8, 0, 0xf7, 0xff, 0, 0, 0, 0};  // echo request
  Bytes tcp =
      cat({be16(40000), be16(443), {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff}, {0, 0, 0, 0}});
  Bytes v6src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  Bytes v6dst = v6src;
  v6dst[15] = 2;
  Bytes ipv6 = cat({{0x60, 0x00, 0x00, 0x00}, be16(uint16_t(tcp.size())), {6, 64}, v6src, v6dst});
  Bytes arp =
      cat({{0, 1, 8, 0, 6, 4, 0, 1}, kVm1, {192, 0, 2, 1}, {0, 0, 0, 0, 0, 0}, {192, 0, 2, 2}});
  return {
      // vm1 -> remote, UDP, tagged with provider VLAN 1000
      cat({kVm2, kVm1, be16(0x8100), be16(1000), be16(0x0800),
           ipv4(17, {192, 0, 2, 1}, {198, 51, 100, 2}, udp.size()), udp}),
      cat({kBcast, kVm1, be16(0x0806), arp}),      // ARP who-has 192.0.2.2
      cat({kVm2, kVm1, be16(0x86dd), ipv6, tcp}),  // IPv6 TCP SYN to 443
      cat({kVm2, kVm1, be16(0x0800), ipv4(1, {192, 0, 2, 1}, {203, 0, 113, 5}, icmp.size()), icmp}),
      // malformed: the IPv4 header is cut after 10 bytes
      cat({kVm2, kVm1, be16(0x0800), {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 17}}),
  };
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "sample.pcap";
  std::vector<Bytes> frames = sample_frames();
  try {
    flowpath::PcapWriter out(path);  // nanosecond timestamps
    uint64_t ts = 1'700'000'000'000'000'000ull;
    for (const Bytes& f : frames) out.write(f, ts += 1'000'000);
    out.close();

    flowpath::PcapReader in(path, /*in_port=*/0);
    flowpath::PacketBuffer buf;
    size_t n = 0;
    while (in.next(buf)) {
      const flowpath::Packet& p = buf.packet();
      if (n >= frames.size() ||
          !std::equal(p.bytes().begin(), p.bytes().end(), frames[n].begin(), frames[n].end()))
        return 1;
      ++n;
    }
    if (n != frames.size() || !in.error().empty()) return 2;
    std::printf("wrote %zu frames to %s\n", n, path);
  } catch (const flowpath::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  }
  return 0;
}
