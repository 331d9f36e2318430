// examples/snippets/conntrack_firewall.hpp — the stateful firewall of the
// conntrack_datapath snippet, in the flowpath configuration syntax
// (ovs-vsctl/ovs-ofctl words): bridge br, ports a (1) and b (2); a → b is
// allowed when new and committed in zone 7, b → a only as an established
// reply.  reg5 remembers the ingress port across the recirculation.
// bench/datapath/conntrack_datapath_bench.cpp measures the same flows.
// A constant: no cost, thread-safe.
#pragma once

namespace flowpath::snippets {

inline constexpr const char* kStatefulFirewall = R"(add-br br
add-port br a ofport=1 type=memory
add-port br b ofport=2 type=memory
add-flow br priority=10,ip,in_port=1 actions=load:1->NXM_NX_REG5[],ct(table=1,zone=7)
add-flow br priority=10,ip,in_port=2 actions=load:2->NXM_NX_REG5[],ct(table=1,zone=7)
add-flow br table=1,priority=10,ct_state=+new+trk,ip,reg5=1 actions=ct(commit,zone=7),output:2
add-flow br table=1,priority=10,ct_state=+est+trk,reg5=1 actions=output:2
add-flow br table=1,priority=10,ct_state=+est+trk,reg5=2 actions=output:1
)";

}  // namespace flowpath::snippets
