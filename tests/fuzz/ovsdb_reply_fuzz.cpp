// libFuzzer over the OVSDB client's reply/update parsing: the JSON-RPC
// framer, the session state machine and the replica (update / update2),
// and the replica -> SwitchConfig conversion.  Whatever the server sends:
// no crash, no exception out of an event, and the same bytes give the same
// replica however they are split across reads.
//
// Input: byte 0 picks the path; the rest is what the server sends.
//   even: a synchronised Session (schema and monitor replies built here)
//         receives the bytes, once whole and once split at byte 1's offset
//   odd : the bytes parsed as table-updates, applied in both notations,
//         to an empty replica and on top of rows (a failure must restore
//         them exactly)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "flowpath/ovsdb/session.hpp"
#include "flowpath/ovsdb/to_config.hpp"

namespace {

using namespace flowpath::ovsdb;

std::string prelude() {
  Json tables = Json::object();
  for (const auto& t : monitored_tables())
    for (const auto& c : t.columns)
      tables[std::string(t.name)]["columns"][std::string(c.name)] = {{"type", "string"}};
  const char* root = "00000000-0000-4000-8000-000000000001";
  const char* br = "00000000-0000-4000-8000-000000000002";
  const char* port = "00000000-0000-4000-8000-000000000003";
  const char* ifc = "00000000-0000-4000-8000-000000000004";
  Json initial = {
      {"Open_vSwitch", {{root, {{"initial", {{"bridges", uuid_atom(br)}}}}}}},
      {"Bridge", {{br, {{"initial", {{"name", "br0"}, {"ports", uuid_atom(port)}}}}}}},
      {"Port", {{port, {{"initial", {{"name", "p0"}, {"interfaces", uuid_atom(ifc)}}}}}}},
      {"Interface", {{ifc, {{"initial", {{"name", "p0"}}}}}}}};
  return encode_reply({{"tables", tables}}, 1) + encode_reply(initial, 2);
}

struct Outcome {
  uint64_t generation;
  size_t rows;
  Session::State state;
  bool operator==(const Outcome&) const = default;
};

Outcome run_session(const std::string& bytes, size_t split) {
  static const std::string pre = prelude();
  Session s;
  s.on_connected(0);
  s.on_bytes(pre.data(), pre.size(), 0);
  if (!s.synced()) std::abort();
  s.take_actions();
  s.on_bytes(bytes.data(), split, 1);
  s.on_bytes(bytes.data() + split, bytes.size() - split, 2);
  s.on_timer(1 << 20);
  for (auto& a : s.take_actions())
    if (a.kind == Action::Kind::kReconnect && a.error.empty()) std::abort();  // errors say why
  DbConfig d = to_switch_config(s.replica());
  (void)d;
  return {s.replica().generation(), s.replica().row_count(), s.state()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (data[0] % 2 == 0) {
    size_t split = bytes.empty() ? 0 : data[1] % (bytes.size() + 1);
    if (!(run_session(bytes, bytes.size()) == run_session(bytes, split))) std::abort();
    return 0;
  }
  Json j = Json::parse(bytes, nullptr, false);
  if (j.is_discarded()) return 0;
  static const Replica base = [] {
    Session s;
    s.on_connected(0);
    std::string pre = prelude();
    s.on_bytes(pre.data(), pre.size(), 0);
    return s.replica();
  }();
  for (auto fmt : {UpdateFormat::kUpdate2, UpdateFormat::kUpdate}) {
    Replica r;
    std::string err = r.apply(j, fmt, true);
    if (!err.empty() && r.row_count() != 0) std::abort();  // failed updates apply nothing
    DbConfig d = to_switch_config(r);
    (void)d;
    // On top of existing rows: a failed update is rolled back exactly.
    Replica r2 = base;
    err = r2.apply(j, fmt);
    if (!err.empty() && (!r2.same_rows(base) || r2.generation() != base.generation())) std::abort();
    d = to_switch_config(r2);
  }
  return 0;
}
