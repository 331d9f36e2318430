// xdp_bench.bpf.c — the XDP helpers of bench/e2e/xdp_fast.sh (loaded by
// xdp_bench.cpp):
//   fp_gen   the live-frames generator's program (BPF_PROG_RUN with
//            BPF_F_TEST_XDP_LIVE_FRAMES): gives each frame UDP source port
//            1024 + (i % flows), headers rewritten each time, and transmits it (XDP_TX = out of the
//            generator's veth, into the switch's port)
//   fp_sink  the far end: counts correct and wrong frames (per CPU), the
//            flows seen correct, and drops
//   fp_fwd   a plain devmap redirect
//   fp_bare  the floor: push an 802.1Q tag (VID 1000) and redirect through
//            a devmap, no parsing, no lookup
//   fp_lk_*  one map lookup each, for xdp_hop_cost's lookup rows: none, an
//            array, a hash map with an 8-byte and with a 36-byte key (the
//            fast path's IPv4 key size), all of a key that is there
// linux/bpf.h first: it defines the types the libbpf headers use.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __u64);
} fp_cnt SEC(".maps");  // [0] packets (sink: correct ones) / frame index (gen); [1] bytes; [2]
                        // wrong frames (sink)

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u32);
} fp_seen SEC(".maps");  // sink: 1 once a correct frame of flow (source port - 1024) arrived

struct gen_cfg {
  __u32 flows;
  __u8 hdr[44];  // Ethernet + IPv4 + UDP headers (42 bytes used)
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct gen_cfg);
} fp_cfg SEC(".maps");  // [0] the generator's flows and frame headers

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} fp_out SEC(".maps");  // [0] the bare floor's output ifindex

SEC("xdp")
int fp_gen(struct xdp_md* ctx) {
  void *data = (void*)(long)ctx->data, *end = (void*)(long)ctx->data_end;
  __u32 k = 0;
  __u64* i = bpf_map_lookup_elem(&fp_cnt, &k);
  struct gen_cfg* c = bpf_map_lookup_elem(&fp_cfg, &k);
  if (!i || !c || data + 14 + 20 + 8 > end) return XDP_ABORTED;
  // Live frames are recycled as the last program left them (the switch's
  // XDP pushes tags in place): rewrite the whole header every time.
  __builtin_memcpy(data, c->hdr, 42);
  __u32 n = c->flows ? c->flows : 1;
  __u16* sport = data + 14 + 20;
  *sport = bpf_htons(1024 + (__u16)(*i % n));
  *i += 1;
  return XDP_TX;
}

// The far end: a frame is correct when it is what the compute node's rule
// makes of the generator's frame (dst 02:00:00:00:00:02, one 802.1Q tag
// with VID 1000, then the generator's IPv4/UDP headers, source port
// 1024 + flow); fp_seen records the flows that arrived correct at least
// once (the first packet of a flow took the upcall path).
static __always_inline int correct(void* data, void* end, __u32* flow) {
  __u8* p = data;
  if (data + 14 + 4 + 20 + 8 > end) return 0;
  if (p[0] != 2 || p[1] || p[2] || p[3] || p[4] || p[5] != 2) return 0;
  __u16* t = data + 12;
  if (t[0] != bpf_htons(0x8100) || (bpf_ntohs(t[1]) & 0xfff) != 1000 || t[2] != bpf_htons(0x0800))
    return 0;
  __u8* ip = data + 18;
  if (ip[0] != 0x45 || ip[9] != 17) return 0;
  __u16 sport = bpf_ntohs(*(__u16*)(ip + 20));
  if (sport < 1024 || sport >= 1024 + 4096) return 0;
  *flow = sport - 1024;
  return 1;
}

SEC("xdp")
int fp_sink(struct xdp_md* ctx) {
  void *data = (void*)(long)ctx->data, *end = (void*)(long)ctx->data_end;
  __u32 flow = 0;
  int ok = correct(data, end, &flow);
  __u32 k = ok ? 0 : 2;
  __u64* v = bpf_map_lookup_elem(&fp_cnt, &k);
  if (v) *v += 1;
  k = 1;
  v = bpf_map_lookup_elem(&fp_cnt, &k);
  if (v) *v += ctx->data_end - ctx->data;
  if (!ok) return XDP_DROP;
  __u32* seen = bpf_map_lookup_elem(&fp_seen, &flow);
  if (seen && !*seen) *seen = 1;
  return XDP_DROP;
}

// A plain devmap redirect (the second hop of the veth-pair floor).
SEC("xdp")
int fp_fwd(struct xdp_md* ctx) { return bpf_redirect_map(&fp_out, 0, 0); }

SEC("xdp")
int fp_bare(struct xdp_md* ctx) {
  void *data = (void*)(long)ctx->data, *end = (void*)(long)ctx->data_end;
  if (data + 14 > end) return XDP_DROP;
  __u8 macs[12];
  __builtin_memcpy(macs, data, 12);
  if (bpf_xdp_adjust_head(ctx, -4)) return XDP_DROP;
  data = (void*)(long)ctx->data;
  end = (void*)(long)ctx->data_end;
  if (data + 18 > end) return XDP_DROP;
  __builtin_memcpy(data, macs, 12);
  __u16* t = data + 12;
  t[0] = bpf_htons(0x8100);
  t[1] = bpf_htons(1000);
  return bpf_redirect_map(&fp_out, 0, 0);
}

// What one map lookup costs by itself (xdp_hop_cost.cpp): each program
// looks up key {1, 0, ...} (inserted by the tool) and passes when found.
#define FP_LK_HASH(name, ks)         \
  struct {                           \
    __uint(type, BPF_MAP_TYPE_HASH); \
    __uint(max_entries, 1024);       \
    __uint(key_size, ks);            \
    __uint(value_size, 8);           \
  } name SEC(".maps");
FP_LK_HASH(fp_lk_h8, 8)
FP_LK_HASH(fp_lk_h36, 36)
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} fp_lk_a SEC(".maps");

static __always_inline int found(void* v) {
  asm volatile("" : "+r"(v));  // the lookup is kept
  return v ? XDP_PASS : XDP_DROP;
}
SEC("xdp")
int fp_lk_none(struct xdp_md* ctx) { return XDP_PASS; }
SEC("xdp")
int fp_lk_array(struct xdp_md* ctx) {
  __u32 k = 1;
  return found(bpf_map_lookup_elem(&fp_lk_a, &k));
}
SEC("xdp")
int fp_lk_hash8(struct xdp_md* ctx) {
  __u64 k = 1;
  return found(bpf_map_lookup_elem(&fp_lk_h8, &k));
}
SEC("xdp")
int fp_lk_hash36(struct xdp_md* ctx) {
  __u32 k[9] = {1};
  return found(bpf_map_lookup_elem(&fp_lk_h36, k));
}

char _license[] SEC("license") = "GPL";
