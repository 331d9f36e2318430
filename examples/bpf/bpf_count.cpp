// flowpath-bpfcount PROG_ID — prints "packets bytes" summed over CPUs from
// the first map of the BPF program PROG_ID (the drop.bpf.c counter; find
// the id with `tc filter show dev X ingress`).  Program ids are global, so
// this works from any network namespace.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: flowpath-bpfcount PROG_ID\n");
    return 2;
  }
  unsigned id = unsigned(std::strtoul(argv[1], nullptr, 10));
  int pfd = bpf_prog_get_fd_by_id(id);
  if (pfd < 0) {
    std::fprintf(stderr, "flowpath-bpfcount: program %u: %s\n", id, std::strerror(errno));
    return 1;
  }
  uint32_t map_ids[4] = {};
  bpf_prog_info info{};
  info.nr_map_ids = 4;
  info.map_ids = reinterpret_cast<uint64_t>(map_ids);
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(pfd, &info, &len) || info.nr_map_ids == 0) {
    std::fprintf(stderr, "flowpath-bpfcount: program %u has no map\n", id);
    return 1;
  }
  int mfd = bpf_map_get_fd_by_id(map_ids[0]);
  int ncpu = libbpf_num_possible_cpus();
  if (mfd < 0 || ncpu <= 0) {
    std::fprintf(stderr, "flowpath-bpfcount: map %u: %s\n", map_ids[0], std::strerror(errno));
    return 1;
  }
  unsigned long long total[2] = {0, 0};
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  for (uint32_t k = 0; k < 2; ++k) {
    if (bpf_map_lookup_elem(mfd, &k, vals.data())) continue;
    for (uint64_t v : vals) total[k] += v;
  }
  std::printf("%llu %llu\n", total[0], total[1]);
  return 0;
}
