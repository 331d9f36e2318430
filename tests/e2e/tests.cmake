# e2e tests (scripts): need root; exit code 77 means skipped.
add_test(NAME e2e_topology
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/topology_test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_topology PROPERTIES LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
# flowpath switch on the compute-node topology (tests/e2e/switch_test.sh):
# one PMD thread, and two (ports split between threads).
add_test(NAME e2e_switch
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/switch_test.sh ${PROJECT_BINARY_DIR})
add_test(NAME e2e_switch_2pmd
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/switch_test.sh ${PROJECT_BINARY_DIR} 0,1)
set_tests_properties(e2e_switch e2e_switch_2pmd PROPERTIES
                     LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# flowpath switch --db following a private real ovsdb-server, changed live
# with ovs-vsctl (tests/e2e/ovsdb_switch_test.sh).
add_test(NAME e2e_ovsdb_switch
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ovsdb_switch_test.sh ${PROJECT_BINARY_DIR})
add_test(NAME e2e_ovsdb_switch_2pmd
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ovsdb_switch_test.sh ${PROJECT_BINARY_DIR} 0,1)
add_test(NAME e2e_ovsdb_switch_sleep
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ovsdb_switch_test.sh ${PROJECT_BINARY_DIR} 0,1 500)
set_tests_properties(e2e_ovsdb_switch e2e_ovsdb_switch_2pmd e2e_ovsdb_switch_sleep PROPERTIES
                     LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# Neutron's openvswitch firewall flows (security groups) on the compute node,
# the same script against the real ovs-vswitchd (the oracle) and against
# flowpath switch --db (tests/e2e/neutron_sg_test.sh, issue 12 §4).
add_test(NAME e2e_neutron_sg_ovs
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/neutron_sg_test.sh ${PROJECT_BINARY_DIR} ovs)
add_test(NAME e2e_neutron_sg_flowpath
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/neutron_sg_test.sh ${PROJECT_BINARY_DIR} flowpath)
add_test(NAME e2e_neutron_sg_flowpath_2pmd
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/neutron_sg_test.sh ${PROJECT_BINARY_DIR} flowpath 0,1)
set_tests_properties(e2e_neutron_sg_ovs e2e_neutron_sg_flowpath e2e_neutron_sg_flowpath_2pmd PROPERTIES
                     LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# What ovs-vsctl reads back (ofport/error with cur_cfg, ifindex, mtu, status,
# statistics), flowpath against the real ovs-vswitchd
# (tests/e2e/ovsdb_vsctl_columns_test.sh).
add_test(NAME e2e_ovsdb_vsctl_columns
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ovsdb_vsctl_columns_test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_ovsdb_vsctl_columns PROPERTIES
                     LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
