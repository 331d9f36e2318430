// flowpath/switch/switch_apply.hpp — Switch's live reconfiguration and
// the port life cycle (included by switch.hpp; read that header's
// contract first, and docs/live-reconfiguration.md).
//
// Order inside apply(), and why:
//  - removals first: a port moved between bridges, or re-added with a new
//    type, frees its name before it is added again;
//  - a new port's table slot is filled before the Ofproto publishes its
//    number, so no translation can name a number whose slot is empty
//    (outputs to an empty slot are dropped and counted, see switch_sink.hpp);
//  - a removed port's slot is emptied before the Ofproto forgets it (so
//    before the generation moves), and the port is closed only after the fence, when no PMD can
//    hold a packet of it or a deferred output to it; its number is reusable only then, so no
//    megaflow still naming it can reach the new port.  The close itself runs on the
//    PortCloser's thread (port_closer.hpp): the change is in effect before it ends.
// AF_XDP ports get a Umem of their own (Options::port_ring; io/umem.hpp,
// "Sizing"), the next one made ahead on a thread of its own
// (prepare_spare), so an add only attaches XDP and binds.
// Cost: O(changes) Ofproto calls plus one fence (a few µs with running
// PMDs); opening AF_XDP/TAP ports dominates.  Control thread only.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <system_error>

#include "flowpath/switch/switch.hpp"

namespace flowpath {

namespace apply_detail {
// Work done behind a change (a system port's AF_XDP bind, the next spare
// Umem: ~1-2 ms of CPU, 8 MiB of pages touched) runs at nice 19.  It starts
// while the write-back is on its way, and on a 2-core machine it took the
// CPU that ovsdb-server and ovs-vsctl needed to carry cur_cfg back to the
// caller (docs/ovsdb.md, "What ovs-vsctl waits for").  A nice-19 thread
// yields to them at once; it still runs when a core is free.
inline void background_priority() noexcept { setpriority(PRIO_PROCESS, ::gettid(), 19); }
}  // namespace apply_detail

inline ApplyResult Switch::apply(SwitchConfig want, int fence_timeout_ms) {
  ConfigDiff d = diff_config(cfg_, want);
  ApplyResult r;
  std::vector<std::unique_ptr<SwitchPort>> closing;
  std::vector<uint32_t> numbers;
  for (const auto& name : d.remove_ports) retire_port(name, closing, numbers);
  // A device removed and added again in this change (a port moved between
  // bridges, or re-typed) must be closed before it opens: its close detaches
  // XDP from the device, and would take the new port's program with it
  // (the steering program is one, shared).  So a fence of its own first,
  // then the closes queued, and add_port's wait_closed waits for them.
  if (reopens_a_closing_device(d, closing))
    release_retired(wait_pmds_past(of_.generation(), fence_timeout_ms), closing, numbers);
  if (!d.remove_bridges.empty() || !d.add_bridges.empty())
    with_pmds_paused([&] {
      for (const auto& b : d.remove_bridges) of_.remove_bridge(b);
      for (const auto& b : d.add_bridges) of_.add_bridge(b);
    });
  for (const auto& [bridge, pc] : d.add_ports) add_port(bridge, pc, r);
  for (const auto& [bridge, pc] : d.retag_ports)
    of_.set_port_vlan(pc.name, pc.tag, pc.trunks, pc.vlan_mode);
  for (const auto& [bridge, fl] : d.del_flows) of_.del_flows(bridge, fl.text, true);
  for (const auto& [bridge, fl] : d.add_flows) {
    try {
      of_.add_flow(bridge, fl.text);
    } catch (const Error& e) {
      r.errors.push_back({bridge, fl.where + ": " + e.what()});
    }
  }
  // The running configuration: what was asked, minus ports that failed
  // (so the next apply retries them) and flows that did not parse.  Moved,
  // not copied: a caller that hands its configuration over (SwitchDb)
  // copies no port.
  cfg_ = std::move(want);
  for (auto& b : cfg_.bridges) {
    std::erase_if(b.ports, [&](const PortConfig& p) { return r.failed(p.name); });
    std::erase_if(b.flows, [&](const FlowLine& f) {
      for (const auto& e : r.errors)
        if (e.name == b.name && e.message.starts_with(f.where + ": ")) return true;
      return false;
    });
  }
  r.generation = of_.generation();
  r.opened_ns = steady_now_ns();
  r.in_effect = wait_pmds_past(r.generation, fence_timeout_ms);
  r.fenced_ns = steady_now_ns();
  release_retired(r.in_effect, closing, numbers);
  if (r.in_effect)
    for (auto& p : pmds_) p->reclaim();
  return r;
}

inline void Switch::release_retired(bool fenced, std::vector<std::unique_ptr<SwitchPort>>& closing,
                                    std::vector<uint32_t>& numbers) {
  if (fenced) {
    // In effect: no PMD holds the removed ports.  Their devices close on
    // the closer's thread (XDP detached, TAP deleted), so the caller's
    // write-back (cur_cfg) does not wait for that kernel work.
    for (auto& p : closing) closer_.close_later(std::move(p));
    for (uint32_t n : numbers) of_.free_dp_port(n);
  } else {
    // A stalled PMD may still hold a pointer: keep the ports (closed with
    // the switch) and their numbers (never reused).
    for (auto& p : closing) graveyard_.push_back(std::move(p));
  }
  closing.clear();
  numbers.clear();
}

inline bool Switch::reopens_a_closing_device(
    const ConfigDiff& d, const std::vector<std::unique_ptr<SwitchPort>>& closing) {
  for (const auto& [bridge, pc] : d.add_ports) {
    if (pc.type == PortType::kPatch) continue;
    for (const auto& p : closing)
      if (p->device() == pc.device()) return true;
  }
  return false;
}

inline void Switch::retire_port(const std::string& name,
                                std::vector<std::unique_ptr<SwitchPort>>& closing,
                                std::vector<uint32_t>& numbers) {
  // The slot empties before the generation moves: a PMD that has seen the
  // new generation (the fence) cannot read the old pointer any more.
  const BridgePort* bp = of_.find_port(name);
  uint32_t dp = bp ? bp->dp_port : 0;
  if (dp && xdp_) xdp_->clear_port(dp);  // kernel entries naming it punt from now on
  if (dp) table_[dp - 1].store(nullptr, std::memory_order_seq_cst);
  of_.remove_port(name);
  if (!dp) return;  // patch port: nothing open
  numbers.push_back(dp);
  for (auto it = owned_.begin(); it != owned_.end(); ++it)
    if ((*it)->dp_port() == dp) {
      pmds_[(*it)->pmd()]->remove_rx_port(it->get());
      closing.push_back(std::move(*it));
      owned_.erase(it);
      return;
    }
}

inline void Switch::add_port(const std::string& bridge, const PortConfig& pc, ApplyResult& r) {
  if (pc.type == PortType::kPatch) {
    of_.add_port(bridge, pc, 0);
    return;
  }
  closer_.wait_closed(pc.device());  // re-added
  uint32_t dp = of_.reserve_dp_port();
  std::unique_ptr<SwitchPort> sp;
  try {
    sp = open_port(pc, dp);
  } catch (const std::exception& e) {
    of_.free_dp_port(dp);  // never published
    r.errors.push_back({pc.name, e.what()});
    return;
  }
  table_[dp - 1].store(sp.get(), std::memory_order_release);
  of_.add_port(bridge, pc, dp);
  pmds_[sp->pmd()]->add_rx_port(sp.get());
  owned_.push_back(std::move(sp));
  r.opened.push_back(pc.name);
}

inline std::unique_ptr<SwitchPort> Switch::open_port(const PortConfig& c, uint32_t dp) {
  Pmd& pmd = *pmds_[(dp - 1) % pmds_.size()];
  // Memory mode replaces every device but pcap (never a switch port).
  switch (opt_.memory_ports && c.type != PortType::kPcap ? PortType::kMemory : c.type) {
    case PortType::kAfxdp: {
      AfxdpPort::Config ac;
      ac.ifname = c.device();
      ac.mode = opt_.xdp_mode;
      auto fast = c.options.find("xdp-fast");
      bool use_fast = xdp_ && (fast == c.options.end() || fast->second != "false");
      if (!use_fast && opt_.port_ring && opt_.packet_first && c.system)
        return open_system(c, dp, pmd, std::move(ac));
      if (use_fast) ac.load_program = xdp_->loader(dp);
      std::unique_ptr<AfxdpPort> port = open_afxdp(ac, pmd);
      if (use_fast && !xdp_->set_port(dp, port->ifindex()))
        throw Error("port " + c.name + ": cannot enter it in the XDP fast path's port map");
      return std::make_unique<SwitchPort>(c.name, dp, pmd.index(), std::move(port));
    }
    case PortType::kInternal: {
      TapPort::Config tc;
      tc.name = c.name;
      return std::make_unique<SwitchPort>(c.name, dp, pmd.index(), std::make_unique<TapPort>(tc));
    }
    case PortType::kMemory:
      if (opt_.memory_ports) {
        MemoryPort::Config mc;
        mc.port_no = dp;
        return std::make_unique<SwitchPort>(c.name, dp, pmd.index(),
                                            std::make_unique<MemoryPort>(mc));
      }
      [[fallthrough]];
    default:
      throw Error("port " + c.name + ": type " + std::string(to_string(c.type)) +
                  " is not supported by `flowpath switch` (use `flowpath replay`)");
  }
}

inline std::unique_ptr<AfxdpPort> Switch::open_afxdp(AfxdpPort::Config& ac, Pmd& pmd) {
  if (!opt_.port_ring) {
    ac.fill_on_open = false;  // the PMD fills the rings: its pool, its thread
    return std::make_unique<AfxdpPort>(pmd.umem(opt_.umem), ac);
  }
  // Its own Umem, untouched by any PMD yet: the rings are filled here.
  ac.rx_size = ac.tx_size = opt_.port_ring;
  if (interface_rx_queues(ac.ifname) == 1)  // the spare is sized for one queue
    if (std::unique_ptr<Umem> u = take_spare())
      return std::make_unique<AfxdpPort>(std::move(u), ac);
  return std::make_unique<AfxdpPort>(ac);
}

inline std::unique_ptr<SwitchPort> Switch::open_system(const PortConfig& c, uint32_t dp, Pmd& pmd,
                                                       AfxdpPort::Config ac) {
  PacketPort::Config pc;
  pc.ifname = ac.ifname;
  auto sp = std::make_unique<SwitchPort>(c.name, dp, pmd.index(), std::make_unique<PacketPort>(pc));
  // The AF_XDP port is bound behind it, its own Umem (the spare, or the
  // spare still being made: never waited for here) filled on that thread.
  ac.rx_size = ac.tx_size = opt_.port_ring;
  ac.fill_on_open = true;
  std::unique_ptr<Umem> spare = std::move(spare_);
  std::future<std::unique_ptr<Umem>> making = std::move(spare_making_);
  auto open = [ac, spare = std::move(spare), making = std::move(making)]() mutable {
    apply_detail::background_priority();
    if (!spare && making.valid()) spare = making.get();
    if (spare && interface_rx_queues(ac.ifname) == 1)
      return std::make_unique<AfxdpPort>(std::move(spare), ac);
    return std::make_unique<AfxdpPort>(ac);
  };
  sp->start_move(std::move(open), [&pmd] { pmd.wake(); });
  return sp;
}

inline std::unique_ptr<Umem> Switch::take_spare() {
  if (spare_making_.valid()) {
    // Needed now, on the path of a change: the maker gets its priority back.
    // (-1: "wanted", for a maker that has not started yet.)
    if (spare_making_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      if (int tid = spare_tid_->exchange(-1); tid > 0) setpriority(PRIO_PROCESS, tid, 0);
    spare_ = spare_making_.get();  // never longer than making one
  }
  return std::move(spare_);
}

inline void Switch::prepare_spare() {
  if (!opt_.port_ring || opt_.memory_ports || spare_ || spare_making_.valid()) return;
  const Umem::Config cfg = Umem::Config::for_rings(1, opt_.port_ring);
  spare_tid_ = std::make_shared<std::atomic<int>>(0);
  auto make = [cfg, tid = spare_tid_] {
    if (tid->exchange(::gettid()) != -1) apply_detail::background_priority();
    try {
      return std::make_unique<Umem>(cfg);
    } catch (const Error&) {
      return std::unique_ptr<Umem>();  // unprivileged, no memory: the add makes its own and reports
    }
  };
  try {
    spare_making_ = std::async(std::launch::async, make);
  } catch (const std::system_error&) {
    // No thread to spare: the next add makes its Umem itself.
  }
}

inline std::string Switch::dpctl_show() {
  uint64_t hit = 0, missed = 0, lost = 0, flows = 0;
  for (auto& p : pmds_) {
    std::lock_guard lock(p->mutex());
    const PmdStats& s = p->datapath().stats();
    hit += s.emc_hits + s.megaflow_hits;
    missed += s.upcall_ok + s.lost;
    lost += s.lost;
    flows += p->datapath().megaflows().size();
  }
  std::string out = "netdev@flowpath:\n  lookups: hit:" + std::to_string(hit) +
                    " missed:" + std::to_string(missed) + " lost:" + std::to_string(lost) +
                    "\n  flows: " + std::to_string(flows) + "\n";
  for (SwitchPort* sp : ports()) {
    SwitchPortStats s;
    {
      std::lock_guard lock(sp->domain());
      s = sp->stats();
    }
    for (auto& p : pmds_) {  // packets the XDP fast path forwarded in the kernel
      XdpOffload::PortCounts k = p->xdp_port_counts(sp->dp_port());
      s.rx += k.rx;
      s.tx += k.tx;
    }
    out += "  port " + std::to_string(sp->dp_port()) + ": " + sp->name() + " (" +
           to_string(sp->kind()) + ", pmd " + std::to_string(sp->pmd()) + ")\n";
    out += "    RX packets:" + std::to_string(s.rx) + " dropped:" + std::to_string(s.rx_dropped) +
           "\n    TX packets:" + std::to_string(s.tx) + " dropped:" + std::to_string(s.tx_dropped) +
           "\n";
  }
  return out;
}

}  // namespace flowpath
