/* flowpath/io/xdp_fast_abi.h — the layout shared by the XDP fast-path
 * program (bpf/flowpath_xdp.bpf.c, compiled with clang -target bpf) and its
 * userspace writer (io/xdp_fast_path.hpp, datapath/xdp_offload.hpp).
 *
 * Plain C, no includes beyond fixed-width types, so both compilers see one
 * definition.  Scalars are host order (the program converts as it parses);
 * addresses are wire bytes.  Every struct is padded explicitly: the kernel
 * hashes the whole key, so padding must be zero on both sides.
 *
 * Key: the exact-match fields of one flow (a subset of FlowKey: the fields
 * the program can parse).  IPv4 flows live in a map of their own under the
 * compact fp_xdp_key4 (36 bytes instead of 72, wire order: the program
 * builds it with a few wide loads, and the kernel hashes and compares half
 * as many bytes on every lookup); io/xdp_fast_path.hpp converts, so
 * userspace speaks fp_xdp_key only.  An entry: its key and its flow (the
 * actions as ops, the output port and the slot of its kernel-hit counters,
 * per-CPU, read back by the PMD) in fp_slots at that slot; the hash maps
 * map keys to slots.  Thread-safety: n/a (a layout).
 */
#ifndef FLOWPATH_IO_XDP_FAST_ABI_H
#define FLOWPATH_IO_XDP_FAST_ABI_H

#ifdef __cplusplus
#include <cstdint>
#define FP_U8 std::uint8_t
#define FP_U16 std::uint16_t
#define FP_U32 std::uint32_t
#define FP_U64 std::uint64_t
#else
#define FP_U8 __u8
#define FP_U16 __u16
#define FP_U32 __u32
#define FP_U64 __u64
#endif

#define FP_XDP_MAX_OPS 8
#define FP_XDP_MAX_PORTS 1024 /* devmap slots: datapath port numbers */
#define FP_XDP_MAX_FLOWS 65536
#define FP_XDP_MAX_L3 30 /* IP header offset bound: Ethernet + 4 tags */

/* Ops run in order, as action/executor.hpp runs the datapath actions up to
 * the last output.  The set-field ops mirror action/set_field.hpp: `l3` is
 * where the IP header (IPv4; IPv6 for the port op) is in the frame when the
 * op runs (the encoder knows the tag depth from the key and the earlier
 * ops), `field` the offset of the field inside its header. */
enum fp_xdp_op_type {
  FP_XDP_OP_NONE = 0,
  FP_XDP_OP_POP_VLAN = 1,
  FP_XDP_OP_PUSH_VLAN = 2,     /* tpid, bits = TCI */
  FP_XDP_OP_REWRITE_TCI = 3,   /* mask, bits; pushes 0x8100/TCI 0 first if untagged */
  FP_XDP_OP_OUTPUT = 4,        /* port: devmap slot; always the last op */
  FP_XDP_OP_SET_ETH = 5,       /* field 0 (dst) or 6 (src) := mac */
  FP_XDP_OP_SET_IPV4_ADDR = 6, /* field 12 (src) or 16 (dst) := addr; IP + L4 checksums */
  FP_XDP_OP_SET_IPV4_WORD = 7, /* 16-bit word at field := (w & ~mask) | bits; IP checksum */
  FP_XDP_OP_SET_TP_PORT = 8,   /* TCP/UDP port at field 0 (src) or 2 (dst) := bits; L4 checksum;
                                  IPv4 or IPv6 (told by the version nibble at l3) */
};

struct fp_xdp_op {
  FP_U8 type;
  FP_U8 field;
  FP_U16 tpid;
  FP_U16 mask;
  FP_U16 bits;
  FP_U32 port;
  FP_U32 addr; /* IPv4 address, host order */
  FP_U16 l3;
  FP_U8 mac[6];
};

struct fp_xdp_key {
  FP_U32 in_port; /* datapath port number */
  FP_U8 dl_dst[6];
  FP_U8 dl_src[6];
  FP_U16 dl_type;   /* after the tag, as FlowKey */
  FP_U16 vlan_tpid; /* 0 when untagged */
  FP_U16 vlan_tci;  /* wire TCI | 0x1000 (present), as FlowKey; 0 untagged */
  FP_U8 nw_proto;
  FP_U8 nw_tos;
  FP_U8 nw_ttl;
  FP_U8 pad0[3];
  FP_U32 ipv6_label; /* 20 bits; 0 for IPv4 */
  FP_U8 src[16];     /* IPv4: first 4 bytes */
  FP_U8 dst[16];
  FP_U16 tp_src;
  FP_U16 tp_dst;
  FP_U8 pad1[4];
};

/* The IPv4 form of fp_xdp_key (dl_type 0x0800 and ipv6_label 0 implied),
 * the key of the IPv4 flow map, laid out for the program to build with a
 * few wide loads and aligned stores: every field is in WIRE order, as the
 * bytes sit in the frame (the 12 MAC bytes, the tag's TPID and TCI, the
 * addresses, the two L4 ports), the TCI with FlowKey's 0x1000 "present"
 * bit set (as fp_xdp_key.vlan_tci), all zero when untagged.  Built from an
 * fp_xdp_key by XdpFastPath::key4_of.  No padding but pad0 (zero). */
struct fp_xdp_key4 {
  FP_U8 macs[12]; /* dl_dst, dl_src */
  FP_U32 in_port; /* host order: the loader's datapath port number */
  FP_U8 vlan[4];  /* TPID, TCI | 0x1000 (wire order); 0 untagged */
  FP_U8 src[4];
  FP_U8 dst[4];
  FP_U8 tp[4]; /* source port, destination port (wire order) */
  FP_U8 nw_ttl;
  FP_U8 nw_proto; /* ttl and proto: adjacent, as in the IPv4 header */
  FP_U8 nw_tos;
  FP_U8 pad0;
};

/* packets/bytes: the entry's kernel hits.  The program does not write
 * them in the map (they stay 0 there): it counts in fp_counts[slot], per
 * CPU, plain adds instead of two locked ones per packet; XdpFastPath
 * assigns the slot on insert and fills packets/bytes from the per-CPU sums
 * when it reads an entry back. */
struct fp_xdp_flow {
  FP_U64 packets;
  FP_U64 bytes; /* frame bytes before actions, as the userspace path */
  FP_U32 n_ops;
  FP_U32 slot; /* index in fp_counts */
  struct fp_xdp_op ops[FP_XDP_MAX_OPS];
};

/* Entries live in fp_slots, one per counter slot: the entry's own key and
 * its flow.  The two hash maps (fp_flows4 under fp_xdp_key4, fp_flows
 * under fp_xdp_key) map a key to its slot number, nothing more, and the
 * program takes an entry only after comparing the slot's key with the
 * packet's in full.  The kernel reuses a deleted hash element at once (a
 * preallocated map's free list): a program that found key A's element may
 * read it after a delete and an insert turned it into key B's.  Holding
 * only a slot number there, it reads B's slot, B's key fails the compare,
 * and the packet goes to the PMD; had the element held the flow, A's
 * packet would have run B's actions.  A slot, unlike a hash element, is
 * reused only after XdpFastPath's quarantine (1024 other inserts), long
 * after any program run that found it.
 *
 * The exact-match cache in front of fp_flows4 (an EMC: IPv4 only).  A
 * hash-map lookup costs ~27-34 ns on this machine's kernel (8- to 36-byte
 * keys, timed alone with BPF_PROG_RUN; docs/benchmarks.md), an array
 * lookup nothing (the verifier inlines it): so an IPv4 packet first tries
 * fp_emc[fp_xdp_emc_index(key)] -> slot, and looks in fp_flows4 only when
 * that slot is not its own (the cache holds the last inserted entry of
 * each index).  fp_emc and fp_slots are mmapped by XdpFastCache
 * (io/xdp_fast_cache.hpp), which writes them with ordered stores: slot
 * content first, then `valid`, then the hash map and the index; a delete
 * removes the hash element, clears the index, then `valid`.  (x86-64's
 * ordering of plain loads is what the program's reads rely on; the
 * verifier adds no barriers.) */
#define FP_XDP_EMC_BITS 16
#define FP_XDP_EMC_EMPTY 0xffffffffu /* fp_emc value: no slot */

/* fp_xdp_slot.valid */
#define FP_XDP_SLOT_FREE 0u
#define FP_XDP_SLOT_IPV4 1u /* key4 holds the key (the rest of the union zero) */
#define FP_XDP_SLOT_IPV6 2u /* key holds the key */

struct fp_xdp_slot {
  union {
    struct fp_xdp_key4 key4; /* 36 bytes: compared as 4 x 8 + 4 */
    struct fp_xdp_key key;   /* 72 bytes: compared as 9 x 8 */
  };
  FP_U32 valid; /* FP_XDP_SLOT_*: which key, while the entry is in its hash map */
  FP_U32 pad0;
  struct fp_xdp_flow flow;
};

/* The fp_emc index of a key4 read as 4 native 64-bit words and a 32-bit
 * tail (the program loads them so; XdpFastPath with memcpy): a
 * multiply-xor chain, the top FP_XDP_EMC_BITS bits.  Not keyed: a
 * crafted collision costs only the fallback lookup, never a decision. */
static inline __attribute__((always_inline)) FP_U32 fp_xdp_emc_index(FP_U64 w0, FP_U64 w1,
                                                                     FP_U64 w2, FP_U64 w3,
                                                                     FP_U32 w4) {
  const FP_U64 m = 0x9e3779b97f4a7c15ULL;
  FP_U64 h = w0 * m;
  h = (h ^ w1) * m;
  h = (h ^ w2) * m;
  h = (h ^ w3) * m;
  h = (h ^ w4) * m;
  return (FP_U32)(h >> (64 - FP_XDP_EMC_BITS));
}

/* fp_counts value (per-CPU array, FP_XDP_MAX_FLOWS slots). */
struct fp_xdp_count {
  FP_U64 packets;
  FP_U64 bytes;
};

/* Per-CPU program counters, array index: */
enum fp_xdp_stat {
  FP_XDP_STAT_HIT = 0,   /* forwarded or dropped by a flow entry */
  FP_XDP_STAT_MISS = 1,  /* parsed, no entry: to the PMD */
  FP_XDP_STAT_PUNT = 2,  /* not parseable by the program: to the PMD */
  FP_XDP_STAT_ABORT = 3, /* entry could not be applied (no headroom, port gone): to the PMD */
  FP_XDP_STAT_COUNT = 4,
};

#undef FP_U8
#undef FP_U16
#undef FP_U32
#undef FP_U64
#endif
