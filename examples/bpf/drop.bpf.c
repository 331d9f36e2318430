// drop.bpf.c — the far end of the benchmark: counts and drops every frame
// at tc ingress, so that the receiving kernel stack costs (almost) nothing
// and nothing charges the switch's core.
//
//   tc qdisc add dev X clsact
//   tc filter add dev X ingress bpf da obj drop.bpf.o sec tc
//
// The counter map (fp_drop_cnt: key 0 = packets, key 1 = bytes, per CPU)
// is read with `fp-bpfcount DEV` (examples/bpf/bpf_count.cpp), which finds
// the program attached to DEV's ingress and sums its map.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} fp_drop_cnt SEC(".maps");

SEC("tc")
int fp_drop(struct __sk_buff *skb) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&fp_drop_cnt, &k);
  if (v) *v += 1;
  k = 1;
  v = bpf_map_lookup_elem(&fp_drop_cnt, &k);
  if (v) *v += skb->len;
  return TC_ACT_SHOT;
}

char _license[] SEC("license") = "GPL";
