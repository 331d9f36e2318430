// flowpath/bridge/ofproto_changes.hpp — the change journal of an Ofproto
// and the recording of what each translation consulted, so a datapath
// invalidates only the cached flows a change can affect
// (datapath/change_journal.hpp, datapath/dependency_index.hpp).
//
// attach(bridges) wires every bridge (owner = its index):
//   * its OpenFlow tables' change hook -> kRule(owner, table, match);
//   * its MAC table's change hook -> kMac(owner, vlan, mac), or kAll for a
//     flush;
//   * lookup logs that begin()/end() switch on around one translation:
//     every OpenFlow lookup -> TableDep, every MAC lookup -> MacDep.
// mark_ports_changed() is lock-free (a port came or went, a link moved):
// it becomes a kAll change the next time the journal is used.  A bridge
// added or removed after attach() is noticed by the next begin(), which
// wires the bridges again (owners are indices) and journals kAll.
//
// The journal position a translation reports is taken after it ran, so
// the MACs it learned itself count as seen (its decision was made with
// them in the table).
//
// Cost: begin/end O(bridges); one vector append per lookup.
// Thread-safety: everything but mark_ports_changed() and change_seq()
// under the owning Ofproto's lock.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "flowpath/bridge/bridge.hpp"
#include "flowpath/datapath/upcall.hpp"

namespace flowpath {

class OfprotoChanges {
 public:
  OfprotoChanges() = default;
  OfprotoChanges(const OfprotoChanges&) = delete;
  OfprotoChanges& operator=(const OfprotoChanges&) = delete;

  void attach(const std::vector<std::unique_ptr<Bridge>>& bridges) {
    bridges_ = &bridges;
    table_logs_.clear();
    mac_logs_.assign(bridges.size(), {});
    for (uint32_t i = 0; i < bridges.size(); ++i) {
      Bridge& b = *bridges[i];
      b.tables().set_change_hook(
          [this, i](uint8_t t, const Match& m) { push(CacheChange::rule_changed(i, t, m)); });
      b.macs().set_change_hook([this, i](uint16_t vlan, const EthAddr* mac) {
        push(mac ? CacheChange::mac_changed(i, vlan, *mac) : CacheChange::all());
      });
      table_logs_.emplace_back([this, i](uint8_t t, const FlowKey& k, const FlowMask& wc) {
        if (deps_) deps_->tables.push_back(TableDep{i, t, masked(k, wc), wc});
      });
    }
  }

  /// Starts recording a translation's lookups into `deps`.
  void begin(XlateDeps& deps) {
    flush_port_change();
    if (bridges_->size() != table_logs_.size()) {  // bridges came or went
      attach(*bridges_);
      push(CacheChange::all());
    }
    deps_ = &deps;
    refused_before_ = refused();
    for (uint32_t i = 0; i < bridges_->size(); ++i) {
      mac_logs_[i].clear();
      (*bridges_)[i]->tables().set_lookup_log(&table_logs_[i]);
      (*bridges_)[i]->macs().set_lookup_log(&mac_logs_[i]);
    }
  }

  /// Stops recording; fills r.tracked, r.journal_seq and r.cacheable (a
  /// learning refused by a rate limit must not be cached, or that source
  /// would never be learned).
  void end(UpcallResult& r) {
    for (uint32_t i = 0; i < bridges_->size(); ++i) {
      (*bridges_)[i]->tables().set_lookup_log(nullptr);
      (*bridges_)[i]->macs().set_lookup_log(nullptr);
      for (uint64_t key : mac_logs_[i])
        deps_->macs.push_back(MacDep{i, uint16_t(key >> 48), mac_detail::key_mac(key)});
    }
    deps_ = nullptr;
    r.tracked = true;
    r.journal_seq = journal_.next_seq();
    if (refused() != refused_before_) r.cacheable = false;
  }

  void mark_ports_changed() noexcept { ports_changed_.store(true, std::memory_order_release); }

  /// Lock-free: moves whenever there is something new to read.
  uint64_t change_seq() const noexcept {
    return seq_.load(std::memory_order_acquire) + ports_changed_.load(std::memory_order_acquire);
  }
  bool read(uint64_t* cursor, std::vector<CacheChange>& out) {
    flush_port_change();
    return journal_.read(cursor, out);
  }
  const ChangeJournal& journal() const noexcept { return journal_; }

 private:
  void push(CacheChange c) {
    journal_.push(std::move(c));
    seq_.store(journal_.next_seq(), std::memory_order_release);
  }
  void flush_port_change() {
    if (ports_changed_.exchange(false, std::memory_order_acq_rel)) push(CacheChange::all());
  }
  uint64_t refused() const noexcept {
    uint64_t n = 0;
    for (const auto& b : *bridges_) n += b->macs().refused();
    return n;
  }

  const std::vector<std::unique_ptr<Bridge>>* bridges_ = nullptr;
  ChangeJournal journal_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<bool> ports_changed_{false};
  std::vector<OpenFlowTable<Classifier<OfRulePtr>>::LookupLog> table_logs_;
  std::vector<std::vector<uint64_t>> mac_logs_;
  XlateDeps* deps_ = nullptr;
  uint64_t refused_before_ = 0;
};

}  // namespace flowpath
