// flowpath_xdp.bpf.c — the XDP fast path of the flowpath switch.
//
// Attached to every AF_XDP port of a switch with the fast path on (one
// loaded copy per port: fp_port_no and fp_xsks are per port; fp_flows4,
// fp_flows, fp_emc, fp_slots, fp_counts, fp_ports and fp_stats are shared
// by all copies of one switch).
//
//   parse    Ethernet, one 802.1Q/802.1ad tag, IPv4 (any IHL, not a
//            fragment) or IPv6 (no extension headers), TCP or UDP.
//            Anything else is punted: ARP, ICMP, QinQ, fragments, frames
//            the userspace parser would call malformed.
//   lookup   fp_flows4 (IPv4, the compact struct fp_xdp_key4) or fp_flows
//            (IPv6), exact match on struct fp_xdp_key (the FlowKey
//            fields above, built exactly as parse/layers.hpp builds them),
//            gives a slot of fp_slots, whose key must equal the packet's
//            (the kernel reuses a deleted hash element at once:
//            xdp_fast_abi.h); the slot's flow is the entry.  IPv4 first
//            tries the exact-match cache (fp_emc -> slot, an array lookup):
//            a hash-map lookup is most of what a hop costs.
//   hit      count (per-CPU fp_counts[slot]), check that the output port is still in
//            fp_ports (else punt, untouched), run the ops (VLAN pop, push,
//            TCI rewrite; set-field on Ethernet addresses, IPv4 addresses,
//            TOS, TTL and TCP/UDP ports (IPv4 and IPv6) with incremental
//            checksum updates;
//            a failed push drops, as the userspace executor), redirect
//            through fp_ports; no output op = drop.
//   miss     bpf_redirect_map(fp_xsks, rx queue): to the PMD over AF_XDP,
//            exactly what the plain redirect program does.
//
// Helpers used: map lookup, redirect_map, xdp_adjust_head — all in kernel
// 5.x, so the verifier of Debian 12's 6.1 accepts what 6.18's does.  No BTF
// or CO-RE is needed (no kernel structs are read beyond xdp_md), no kfuncs,
// no bpf_loop; the one loop has a constant bound (verifier, kernel >= 5.3),
// and packet offsets taken from the map (op->l3) are clamped before use.
//
// Profiling builds only (bench/e2e/xdp_fast.sh --hop-cost compiles them;
// the embedded program never defines it): FP_XDP_PROFILE_CUT=N stops a hit
// after section N and redirects it through fp_ports[2] (the hop-cost
// tool's output port), so the difference between cuts is what a section
// costs: 1 parse + key build, 2 + the flow lookup, 3 + the output check
// and the counters (no ops run; the full program adds them).
// linux/bpf.h first: it defines the types the libbpf headers use.
// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "flowpath/io/xdp_fast_abi.h"

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} fp_xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, FP_XDP_MAX_FLOWS);
  __type(key, struct fp_xdp_key);
  __type(value, __u32);   // a slot of fp_slots
} fp_flows SEC(".maps");  // IPv6 flows

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, FP_XDP_MAX_FLOWS);
  __type(key, struct fp_xdp_key4);
  __type(value, __u32);    // a slot of fp_slots
} fp_flows4 SEC(".maps");  // IPv4 flows: half the key to hash and compare

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1 << FP_XDP_EMC_BITS);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, __u64);  // low 32 bits: a slot of fp_slots, or FP_XDP_EMC_EMPTY
} fp_emc SEC(".maps");   // the exact-match cache in front of fp_flows4 (xdp_fast_abi.h)

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, FP_XDP_MAX_FLOWS);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, struct fp_xdp_slot);
} fp_slots SEC(".maps");  // by counter slot: every entry's key and flow

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, FP_XDP_MAX_FLOWS);
  __type(key, __u32);
  __type(value, struct fp_xdp_count);
} fp_counts SEC(".maps");  // per entry (fp_xdp_flow.slot), per CPU: packets, bytes

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, FP_XDP_MAX_PORTS);
  __type(key, __u32);
  __type(value, __u32);
} fp_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, FP_XDP_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} fp_stats SEC(".maps");

// This copy's datapath port number (set by the loader before load).
volatile const __u32 fp_port_no = 0;

static __always_inline void count(__u32 which) {
  __u64* v = bpf_map_lookup_elem(&fp_stats, &which);
  if (v) *v += 1;
}

static __always_inline int to_pmd(struct xdp_md* ctx, __u32 which) {
  count(which);
  return bpf_redirect_map(&fp_xsks, ctx->rx_queue_index, XDP_PASS);
}

static __always_inline int is_vlan(__u16 tpid_be) {
  return tpid_be == bpf_htons(ETH_P_8021Q) || tpid_be == bpf_htons(ETH_P_8021AD);
}

// Wide loads from the frame: packet memory may be read unaligned (the
// verifier allows it on CPUs with efficient unaligned access: x86-64,
// arm64), so these compile to one load each instead of the byte loads a
// packed struct (ethhdr) or a memcpy gets.  Stack stores stay aligned.
#define LOAD16(p) (*(const __u16*)(p))
#define LOAD32(p) (*(const __u32*)(p))
#define LOAD64(p) (*(const __u64*)(p))

// The L4 ports (wire order, source then destination, as one word) of a
// TCP or UDP header at l4; 0 when the frame is one the program handles.
// `end` is the frame's end (what the verifier checks reads against);
// `ip_end` is where the IP payload ends (the header must fit in it, too).
static __always_inline int parse_l4(void* l4, void* end, void* ip_end, __u8 proto, __u32* ports) {
  if (proto == IPPROTO_UDP) {
    if (l4 + sizeof(struct udphdr) > end || l4 + sizeof(struct udphdr) > ip_end) return -1;
    *ports = LOAD32(l4);
    return 0;
  }
  if (proto == IPPROTO_TCP) {
    struct tcphdr* t = l4;
    if ((void*)(t + 1) > end || (void*)(t + 1) > ip_end) return -1;
    __u32 doff = t->doff * 4;
    if (doff < sizeof(*t) || l4 + doff > ip_end) return -1;  // userspace: malformed
    if (t->syn || t->fin || t->rst) return -1;  // tcp_flags are not in the key; see docs
    *ports = LOAD32(l4);
    return 0;
  }
  return -1;
}

// IPv4: the compact key of the IPv4 map, in wire order (xdp_fast_abi.h),
// every byte stored (no memset).  `vlan`: the tag's 4 bytes with the
// present bit, 0 untagged.
static __always_inline int parse_ipv4(void* data, void* end, void* l3, __u32 vlan,
                                      struct fp_xdp_key4* k) {
  struct iphdr* ip = l3;
  if ((void*)(ip + 1) > end) return -1;
  __u8 vihl = *(__u8*)ip;
  __u32 ihl = (vihl & 0x0f) * 4;
  __u32 tot = bpf_ntohs(ip->tot_len);
  if ((vihl >> 4) != 4 || ihl < sizeof(*ip) || tot < ihl || l3 + tot > end) return -1;
  if (ip->frag_off & bpf_htons(0x3fff)) return -1;  // MF or an offset: a fragment
  __u32 ports;
  if (parse_l4(l3 + ihl, end, l3 + tot, ip->protocol, &ports)) return -1;
  *(__u64*)k->macs = LOAD64(data);  // dl_dst, dl_src
  *(__u32*)(k->macs + 8) = LOAD32(data + 8);
  k->in_port = fp_port_no;
  *(__u32*)k->vlan = vlan;
  *(__u32*)k->src = ip->saddr;
  *(__u32*)k->dst = ip->daddr;
  *(__u32*)k->tp = ports;
  *(__u16*)&k->nw_ttl = LOAD16(&ip->ttl);  // ttl, protocol
  k->nw_tos = ip->tos;
  k->pad0 = 0;
  return 0;
}

// IPv6: the full key (host-order scalars, as xdp_key_from builds it).
static __always_inline int parse_ipv6(void* data, void* end, void* l3, __u32 vlan,
                                      struct fp_xdp_key* k) {
  struct ipv6hdr* ip = l3;
  if ((void*)(ip + 1) > end) return -1;
  if (ip->version != 6) return -1;
  void* l4 = (void*)(ip + 1);
  void* l4_end = l4 + bpf_ntohs(ip->payload_len);
  if (l4_end > end) return -1;
  __u32 ports;
  if (parse_l4(l4, end, l4_end, ip->nexthdr, &ports)) return -1;
  k->in_port = fp_port_no;
  __builtin_memcpy(k->dl_dst, data, 6);
  __builtin_memcpy(k->dl_src, data + 6, 6);
  k->dl_type = ETH_P_IPV6;
  k->vlan_tpid = bpf_ntohs(((__u16*)&vlan)[0]);
  k->vlan_tci = bpf_ntohs(((__u16*)&vlan)[1]);
  __u32 vtf = bpf_ntohl(*(__be32*)ip);
  k->ipv6_label = vtf & 0xfffff;
  k->nw_tos = (__u8)(vtf >> 20);
  k->nw_ttl = ip->hop_limit;
  k->nw_proto = ip->nexthdr;
  __builtin_memcpy(k->src, &ip->saddr, 16);
  __builtin_memcpy(k->dst, &ip->daddr, 16);
  k->tp_src = bpf_ntohs(((__u16*)&ports)[0]);
  k->tp_dst = bpf_ntohs(((__u16*)&ports)[1]);
  return 0;
}

static __always_inline int has_tag(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + 18 > end) return 0;
  return is_vlan(((struct ethhdr*)data)->h_proto);
}

// The 12 MAC bytes move by 4 through a local copy (the ranges overlap).
static __always_inline int push_tag(struct xdp_md* ctx, __u16 tpid, __u16 tci) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + 14 > end) return 0;  // userspace: skipped
  __u8 macs[12];
  __builtin_memcpy(macs, data, 12);
  if (bpf_xdp_adjust_head(ctx, -4)) return -1;
  data = (void*)(long)ctx->data;
  end = (void*)(long)ctx->data_end;
  if (data + 16 > end) return -1;
  __builtin_memcpy(data, macs, 12);
  __u16* t = data + 12;
  t[0] = bpf_htons(tpid);
  t[1] = bpf_htons(tci & ~0x1000);
  return 0;
}

static __always_inline int pop_tag(struct xdp_md* ctx) {
  if (!has_tag(ctx)) return 0;
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + 18 > end) return 0;
  __u8 macs[12];
  __builtin_memcpy(macs, data, 12);
  __builtin_memcpy(data + 4, macs, 12);
  return bpf_xdp_adjust_head(ctx, 4) ? -1 : 0;
}

static __always_inline int rewrite_tci(struct xdp_md* ctx, __u16 mask, __u16 bits) {
  if (!has_tag(ctx) && push_tag(ctx, ETH_P_8021Q, 0)) return -1;
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + 16 > end) return 0;  // too short to carry a tag: skipped
  __u16* tci = data + 14;
  __u16 v = bpf_ntohs(*tci);
  *tci = bpf_htons(((v & ~mask) | (bits & mask)) & ~0x1000);
  return 0;
}

// Set-field, as action/set_field.hpp does it: RFC 1624 eq. 3 incremental
// checksums (so the result equals a recomputation), a field already at its
// value left alone (the checksum keeps its representation), a UDP checksum
// of zero left at zero and a result of zero stored as 0xffff.  A frame the
// op cannot reach is left unchanged (userspace: kSkipped).
static __always_inline __u16 csum_fold(__u32 s) {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return (__u16)s;
}

static __always_inline __u16 csum_replace16(__u16 c, __u16 old, __u16 neu) {
  return (__u16)~csum_fold((__u32)(__u16)~c + (__u16)~old + neu);
}

static __always_inline __u16 csum_replace32(__u16 c, __u32 old, __u32 neu) {
  __u32 s = (__u32)(__u16)~c + (__u16) ~(old >> 16) + (__u16)~old + (neu >> 16) + (neu & 0xffff);
  return (__u16)~csum_fold(s);
}

static __always_inline void set_eth(struct xdp_md* ctx, const struct fp_xdp_op* op) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + 14 > end) return;
  __builtin_memcpy(data + (op->field ? 6 : 0), op->mac, 6);
}

// The IPv4 header at op->l3, or NULL.
static __always_inline __u8* ipv4_at(struct xdp_md* ctx, const struct fp_xdp_op* op) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u32 l3 = op->l3;
  if (l3 > FP_XDP_MAX_L3) return 0;
  __u8* ip = data + l3;
  if ((void*)(ip + 20) > end || (ip[0] >> 4) != 4) return 0;
  return ip;
}

// The TCP/UDP checksum field of the L4 header l4 (NULL: none there).
static __always_inline __u16* l4_csum(struct xdp_md* ctx, __u8* l4, __u8 proto) {
  void* end = (void*)(long)ctx->data_end;
  if (proto == IPPROTO_TCP && (void*)(l4 + 18) <= end) return (__u16*)(l4 + 16);
  if (proto == IPPROTO_UDP && (void*)(l4 + 8) <= end) return (__u16*)(l4 + 6);
  return 0;
}

// The L4 header after the IP header at op->l3: IPv4 (any IHL) or IPv6
// without extension headers (the parser punts those, so a hit has none).
// Ports are not in the IPv6 pseudo-header: a port rewrite is the same
// 16-bit update under both.  NULL: no IP header there.
static __always_inline __u8* l4_at(struct xdp_md* ctx, const struct fp_xdp_op* op, __u8* proto) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u32 l3 = op->l3;
  if (l3 > FP_XDP_MAX_L3) return 0;
  __u8* ip = data + l3;
  if ((void*)(ip + 20) > end) return 0;
  if ((ip[0] >> 4) == 4) {
    __u32 hlen = (ip[0] & 0x0f) * 4;
    if (hlen < 20) return 0;
    *proto = ip[9];
    return ip + hlen;
  }
  if ((ip[0] >> 4) != 6 || (void*)(ip + 40) > end) return 0;
  *proto = ip[6];
  return ip + 40;
}

static __always_inline void update_l4(__u16* f, __u8 proto, __u32 old, __u32 neu, int wide) {
  __u16 c = bpf_ntohs(*f);
  if (proto == IPPROTO_UDP && c == 0) return;
  c = wide ? csum_replace32(c, old, neu) : csum_replace16(c, (__u16)old, (__u16)neu);
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  *f = bpf_htons(c);
}

static __always_inline void set_ipv4_addr(struct xdp_md* ctx, const struct fp_xdp_op* op) {
  __u8* ip = ipv4_at(ctx, op);
  if (!ip) return;
  __be32* a = (__be32*)(ip + (op->field == 12 ? 12 : 16));
  __u32 old = bpf_ntohl(*a), neu = op->addr;
  if (old == neu) return;
  *a = bpf_htonl(neu);
  __u16* ck = (__u16*)(ip + 10);
  *ck = bpf_htons(csum_replace32(bpf_ntohs(*ck), old, neu));
  __u32 hlen = (ip[0] & 0x0f) * 4;
  __u16* f = hlen < 20 ? 0 : l4_csum(ctx, ip + hlen, ip[9]);
  if (f) update_l4(f, ip[9], old, neu, 1);
}

static __always_inline void set_ipv4_word(struct xdp_md* ctx, const struct fp_xdp_op* op) {
  __u8* ip = ipv4_at(ctx, op);
  if (!ip) return;
  __u16* w = (__u16*)(ip + (op->field == 8 ? 8 : 0));
  __u16 old = bpf_ntohs(*w);
  __u16 neu = (old & ~op->mask) | (op->bits & op->mask);
  if (old == neu) return;
  *w = bpf_htons(neu);
  __u16* ck = (__u16*)(ip + 10);
  *ck = bpf_htons(csum_replace16(bpf_ntohs(*ck), old, neu));
}

static __always_inline void set_tp_port(struct xdp_md* ctx, const struct fp_xdp_op* op) {
  __u8 proto = 0;
  __u8* l4 = l4_at(ctx, op, &proto);
  if (!l4) return;
  __u16* f = l4_csum(ctx, l4, proto);
  if (!f) return;  // SCTP and the rest: never offloaded (the key has TCP/UDP only)
  void* end = (void*)(long)ctx->data_end;
  __u16* p = (__u16*)(l4 + (op->field ? 2 : 0));
  if ((void*)(p + 1) > end) return;
  __u16 old = bpf_ntohs(*p), neu = op->bits;
  if (old == neu) return;
  *p = bpf_htons(neu);
  update_l4(f, proto, old, neu, 0);
}

// One op; nonzero: the packet is dropped (a failed VLAN push, as userspace).
static __always_inline int run_op(struct xdp_md* ctx, const struct fp_xdp_op* op) {
  switch (op->type) {
    case FP_XDP_OP_POP_VLAN:
      return pop_tag(ctx);
    case FP_XDP_OP_PUSH_VLAN:
      return push_tag(ctx, op->tpid, op->bits);
    case FP_XDP_OP_REWRITE_TCI:
      return rewrite_tci(ctx, op->mask, op->bits);
    case FP_XDP_OP_SET_ETH:
      set_eth(ctx, op);
      return 0;
    case FP_XDP_OP_SET_IPV4_ADDR:
      set_ipv4_addr(ctx, op);
      return 0;
    case FP_XDP_OP_SET_IPV4_WORD:
      set_ipv4_word(ctx, op);
      return 0;
    case FP_XDP_OP_SET_TP_PORT:
      set_tp_port(ctx, op);
      return 0;
  }
  return 0;
}

// The entry in `slot` if it holds exactly the IPv4 key k (8-byte
// aligned), or NULL.  Each shared word is read once (volatile): the writer
// may change it between two reads.
static __always_inline struct fp_xdp_flow* slot4(__u32 slot, const struct fp_xdp_key4* k) {
  if (slot >= FP_XDP_MAX_FLOWS) return 0;  // FP_XDP_EMC_EMPTY
  struct fp_xdp_slot* s = bpf_map_lookup_elem(&fp_slots, &slot);
  if (!s || *(volatile __u32*)&s->valid != FP_XDP_SLOT_IPV4) return 0;
  const __u64* w = (const __u64*)k;
  const __u64* v = (const __u64*)&s->key4;
  __u64 diff = (v[0] ^ w[0]) | (v[1] ^ w[1]) | (v[2] ^ w[2]) | (v[3] ^ w[3]) |
               (*(const __u32*)(v + 4) ^ *(const __u32*)(w + 4));
  return diff ? 0 : &s->flow;
}

// The same for the IPv6 key k.
static __always_inline struct fp_xdp_flow* slot6(__u32 slot, const struct fp_xdp_key* k) {
  if (slot >= FP_XDP_MAX_FLOWS) return 0;
  struct fp_xdp_slot* s = bpf_map_lookup_elem(&fp_slots, &slot);
  if (!s || *(volatile __u32*)&s->valid != FP_XDP_SLOT_IPV6) return 0;
  const __u64* w = (const __u64*)k;
  const __u64* v = (const __u64*)&s->key;
  __u64 diff = 0;
  for (int i = 0; i < (int)(sizeof(struct fp_xdp_key) / 8); i++) diff |= v[i] ^ w[i];
  return diff ? 0 : &s->flow;
}

// The slot a hash map gives for a key (read once), or FP_XDP_EMC_EMPTY.
static __always_inline __u32 slot_of(const __u32* v) {
  return v ? *(const volatile __u32*)v : FP_XDP_EMC_EMPTY;
}

// The cached IPv4 entry of k, or NULL: fp_emc's slot for k's index, if
// that slot holds k.
static __always_inline struct fp_xdp_flow* emc_lookup(const struct fp_xdp_key4* k) {
  const __u64* w = (const __u64*)k;
  __u32 tail = *(const __u32*)(w + 4);
  __u32 idx = fp_xdp_emc_index(w[0], w[1], w[2], w[3], tail);
  __u64* e = bpf_map_lookup_elem(&fp_emc, &idx);
  if (!e) return 0;
  return slot4((__u32) * (volatile __u64*)e, k);
}

// The lookup: IPv4 in the cache, then the IPv4 map under the compact key,
// the IPv6 map under the full one; NULL with *why set when the packet goes
// to the PMD.
static __always_inline struct fp_xdp_flow* lookup(struct xdp_md* ctx, __u32* why) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  *why = FP_XDP_STAT_PUNT;
  if (data + 14 > end) return 0;
  __u16 type = LOAD16(data + 12);
  void* l3 = data + 14;
  __u32 vlan = 0;  // TPID + TCI as on the wire, TCI | 0x1000 (FlowKey's "present")
  if (is_vlan(type)) {
    if (data + 18 > end) return 0;
    vlan = LOAD32(data + 12) | bpf_htonl(0x1000);
    type = LOAD16(data + 16);
    l3 = data + 18;
    if (is_vlan(type)) return 0;  // a second tag: the PMD's
  }
  struct fp_xdp_flow* f = 0;
  if (type == bpf_htons(ETH_P_IP)) {
    struct fp_xdp_key4 k __attribute__((aligned(8)));
    if (parse_ipv4(data, end, l3, vlan, &k)) return 0;
#if defined(FP_XDP_PROFILE_CUT) && FP_XDP_PROFILE_CUT == 1
    asm volatile("" : : "r"(&k) : "memory");  // the key is built, not looked up
    *why = FP_XDP_STAT_COUNT;
    return 0;
#endif
    f = emc_lookup(&k);
    if (!f) {
      __u32* v = bpf_map_lookup_elem(&fp_flows4, &k);
      // Keeps clang from merging this call with the IPv6 one below into
      // one call instruction: a call site that sees two maps is not
      // inlined by the verifier (its map pointer is "poisoned"), and the
      // out-of-line helper made every lookup ~10 ns dearer
      // (bench/e2e/xdp_hop_cost.cpp).
      asm volatile("" : "+r"(v));
      f = slot4(slot_of(v), &k);
    }
#if defined(FP_XDP_PROFILE_CUT) && FP_XDP_PROFILE_CUT == 2
    if (f) {  // found: stop here (told apart as cut 1 is, on this path only)
      *why = FP_XDP_STAT_COUNT;
      return 0;
    }
#endif
  } else if (type == bpf_htons(ETH_P_IPV6)) {
    struct fp_xdp_key k __attribute__((aligned(8)));
    __builtin_memset(&k, 0, sizeof(k));
    if (parse_ipv6(data, end, l3, vlan, &k)) return 0;
    __u32* v = bpf_map_lookup_elem(&fp_flows, &k);
    asm volatile("" : "+r"(v));
    f = slot6(slot_of(v), &k);
  } else {
    return 0;  // ARP and the rest
  }
  *why = FP_XDP_STAT_MISS;
  return f;
}

SEC("xdp")
int fp_xdp_fast(struct xdp_md* ctx) {
  __u32 why;
  struct fp_xdp_flow* f = lookup(ctx, &why);
#ifdef FP_XDP_PROFILE_CUT
  if (FP_XDP_PROFILE_CUT <= 2 && why == FP_XDP_STAT_COUNT) return bpf_redirect_map(&fp_ports, 2, 0);
#endif
  if (!f) return to_pmd(ctx, why);
  __u32 n = f->n_ops;
  if (n > FP_XDP_MAX_OPS) return to_pmd(ctx, FP_XDP_STAT_ABORT);
  __u32 slot = f->slot;
  struct fp_xdp_count* c = bpf_map_lookup_elem(&fp_counts, &slot);
  if (!c) return to_pmd(ctx, FP_XDP_STAT_ABORT);
  // The output port is checked before the frame is touched, so a port that
  // left the switch sends its packets to the PMD unchanged.
  int out = 0;
  __u32 last = (n - 1) & 7;
  if (n > 0 && last < FP_XDP_MAX_OPS && f->ops[last].type == FP_XDP_OP_OUTPUT) {
    if (bpf_redirect_map(&fp_ports, f->ops[last].port, 0) != XDP_REDIRECT)
      return to_pmd(ctx, FP_XDP_STAT_ABORT);
    out = 1;
  }
  // This CPU's counters: XDP runs with migration off, so plain adds are
  // exact (no lock prefix, no cache line shared between CPUs).
  c->packets += 1;
  c->bytes += (__u64)(ctx->data_end - ctx->data);
  count(FP_XDP_STAT_HIT);
#ifdef FP_XDP_PROFILE_CUT
  if (FP_XDP_PROFILE_CUT == 3) return out ? XDP_REDIRECT : XDP_DROP;  // no ops
#endif
  for (__u32 i = 0; i < FP_XDP_MAX_OPS; i++) {
    if (i >= n) break;
    if (run_op(ctx, &f->ops[i])) return XDP_DROP;
  }
  return out ? XDP_REDIRECT : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
