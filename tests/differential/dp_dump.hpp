// Comparing two switches' `dpctl/dump-flows` after ct() and recirculation:
// the distinct "actions:..." per pass (recirc ids as X, sorted), optionally
// prefixed by the ct_label the megaflow matches; and frames as the plain hex
// that `netdev-dummy/receive` takes.  Distinct actions, not whole lines:
// flowpath's megaflow masks can be narrower than OVS's for the same rules
// (more flows with the same actions), a cache-efficiency difference, not a
// behavioural one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace flowpath::difftest {

inline std::vector<std::string> actions_per_pass(const std::string& dump, bool with_label = false) {
  std::vector<std::string> out;
  std::istringstream in(dump);
  const std::regex recirc("recirc\\(0x[0-9a-f]+\\)"), label("ct_label\\([^)]*\\)");
  for (std::string line; std::getline(in, line);) {
    auto a = line.find("actions:");
    if (a == std::string::npos) continue;
    std::string s = line.find("recirc_id(0)") != std::string::npos ? "pass1 " : "pass2 ";
    std::smatch m;
    if (with_label && std::regex_search(line, m, label)) s += m.str() + " ";
    out.push_back(s + std::regex_replace(line.substr(a + 8), recirc, "recirc(X)"));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

inline std::string plain_hex(const std::vector<uint8_t>& v) {
  std::string s;
  for (uint8_t b : v) s += "0123456789abcdef"[b >> 4], s += "0123456789abcdef"[b & 15];
  return s;
}

}  // namespace flowpath::difftest
