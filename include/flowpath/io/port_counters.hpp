// flowpath/io/port_counters.hpp — the counters every flowpath port keeps.
//
// rx/tx count packets handed to and taken from the datapath; drops counts
// packets a port had to refuse (no output file, a full queue, a failed
// allocation).  Every packet given to tx() is either tx or a drop.
//
// Thread-safety: plain values, owned by the port's thread.
#pragma once

#include <cstdint>

namespace flowpath {

struct PortCounters {
  uint64_t rx = 0;
  uint64_t tx = 0;
  uint64_t drops = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
};

}  // namespace flowpath
