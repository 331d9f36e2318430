// flowpath/bridge/replay.hpp — the whole switch over pcap files, no root.
//
// Every non-patch port of the configuration becomes pcap-backed: packets
// from the input files (`--in PORT=FILE`) are injected in timestamp order,
// in batches of up to 32, through a real Datapath (parse, EMC, megaflow
// cache, upcalls into the bridges' translation); whatever leaves port P is
// written to DIR/P.pcap (LOCAL ports: DIR/BRIDGE.pcap).  Every non-patch
// port gets its file, empty if nothing left through it.
//
// Accounting: per port rx (injected), tx (written) and drops (packets that
// entered there and were dropped by the flows or by a VLAN rule); every
// injected packet is either written somewhere or counted as a drop.
//
// Cost: one pcap write per output.  Thread-safety: single-threaded.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "flowpath/io/pcap_reader.hpp"
#include "flowpath/io/pcap_writer.hpp"

namespace flowpath {

struct ReplayPortCounters {
  uint64_t rx = 0, tx = 0, drops = 0;
};

class Replay {
 public:
  struct Input {
    std::string port;
    std::string file;
  };

  Replay(Ofproto& of, const std::vector<Input>& inputs, const std::string& out_dir,
         DatapathConfig dp_cfg = {})
      : of_(of), dp_(of, dp_cfg), counters_(of.dp_ports().size() + 1) {
    std::filesystem::create_directories(out_dir);
    for (BridgePort* p : of.dp_ports())
      writers_.push_back(std::make_unique<PcapWriter>(out_dir + "/" + p->name() + ".pcap"));
    for (const auto& in : inputs) {
      BridgePort* p = of.find_port(in.port);
      if (!p) throw Error("--in " + in.port + "=" + in.file + ": no port named " + in.port);
      if (p->is_patch())
        throw Error("--in " + in.port + "=" + in.file + ": " + in.port + " is a patch port");
      readers_.push_back(std::make_unique<PcapReader>(in.file, p->dp_port));
    }
  }

  /// Injects every input packet; returns the number injected.  Input
  /// files damaged part-way are reported in errors() after their intact
  /// records were delivered.
  uint64_t run() {
    std::vector<PacketBuffer> bufs(kBatchSize);
    std::vector<std::unique_ptr<PacketBuffer>> ahead;
    std::vector<bool> live;
    for (auto& r : readers_) {
      ahead.push_back(std::make_unique<PacketBuffer>());
      live.push_back(r->next(*ahead.back()));
    }
    uint64_t total = 0;
    Sink sink{*this};
    for (;;) {
      Batch batch;
      while (!batch.full()) {
        size_t best = readers_.size();
        for (size_t i = 0; i < readers_.size(); ++i)
          if (live[i] && (best == readers_.size() ||
                          ahead[i]->packet().timestamp_ns < ahead[best]->packet().timestamp_ns))
            best = i;
        if (best == readers_.size()) break;
        PacketBuffer& b = bufs[batch.count];
        b = *ahead[best];
        counters_[b.packet().in_port].rx++;
        batch.push(&b.packet());
        live[best] = readers_[best]->next(*ahead[best]);
      }
      if (batch.empty()) break;
      total += batch.count;
      of_.run_periodic();
      dp_.process(batch, sink);
    }
    for (auto& r : readers_)
      if (!r->error().empty()) errors_.push_back(r->error());
    for (auto& w : writers_) w->flush();
    return total;
  }

  const ReplayPortCounters& counters(uint32_t dp_port) const { return counters_.at(dp_port); }
  const std::vector<std::string>& errors() const noexcept { return errors_; }
  Datapath<Ofproto>& datapath() noexcept { return dp_; }

  /// "PORT: rx=N tx=N drop=N" per non-patch port, in datapath order.
  std::string port_stats() const {
    std::string out;
    for (BridgePort* p : of_.dp_ports()) {
      const auto& c = counters_[p->dp_port];
      out += p->bridge->name() + " " + p->name() + ": rx=" + std::to_string(c.rx) +
             " tx=" + std::to_string(c.tx) + " drop=" + std::to_string(c.drops) + "\n";
    }
    return out;
  }

 private:
  struct Sink {
    Replay& r;
    void output(uint32_t port, Packet& p, bool last) {
      if (port == 0 || port > r.writers_.size()) {  // no such port: lost here
        if (last) drop(p);
        return;
      }
      r.writers_[port - 1]->write(p);
      r.counters_[port].tx++;
    }
    void drop(Packet& p) {
      if (p.in_port < r.counters_.size()) r.counters_[p.in_port].drops++;
    }
  };

  Ofproto& of_;
  Datapath<Ofproto> dp_;
  std::vector<std::unique_ptr<PcapWriter>> writers_;
  std::vector<std::unique_ptr<PcapReader>> readers_;
  std::vector<ReplayPortCounters> counters_;
  std::vector<std::string> errors_;
};

}  // namespace flowpath
