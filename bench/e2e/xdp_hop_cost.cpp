// xdp_hop_cost — what one hop of the XDP fast path costs in the program
// itself, without the veth, the generator or the machine's other load: the
// kernel times BPF_PROG_RUN over REPEAT runs of one frame (its timer stops
// while the thread is rescheduled) and reports ns per run.
//
//   xdp_hop_cost BENCH_OBJ [REPEAT] [NAME=FP_OBJ ...]
//
// Rows (each the median over ROUNDS rounds of one timing of REPEAT runs;
// the rounds interleave every program and row, so a burst of load on the
// machine hits all of them alike):
//   floor-fwd    xdp_bench.bpf.c's fp_fwd: a bare devmap redirect (the
//                veth-pair floor's second hop)
//   fp-out       our program, untagged IPv4/UDP frame, entry "output"
//                (parse + lookup + count + redirect)
//   fp-tci-out   our program, 802.1Q frame (VID 1), entry "set VID 1,
//                output": the second hop's shape (br-eth2's rule rewrites
//                the TCI in place; here to the same VID, so every run of
//                the repeat finds the entry again)
//   fp-hash      fp-out's shape, but another entry holds the frame's cache
//                index: found in fp_flows4 (the cache probe, then the hash
//                map)
//   fp6-out      IPv6/UDP, entry "output": fp_flows, no cache
//   fp-miss      our program, no entry: parse + lookup, to the XSKMAP
// Then one lookup alone (xdp_bench.bpf.c's fp_lk_*, ns per run): none,
// an array, a hash map with an 8- and a 36-byte key: why the fast path's
// IPv4 hits go through an array cache (docs/xdp-fast-path.md).
// Columns: the embedded program ("tree"), then each NAME=FP_OBJ: another
// build of bpf/flowpath_xdp.bpf.c on the same maps and entries (an old
// commit's for an A/B, or a FP_XDP_PROFILE_CUT variant for the cost of a
// section).
// A push (the first hop) cannot be repeated on one frame (each run would
// push again), so it is not timed here; it costs the floor the same.
//
// Built by bench/e2e/xdp_fast.sh --hop-cost against the tree's headers
// (and the generated program); needs root.  Errors: stderr, exit 1.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "flowpath/io/xdp_fast_path.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "xdp_hop_cost: %s\n", what.c_str());
  std::exit(1);
}

// 60 bytes: 02:..:02 <- 02:..:01, [802.1Q VID 1], IPv4 198.51.100.1 ->
// 198.51.100.2 TTL 64, UDP sport -> 9, zero payload.
Bytes frame(bool tagged, uint16_t sport = 1024) {
  Bytes b = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  if (tagged) b.insert(b.end(), {0x81, 0x00, 0x00, 0x01});
  const size_t ip_len = 60 - b.size() - 2;
  b.insert(b.end(), {0x08,
                     0x00,
                     0x45,
                     0,
                     uint8_t(ip_len >> 8),
                     uint8_t(ip_len),
                     0,
                     0,
                     0,
                     0,
                     64,
                     17,
                     0,
                     0,
                     198,
                     51,
                     100,
                     1,
                     198,
                     51,
                     100,
                     2,
                     uint8_t(sport >> 8),
                     uint8_t(sport),
                     0,
                     9,
                     uint8_t((ip_len - 20) >> 8),
                     uint8_t(ip_len - 20),
                     0,
                     0});
  b.resize(60, 0);
  return b;
}

// The kernel key of frame(tagged, sport) on datapath port in (as
// xdp_key_from).
fp_xdp_key key(bool tagged, uint32_t in, uint16_t sport = 1024) {
  fp_xdp_key k;
  std::memset(&k, 0, sizeof k);
  const uint8_t dst[6] = {2, 0, 0, 0, 0, 2}, src[6] = {2, 0, 0, 0, 0, 1};
  const uint8_t a[4] = {198, 51, 100, 1}, c[4] = {198, 51, 100, 2};
  k.in_port = in;
  std::memcpy(k.dl_dst, dst, 6);
  std::memcpy(k.dl_src, src, 6);
  k.dl_type = 0x0800;
  if (tagged) k.vlan_tpid = 0x8100, k.vlan_tci = 0x1001;
  k.nw_proto = 17, k.nw_ttl = 64;
  std::memcpy(k.src, a, 4);
  std::memcpy(k.dst, c, 4);
  k.tp_src = sport, k.tp_dst = 9;
  return k;
}

// 66 bytes: 02:..:02 <- 02:..:01, IPv6 2001:db8::1 -> 2001:db8::2 hop
// limit 64, UDP 1024 -> 9, zero payload; and its kernel key.
Bytes frame6() {
  Bytes b = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 12, 17, 64};
  for (uint8_t last : {1, 2}) {
    const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
    b.insert(b.end(), a, a + 16);
  }
  b.insert(b.end(), {0x04, 0x00, 0, 9, 0, 12, 0, 0});
  b.resize(66, 0);
  return b;
}
fp_xdp_key key6(uint32_t in) {
  const Bytes f = frame6();
  fp_xdp_key k;
  std::memset(&k, 0, sizeof k);
  k.in_port = in;
  std::memcpy(k.dl_dst, &f[0], 6);
  std::memcpy(k.dl_src, &f[6], 6);
  k.dl_type = 0x86dd;
  k.nw_proto = 17, k.nw_ttl = 64;
  std::memcpy(k.src, &f[22], 16);
  std::memcpy(k.dst, &f[38], 16);
  k.tp_src = 1024, k.tp_dst = 9;
  return k;
}

// Two source ports (from 2000 up) whose frames share a cache index.
std::pair<uint16_t, uint16_t> colliding_sports() {
  using flowpath::XdpFastCache, flowpath::XdpFastPath;
  std::vector<int> seen(XdpFastCache::kEmcSize, -1);  // index -> source port
  for (uint32_t s = 2000; s < 65536; ++s) {
    int& first = seen[XdpFastCache::index(XdpFastPath::key4_of(key(false, 1, uint16_t(s))))];
    if (first >= 0) return {uint16_t(first), uint16_t(s)};
    first = int(s);
  }
  die("no two source ports share a cache index");
}

// One timing: ns per run of `repeat` runs of `in` (its verdict checked).
double ns_per_run(int prog, const Bytes& in, uint32_t repeat, uint32_t want) {
  Bytes data = in;
  LIBBPF_OPTS(bpf_test_run_opts, o);
  o.data_in = data.data();
  o.data_size_in = uint32_t(data.size());
  o.repeat = repeat;
  if (bpf_prog_test_run_opts(prog, &o)) die("BPF_PROG_RUN: " + std::string(strerror(errno)));
  if (o.retval != want)
    die("verdict " + std::to_string(o.retval) + ", expected " + std::to_string(want));
  return double(o.duration);
}

Bytes slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Row {
  const char* name;
  Bytes frame;
  uint32_t want;
  bool floor;  // the bench object's fp_fwd, not our program
};

// The fp_lk_* rows: each program's median over `rounds` interleaved
// timings, after its key {1, 0, ...} is put in its map.
void lookup_rows(bpf_object* o, uint32_t repeat, int rounds) {
  const uint8_t key[36] = {1};
  const uint64_t value = 0;
  for (const char* m : {"fp_lk_a", "fp_lk_h8", "fp_lk_h36"})
    if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(o, m)), key, &value, 0))
      die(std::string("updating ") + m);
  const char* names[] = {"fp_lk_none", "fp_lk_array", "fp_lk_hash8", "fp_lk_hash36"};
  std::vector<std::vector<double>> t(std::size(names));
  const Bytes f = frame(false);
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < std::size(names); ++i)
      t[i].push_back(ns_per_run(bpf_program__fd(bpf_object__find_program_by_name(o, names[i])), f,
                                repeat, XDP_PASS));
  std::printf("one lookup alone (ns/run):");
  for (size_t i = 0; i < std::size(names); ++i) std::printf(" %s %.1f", names[i] + 6, median(t[i]));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: xdp_hop_cost BENCH_OBJ [REPEAT] [NAME=FP_OBJ ...]");
  const uint32_t repeat = argc > 2 ? uint32_t(std::atoi(argv[2])) : 1000000;
  constexpr int kRounds = 9;
  bpf_object* o = bpf_object__open_file(argv[1], nullptr);
  if (!o || bpf_object__load(o)) die(std::string("loading ") + argv[1]);
  int fwd = bpf_program__fd(bpf_object__find_program_by_name(o, "fp_fwd"));
  uint32_t zero = 0, lo = if_nametoindex("lo");
  if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(o, "fp_out")), &zero, &lo,
                          BPF_ANY))
    die("fp_out update");

  flowpath::XdpFastPath fp;  // the tree's maps and program
  auto prog_only = [](std::pair<int, int> fds) {
    close(fds.second);  // the program keeps its XSKMAP
    return fds.first;
  };
  std::vector<std::pair<std::string, int>> progs = {{"tree", prog_only(fp.load("lo", 1, 1))}};
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (eq == std::string::npos) die("expected NAME=FP_OBJ, got " + a);
    Bytes obj = slurp(a.substr(eq + 1));
    progs.emplace_back(a.substr(0, eq), prog_only(fp.load("lo", 1, 1, obj.data(), obj.size())));
  }
  fp.set_port(2, int(lo));  // BPF_PROG_RUN does not transmit: any device
  fp_xdp_flow out{}, tci{};
  out.n_ops = 1;
  out.ops[0].type = FP_XDP_OP_OUTPUT, out.ops[0].port = 2;
  tci.n_ops = 2;
  tci.ops[0].type = FP_XDP_OP_REWRITE_TCI, tci.ops[0].mask = 0x0fff, tci.ops[0].bits = 1;
  tci.ops[1] = out.ops[0];
  // fp-hash's entry first, then one on its cache index: the cache holds
  // the later.
  const auto [hashed, cached] = colliding_sports();
  if (!fp.insert(key(false, 1), out) || !fp.insert(key(true, 1), tci) ||
      !fp.insert(key(false, 1, hashed), out) || !fp.insert(key(false, 1, cached), out) ||
      !fp.insert(key6(1), out))
    die("inserting entries");
  Bytes miss = frame(false);
  miss[37] ^= 1;  // another destination port: no entry
  const Row rows[] = {{"floor-fwd", frame(false), XDP_REDIRECT, true},
                      {"fp-out", frame(false), XDP_REDIRECT, false},
                      {"fp-tci-out", frame(true), XDP_REDIRECT, false},
                      {"fp-hash", frame(false, hashed), XDP_REDIRECT, false},
                      {"fp6-out", frame6(), XDP_REDIRECT, false},
                      {"fp-miss", miss, XDP_PASS, false}};
  // t[row][prog][round]; the floor row is timed once per round.
  std::vector<std::vector<std::vector<double>>> t(std::size(rows),
                                                  std::vector<std::vector<double>>(progs.size()));
  for (int r = 0; r < kRounds; ++r)
    for (size_t i = 0; i < std::size(rows); ++i)
      for (size_t p = 0; p < (rows[i].floor ? 1 : progs.size()); ++p) {
        // A cut variant (NAME cut*) stops before the miss is decided: its
        // miss row is not timed.
        if (!rows[i].floor && rows[i].want == XDP_PASS && progs[p].first.starts_with("cut"))
          continue;
        t[i][p].push_back(
            ns_per_run(rows[i].floor ? fwd : progs[p].second, rows[i].frame, repeat, rows[i].want));
      }

  std::printf("ns/run, median of %d interleaved rounds x %u runs\n%-11s", kRounds, repeat, "row");
  for (auto& [name, fd] : progs) std::printf(" %10s", name.c_str());
  std::printf("\n");
  for (size_t i = 0; i < std::size(rows); ++i) {
    std::printf("%-11s", rows[i].name);
    for (size_t p = 0; p < (rows[i].floor ? 1 : progs.size()); ++p)
      if (t[i][p].empty())
        std::printf(" %10s", "-");
      else
        std::printf(" %10.1f", median(t[i][p]));
    std::printf("\n");
  }
  lookup_rows(o, repeat, kRounds);
  for (auto& [name, fd] : progs) close(fd);
  bpf_object__close(o);
  return 0;
}
