// vlan_host.bpf.c — gives a host a VLAN "subinterface" on kernels without
// the 802.1Q module (tc cls_bpf, direct-action).
//
// Used on a veth end that is a port of a plain Linux bridge carrying a
// trunk (scripts/netns/topology.sh, namespace "remote"):
//
//   trunk ── bridge ── xN ═══ vN (host address for VLAN N)
//
//   tc filter add dev xN egress  bpf da obj vlan_host.bpf.o sec tc/pop_N
//   tc filter add dev xN ingress bpf da obj vlan_host.bpf.o sec tc/push_N
//
// pop_N (egress of xN, towards the host): frames tagged N lose the tag,
// every other frame (other VLANs, untagged) is dropped — the host sees
// only its VLAN, untagged, as a real subinterface would.
// push_N (ingress of xN, from the host): every frame gets tag N.
// The tag may sit in the frame or in skb metadata (the receive path moves
// it there); both are handled.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __always_inline int vlan_of(struct __sk_buff *skb) {
  if (skb->vlan_present) return skb->vlan_tci & 0x0fff;
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) + 4 > end) return -1;
  if (eth->h_proto != bpf_htons(ETH_P_8021Q)) return -1;
  return bpf_ntohs(*(__u16 *)(eth + 1)) & 0x0fff;
}

static __always_inline int pop(struct __sk_buff *skb, int vid) {
  if (vlan_of(skb) != vid) return TC_ACT_SHOT;
  if (bpf_skb_vlan_pop(skb)) return TC_ACT_SHOT;
  return TC_ACT_OK;
}

static __always_inline int push(struct __sk_buff *skb, int vid) {
  if (skb->vlan_present || bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid))
    return TC_ACT_SHOT;
  return TC_ACT_OK;
}

#define VLAN_HOST(N)                                              \
  SEC("tc/pop_" #N) int pop_##N(struct __sk_buff *s) { return pop(s, N); } \
  SEC("tc/push_" #N) int push_##N(struct __sk_buff *s) { return push(s, N); }

VLAN_HOST(1000)
VLAN_HOST(1001)
VLAN_HOST(1)
VLAN_HOST(2)

char _license[] SEC("license") = "GPL";
