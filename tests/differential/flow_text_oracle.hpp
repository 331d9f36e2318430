// flow_text_oracle.hpp — runs the real `ovs-ofctl parse-flows` on many
// flows at once and splits its answer per flow.
//
// ovs-ofctl parses the whole file before printing anything: on the first bad
// line it prints "ovs-ofctl: FILE:LINE: REASON" on stderr and exits 1, with
// no flow on stdout (only "usable protocols: X" when the failure is "no
// usable protocol").  On success stdout is "usable protocols: X", "chosen
// protocol: Y" (the lowest protocol both usable by every flow and allowed by
// -O), then one "OFPT_FLOW_MOD (xid=0xN): ADD ..." or "NXT_FLOW_MOD ..."
// message per flow.  So a batch is only useful when every flow in it is good
// and all choose the same protocol; the caller batches the flows that
// flowpath accepts, grouped by the protocols flowpath says they can use, and
// runs any batch that fails or disagrees one flow per invocation.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace flowpath::difftest {

struct OvsAnswer {
  bool ok = false;
  std::string usable;              // after "usable protocols: "
  std::vector<std::string> flows;  // one message per flow, "(xid=0xN) " removed
  std::string reason;              // after "FILE:LINE: ", or the whole error line
  int bad_line = 0;                // 1-based, 0 when not a line error
  std::string raw_out;             // stdout as printed
};

/// Drops " (xid=0x..)" from a flow-mod message so batch and single runs compare.
inline std::string strip_xid(const std::string& s) {
  size_t p = s.find(" (xid=0x");
  if (p == std::string::npos) return s;
  size_t e = s.find(')', p);
  return s.substr(0, p) + s.substr(e + 1);
}

class OvsOfctl {
 public:
  OvsOfctl(std::string dir, std::string protocol_flag)
      : dir_(std::move(dir)), flag_(std::move(protocol_flag)) {}

  static bool available() { return std::system("ovs-ofctl --version >/dev/null 2>&1") == 0; }

  OvsAnswer run(const std::vector<std::string>& flows) {
    ++runs_;
    std::string in = dir_ + "/flows.txt", out = dir_ + "/out.txt", err = dir_ + "/err.txt";
    {
      std::ofstream f(in);
      for (const auto& l : flows) f << l << '\n';
    }
    std::string cmd = "ovs-ofctl " + flag_ + " parse-flows " + in + " >" + out + " 2>" + err;
    int rc = std::system(cmd.c_str());
    OvsAnswer a;
    a.ok = WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
    std::ifstream o(out);
    for (std::string line; std::getline(o, line);) {
      a.raw_out += line + "\n";
      if (line.rfind("usable protocols: ", 0) == 0)
        a.usable = line.substr(18);
      else if (line.rfind("chosen protocol: ", 0) == 0)
        continue;
      else if (line.rfind("OFPT_FLOW_MOD", 0) == 0 || line.rfind("NXT_FLOW_MOD", 0) == 0)
        a.flows.push_back(strip_xid(line));
      else if (!a.flows.empty())
        a.flows.back() += "\n" + line;  // a decode error's hex dump
    }
    std::ifstream e(err);
    for (std::string line; std::getline(e, line);) {
      if (line.rfind("ovs-ofctl: ", 0) != 0) continue;  // log lines (WARN/INFO)
      std::string msg = line.substr(11);
      std::string file_prefix = in + ":";
      if (msg.rfind(file_prefix, 0) == 0) {
        size_t colon = msg.find(": ", file_prefix.size());
        a.bad_line = std::atoi(msg.c_str() + file_prefix.size());
        a.reason = msg.substr(colon + 2);
      } else {
        a.reason = msg;
      }
    }
    return a;
  }
  unsigned runs() const { return runs_; }
  std::string path() const { return dir_ + "/flows.txt"; }

 private:
  std::string dir_, flag_;
  unsigned runs_ = 0;
};

}  // namespace flowpath::difftest
