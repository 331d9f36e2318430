// Differential test of the flow text: `flowpath parse-flows` (the library
// functions behind it, in-process) against the real `ovs-ofctl
// parse-flows` of Open vSwitch 3.1, in its default OpenFlow 1.0 mode and
// with -O OpenFlow13, on thousands of generated flows (flow_text_gen.hpp).
//
// Per flow: both accept or both reject; when both accept, the usable
// protocols and the printed flow-mod message are identical; when both
// reject, OVS's reason appears in our message.  Skips when ovs-ofctl is
// missing.  A second test takes a whole file of Neutron's openvswitch
// firewall flows (tests/flow/data/neutron_ovsfw.txt): every line loads, the
// file prints as ovs-ofctl prints it in both modes, and every flow
// round-trips through our own text.  FLOWPATH_DIFF_SEED (default 1) picks the cases,
// FLOWPATH_DIFF_FLOWS (default 3000) their number per mode.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "differential/flow_text_gen.hpp"
#include "differential/flow_text_oracle.hpp"
#include "flowpath/flow/ofctl_parse_flows.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath::difftest {
namespace flow_text_diff_test {

uint64_t env_u64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : def;
}

struct Verdict {
  bool agree = false;
  std::string why;
  bool kept = false;  // agreed by a kept-difference rule
};

// The differences we keep on purpose (docs/flow-syntax.md, "Where we differ
// from ovs-ofctl"), each a rule that still checks both sides.  Returns true
// when the case is one of them and both sides behave as the rule says.
bool kept_difference(const FlowCase& c, const FlowModText& ours, bool ovs_ok,
                     const std::string& ovs_msg, const std::string& ovs_reason) {
  const std::string& kind = c.kind;
  auto has = [](const std::string& s, const char* part) { return s.find(part) != s.npos; };
  // set_field on OpenFlow 1.0's dl_vlan/dl_vlan_pcp: OVS prints another
  // field ("set_field:N->in_port") or cannot decode its message; we take
  // them as rewrites of the tag's VID/PCP (mod_vlan_vid, mod_vlan_pcp).
  if (has(c.text, "->dl_vlan") && ours.ok && ovs_ok)
    return has(ovs_msg, "->in_port") || has(ovs_msg, "***decode error");
  // OVS keeps the bits of an out-of-range value that fit the field's bytes.
  if (kind == "ovs_truncates")
    return !ours.ok && has(ours.error, "ovs-ofctl would truncate it") && ovs_ok;
  // OVS accepts and prints what it cannot decode back ("***decode error***",
  // "resubmit(,)").
  if (kind == "ovs_garbles")
    return !ours.ok && ovs_ok &&
           (has(ovs_msg, "***decode error") || has(ovs_msg, "resubmit(,)") ||
            has(ovs_msg, "goto_table:255"));
  // goto_table:0 in a flow without table= (so in table 0): OVS checks the
  // direction only when table= is given, prints resubmit(,0) in OpenFlow
  // 1.0 and cannot decode its own OpenFlow 1.3 message; we refuse it.
  // (OVS, not seeing that problem, may fail on another: its reason then
  // is about the rest of the flow, never the table.)
  if (!ours.ok && has(ours.error, "(OFPBIC_BAD_TABLE_ID)") &&
      c.text.substr(0, c.text.find("actions=")).find("table=") == std::string::npos)
    return ovs_ok ? has(ovs_msg, "resubmit(,0)") || has(ovs_msg, "***decode error")
                  : !has(ovs_reason, "OFPBIC_BAD_TABLE_ID");
  // A field without its prerequisite: OVS drops the field (or fails on
  // what is left); we refuse the flow.
  // A field without its prerequisite (in any case: the generator makes them
  // also by chance, e.g. nd_target with icmp_code 5, tp_src with
  // nw_frag=later): OVS drops the field, then judges the rest.  So: OVS
  // must not print the field, and when it refuses the flow, not for it.
  if (!ours.ok && has(ours.error, ": missing prerequisite")) {
    std::string field = ours.error.substr(0, ours.error.find(':'));
    field = field.substr(0, field.find('='));
    std::string printed = field;  // as OVS prints it
    for (const char* l4 : {"tcp_", "udp_", "sctp_"})
      if (field.starts_with(l4)) printed = "tp_" + field.substr(field.find('_') + 1);
    if (field.starts_with("icmpv6_")) printed = "icmp_" + field.substr(7);
    return ovs_ok ? !has(ovs_msg, ("," + printed + "=").c_str()) &&
                        !has(ovs_msg, (" " + printed + "=").c_str())
                  : !has(ovs_reason, field.c_str());
  }
  // Two settings of the same key bits that disagree (tcp,udp): OVS lets
  // the last win; we refuse the flow.
  bool conflict = !ours.ok && has(ours.error, "conflicts with an earlier match") && ovs_ok;
  if (kind == "conflict") return conflict;
  if (kind == "missing_prereq" && conflict) return true;
  // A match field with an empty value: OVS reads it as 0/0 (a wildcard, or
  // "0/0: invalid ..." where 0 is no valid value); we refuse it.
  if (kind == "empty_value")
    return !ours.ok && has(ours.error, "missing value") &&
           (ovs_ok || has(ovs_reason, "0/0: invalid"));
  // Flows OVS encodes but cannot decode back ("***decode error:
  // OFPBMC_BAD_PREREQ***"): L4 fields with nw_frag=later, which we refuse
  // (no L4 header in later fragments), and in OpenFlow 1.3 an exact
  // vlan_tci without the present bit, which we accept as written.
  // More generally OVS cannot decode what it encoded for some VLAN action
  // sequences (OFPBAC_BAD_TAG): we accept those flows as written.
  if (ovs_ok && has(ovs_msg, "***decode error"))
    return ours.ok || has(ours.error, "nw_frag=later has no L4 header");
  return false;
}

Verdict compare(const FlowCase& c, const FlowModText& ours, bool ovs_ok,
                const std::string& ovs_usable, const std::string& ovs_msg,
                const std::string& ovs_reason) {
  if (kept_difference(c, ours, ovs_ok, ovs_msg, ovs_reason)) return {true, {}, true};
  if (ours.ok != ovs_ok)
    return {false, ovs_ok ? "we reject (" + ours.error + "), OVS accepts: " + ovs_msg
                          : "we accept (" + ours.message + "), OVS rejects: " + ovs_reason};
  if (!ovs_ok) {
    if (ours.error.find(ovs_reason) == std::string::npos)
      return {false, "reason: ours \"" + ours.error + "\", OVS \"" + ovs_reason + "\""};
    return {true, {}};
  }
  if (ours.usable != ovs_usable)
    return {false, "usable protocols: ours " + ours.usable + ", OVS " + ovs_usable};
  if (strip_xid(ours.message) != ovs_msg)
    return {false, "text:\n  ours " + strip_xid(ours.message) + "\n  OVS  " + ovs_msg};
  return {true, {}};
}

struct Tally {
  unsigned cases = 0, agree = 0, kept = 0, files = 0, files_agree = 0;
  std::map<std::string, unsigned> by_kind, agree_by_kind;
  std::vector<std::string> samples;
};

// Whole files, as ovs-ofctl reads them: up to 25 flows both sides took
// (so their protocol sets mix: the intersection, the chosen protocol and
// "table:255" of OpenFlow 1.0 with table ids show), half of the files with
// one flow both sides refused at a random line; comments and blank lines
// too.  Only flows that agreed exactly (no kept difference) take part.
// stdout must be identical; on failure, the same line and reason.
void whole_files(OfProtocolSet allowed, OvsOfctl& ovs, const std::vector<FlowCase>& cases,
                 const std::vector<FlowModText>& ours, const std::vector<Verdict>& verdicts,
                 Tally& t) {
  std::vector<size_t> good, bad;
  for (size_t i = 0; i < cases.size(); ++i)
    if (verdicts[i].agree && !verdicts[i].kept) (ours[i].ok ? good : bad).push_back(i);
  if (good.empty()) return;
  std::mt19937_64 rng(cases.size() * 7919 + good.size());
  for (int f = 0; f < 60; ++f) {
    std::vector<std::string> lines;
    for (size_t n = 1 + rng() % 25, k = 0; k < n; ++k) {
      lines.push_back(cases[good[rng() % good.size()]].text);
      if (rng() % 10 == 0) lines.push_back(rng() % 2 ? "" : "# a comment");
    }
    if (f % 2 && !bad.empty())
      lines.insert(lines.begin() + long(rng() % lines.size()), cases[bad[rng() % bad.size()]].text);
    OvsAnswer a = ovs.run(lines);
    ParseFlowsOutput o = parse_flows_file(lines, allowed_protocols(allowed), ovs.path());
    bool same = o.status == (a.ok ? 0 : 1) && o.out == (a.ok || !a.bad_line ? a.raw_out : "");
    if (!a.ok)
      same = same &&
             (a.bad_line
                  ? o.error.rfind(ovs.path() + ":" + std::to_string(a.bad_line) + ": ", 0) == 0 &&
                        o.error.find(a.reason) != std::string::npos
                  : o.error == a.reason);
    ++t.files, t.files_agree += same;
    if (!same && t.samples.size() < 60)
      t.samples.push_back("file of " + std::to_string(lines.size()) + " lines:\n--- ours\n" +
                          o.out + o.error + "\n--- OVS\n" + a.raw_out + a.reason);
  }
}

void run_mode(OfProtocolSet allowed, const char* flag, const std::vector<FlowCase>& cases,
              const std::string& dir, Tally& t) {
  OvsOfctl ovs(dir, flag);
  std::vector<FlowModText> ours;
  for (const auto& c : cases) ours.push_back(parse_flow_mod_text(c.text, allowed));
  std::vector<Verdict> verdicts(cases.size());
  std::vector<bool> done(cases.size());
  // Batches: flows we accept, grouped by the protocol set we compute.
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < cases.size(); ++i)
    if (ours[i].ok) groups[ours[i].usable].push_back(i);
  for (auto& [usable, idx] : groups) {
    for (size_t b = 0; b < idx.size(); b += 400) {
      std::vector<size_t> batch(idx.begin() + long(b),
                                idx.begin() + long(std::min(idx.size(), b + 400)));
      std::vector<std::string> lines;
      for (size_t i : batch) lines.push_back(cases[i].text);
      OvsAnswer a = ovs.run(lines);
      if (!a.ok || a.flows.size() != batch.size() || a.usable != usable) continue;
      bool all = true;
      for (size_t k = 0; k < batch.size(); ++k)
        all = all && compare(cases[batch[k]], ours[batch[k]], true, a.usable, a.flows[k], "").agree;
      if (!all) continue;  // find out which, one by one
      for (size_t k = 0; k < batch.size(); ++k) {
        size_t i = batch[k];
        verdicts[i] = compare(cases[i], ours[i], true, a.usable, a.flows[k], ""), done[i] = true;
      }
    }
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    if (done[i]) continue;
    OvsAnswer a = ovs.run({cases[i].text});
    verdicts[i] =
        compare(cases[i], ours[i], a.ok, a.usable, a.flows.empty() ? "" : a.flows[0], a.reason);
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    ++t.cases, ++t.by_kind[cases[i].kind];
    if (verdicts[i].agree) {
      ++t.agree, ++t.agree_by_kind[cases[i].kind];
      t.kept += verdicts[i].kept;
    } else if (t.samples.size() < 60) {
      t.samples.push_back(std::string(flag) + " [" + cases[i].kind + "] " + cases[i].text + "\n  " +
                          verdicts[i].why);
    }
  }
  whole_files(allowed, ovs, cases, ours, verdicts, t);
  std::printf("%s: %u ovs-ofctl runs\n", flag[0] ? flag : "OpenFlow10", ovs.runs());
}

TEST(FlowTextDiff, AgreesWithOvsOfctl) {
  if (!OvsOfctl::available()) GTEST_SKIP() << "ovs-ofctl not installed (openvswitch-common)";
  uint64_t seed = env_u64("FLOWPATH_DIFF_SEED", 1);
  size_t n = env_u64("FLOWPATH_DIFF_FLOWS", 3000);
  FlowTextGen gen(seed);
  std::vector<FlowCase> cases;
  for (size_t i = 0; i < n; ++i) cases.push_back(i % 4 == 3 ? gen.invalid() : gen.valid());
  auto dir =
      std::filesystem::temp_directory_path() / ("flowpath-flowtext-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Tally t;
  run_mode(OfProtocolSet::kOpenFlow10, "", cases, dir.string(), t);
  run_mode(OfProtocolSet::kOpenFlow13, "-O OpenFlow13", cases, dir.string(), t);
  std::filesystem::remove_all(dir);
  std::printf(
      "seed %llu: %u/%u cases agree (%.1f%%; %u of them by a kept difference), "
      "%u/%u whole files\n",
      static_cast<unsigned long long>(seed), t.agree, t.cases, 100.0 * t.agree / t.cases, t.kept,
      t.files_agree, t.files);
  for (const auto& [kind, total] : t.by_kind)
    std::printf("  %-16s %5u/%u\n", kind.c_str(), t.agree_by_kind[kind], total);
  for (const auto& s : t.samples) std::printf("%s\n", s.c_str());
  EXPECT_EQ(t.agree, t.cases) << "seed " << seed << ": see the disagreements above";
  EXPECT_EQ(t.files_agree, t.files) << "seed " << seed << ": see the files above";
}

TEST(FlowTextDiff, NeutronFirewallFileAgreesAndRoundTrips) {
  if (!OvsOfctl::available()) GTEST_SKIP() << "ovs-ofctl not installed (openvswitch-common)";
  std::ifstream in(FLOWPATH_SOURCE_DIR "/tests/flow/data/neutron_ovsfw.txt");
  ASSERT_TRUE(in) << "missing tests/flow/data/neutron_ovsfw.txt";
  std::vector<std::string> lines, flows;
  for (std::string l; std::getline(in, l);) {
    lines.push_back(l);
    if (!l.empty() && l[0] != '#') flows.push_back(l);
  }
  ASSERT_GT(flows.size(), 60u);
  auto dir =
      std::filesystem::temp_directory_path() / ("flowpath-neutron-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (auto [allowed, flag] : {std::pair{OfProtocolSet::kOpenFlow10, ""},
                               std::pair{OfProtocolSet::kOpenFlow13, "-O OpenFlow13"}}) {
    OvsOfctl ovs(dir.string(), flag);
    OvsAnswer a = ovs.run(lines);
    ASSERT_TRUE(a.ok) << flag << ": ovs-ofctl refuses the file: " << a.reason;
    ASSERT_EQ(a.flows.size(), flows.size());
    ParseFlowsOutput o = parse_flows_file(lines, allowed_protocols(allowed), ovs.path());
    EXPECT_EQ(o.status, 0) << o.error;
    EXPECT_EQ(o.out, a.raw_out) << flag;
    // Every line alone (the file's messages use the file's one protocol).
    for (size_t i = 0; i < flows.size(); ++i) {
      FlowModText t = parse_flow_mod_text(flows[i], allowed);
      OvsAnswer one = ovs.run({flows[i]});
      ASSERT_TRUE(t.ok && one.ok) << flows[i] << ": " << t.error << one.reason;
      EXPECT_EQ(t.usable, one.usable) << flows[i];
      EXPECT_EQ(strip_xid(t.message), one.flows.at(0)) << flows[i];
    }
  }
  std::filesystem::remove_all(dir);
  // Our own round trip: print, parse again, same flow.
  for (const auto& l : flows) {
    OfctlFlow f = parse_flow(l);
    std::string text = format_flow(f);
    OfctlFlow g = parse_flow(text);
    EXPECT_TRUE(f.match == g.match && f.actions == g.actions && f.priority == g.priority &&
                f.table == g.table)
        << l << "\n  printed as " << text;
    EXPECT_EQ(format_flow(g), text);
  }
}

}  // namespace flow_text_diff_test
}  // namespace flowpath::difftest
