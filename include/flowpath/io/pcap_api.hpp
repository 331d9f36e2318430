// flowpath/io/pcap_api.hpp — libpcap's <pcap/pcap.h>, safe beside libbpf.
//
// libpcap's <pcap/bpf.h> (classic BPF) and the kernel's <linux/bpf.h>
// (eBPF, pulled in by libbpf and libxdp for the AF_XDP ports) both define
// `struct bpf_insn`, differently, so a translation unit that includes
// flowpath's pcap ports and its AF_XDP ports would not compile, in either
// order.  flowpath includes libpcap through this header, which names
// libpcap's structure `struct pcap_bpf_insn` instead: the libpcap functions
// are C functions (no mangled names), and the layout is unchanged, so
// nothing else differs.  Code that uses libpcap's classic-BPF instructions
// by name after including flowpath spells them `pcap_bpf_insn`.
#pragma once

#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn
