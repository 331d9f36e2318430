// flowpath/datapath/datapath_config.hpp — a Datapath's configuration:
// its caches' sizes, how it invalidates on a slow-path change, its clock
// and tracker, and the switches of the firewall's shortcuts (each on by
// default; off for A/B runs and tests).  Plain data, no cost.
#pragma once

#include "flowpath/classify/emc.hpp"
#include "flowpath/classify/megaflow_cache.hpp"
#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/core/clock.hpp"

namespace flowpath {

enum class Invalidation { kIndexed, kRevalidate, kFlush };

struct DatapathConfig {
  MegaflowConfig megaflow;
  EmcConfig emc;
  bool emc_enabled = true;
  Invalidation invalidation = Invalidation::kIndexed;
  const Clock* clock = Clock::system();
  unsigned numa_id = 0;  // labels for pmd_stats_show()
  unsigned core_id = 0;
  // The connection tracker ct() actions use, shared by a switch's PMDs;
  // nullptr: the datapath creates its own on the first ct().
  ct::Conntrack* conntrack = nullptr;
  // A recirculated packet whose frame the actions before its recirc left
  // unchanged takes its key from its previous pass instead of a new parse
  // (only recirc_id and ct_* change).  false: every pass parses (A/B, tests).
  bool recirc_key_reuse = true;
  // A recirculated pass of exactly the received batch's packets, in its
  // order, each keyed where the first pass left it (the firewall's usual
  // second pass), classifies those keys in place instead of copying them
  // into the recirculation batch; process() then sets their recirc_id and
  // ct_* back to the first pass's (zero), so the caller's batch.keys are
  // still the received packets' keys.  false: copy (A/B, tests).
  bool recirc_in_place = true;
  // A batch whose first two keys are equal (a burst of one flow) hashes
  // and probes the EMC once per run of equal keys (classify_burst).
  // false: every packet hashes and probes (A/B, tests).
  bool emc_burst = true;
  // An in-place pass (recirc_in_place) takes a packet's megaflow from the
  // answer the EMC remembered for its previous pass's slot and its pass
  // fields (Emc::next_of: exactly the probe's answer, without the hash or
  // the probe), and remembers the answers it probes for.  false: every
  // pass hashes and probes (A/B, tests).
  bool recirc_emc_next = true;
  // A ct() starts a packet from the connection that the last ct() of its
  // flow (same pass, same flow hash) found, verified whole (RecircState's
  // hints, Conntrack::try_hint), instead of hashing its key and walking a
  // chain.  Needs the EMC (it computes the flow hash).  false: every ct()
  // looks up (A/B, tests).
  bool ct_hints = true;
  // The received batch taken whole by one flow whose actions end in a
  // ct() and its recirc (a firewall's first pass) runs its next pass at
  // that recirc, without queueing it, when every packet's EMC answer for
  // it is remembered (recirc_emc_next) and is one megaflow whose actions
  // do not recirculate: that flow's actions over the same group, as the
  // queued in-place pass would run them.  false: queue (A/B, tests).
  bool recirc_inline = true;
};

}  // namespace flowpath
