// Ports for replay and benchmarks: a MemoryPort feeds frames from memory,
// a PcapPort writes what it transmits into a pcap file, and both count.
// Exit 0 on success.
#include <cstdio>
#include <flowpath/io/memory_port.hpp>
#include <flowpath/io/pcap_port.hpp>
#include <flowpath/io/pcap_reader.hpp>
#include <vector>

int main() {
  using namespace flowpath;
  MemoryPort wire({.port_no = 1});
  std::vector<uint8_t> frame(64, 0);
  frame[12] = 0x08;  // an (empty) IPv4 frame is enough to count
  for (uint64_t i = 0; i < 40; ++i) wire.inject(frame, /*timestamp_ns=*/i * 1000);

  const char* out_path = "pcap_ports_out.pcap";
  {
    PcapPort out({.port_no = 2, .out_path = out_path});
    Batch batch;
    while (wire.rx_burst(batch)) {  // 32, then 8
      out.tx_burst(batch);          // a real switch would process here
      batch.clear();
    }
    out.close();
    std::printf("memory port rx=%llu, pcap port tx=%llu\n", (unsigned long long)wire.counters().rx,
                (unsigned long long)out.counters().tx);
    if (wire.counters().rx != 40 || out.counters().tx != 40) return 1;
  }
  PcapPort back({.port_no = 3, .in_path = out_path});
  Batch batch;
  uint32_t n = back.rx_burst(batch);
  std::remove(out_path);
  return n == 32 && batch[31].timestamp_ns == 31000 && batch[0].in_port == 3 ? 0 : 2;
}
