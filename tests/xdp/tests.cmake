# The XDP fast path on real veths in namespaces (needs root; 77 = skipped).
add_test(NAME xdp_veth COMMAND ${CMAKE_CURRENT_LIST_DIR}/xdp_veth_test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(xdp_veth PROPERTIES LABELS xdp TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# The seed's veth-pair shape: br-int and br-eth2 joined by int-br-eth2 <-> phy-br-eth2.
add_test(NAME xdp_veth_pair COMMAND ${CMAKE_CURRENT_LIST_DIR}/xdp_veth_test.sh ${PROJECT_BINARY_DIR} veth-pair)
set_tests_properties(xdp_veth_pair PROPERTIES LABELS xdp TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
