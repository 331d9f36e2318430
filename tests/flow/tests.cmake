# `flowpath parse-flows` on sample files against what `ovs-ofctl parse-flows`
# prints for them (OpenFlow 1.0 and -O OpenFlow13), and on a file with an
# invalid line (must fail, naming file:line).
if(TARGET flowpath_cli)
  set(_flow_data ${CMAKE_CURRENT_LIST_DIR}/data)
  add_test(NAME flow_parse_flows_cli
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli>
                   -DINPUT=${_flow_data}/flows.txt
                   -DEXPECTED=${_flow_data}/flows.expected
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  add_test(NAME flow_parse_flows_cli_invalid
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli>
                   -DINPUT=${_flow_data}/flows_bad.txt
                   "-DERROR=flows_bad.txt:2: udp: conflicts"
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  add_test(NAME flow_parse_flows_cli_of13
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli> "-DOPTS=-O;OpenFlow13"
                   -DINPUT=${_flow_data}/flows_of13.txt
                   -DEXPECTED=${_flow_data}/flows_of13.expected
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  # Neutron's openvswitch firewall flows (ct, registers, conjunction):
  # expected files are ovs-ofctl 3.1's output for the same input.
  add_test(NAME flow_parse_flows_cli_neutron
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli>
                   -DINPUT=${_flow_data}/neutron_ovsfw.txt
                   -DEXPECTED=${_flow_data}/neutron_ovsfw.expected
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  add_test(NAME flow_parse_flows_cli_neutron_of13
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli> "-DOPTS=-O;OpenFlow13"
                   -DINPUT=${_flow_data}/neutron_ovsfw.txt
                   -DEXPECTED=${_flow_data}/neutron_ovsfw_of13.expected
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  # nat anywhere among ct()'s nested actions (expected: ovs-ofctl 3.1's).
  add_test(NAME flow_parse_flows_cli_ct_nat
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli>
                   -DINPUT=${_flow_data}/ct_nat.txt
                   -DEXPECTED=${_flow_data}/ct_nat.expected
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  add_test(NAME flow_parse_flows_cli_ct_nat_of13
           COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:flowpath_cli> "-DOPTS=-O;OpenFlow13"
                   -DINPUT=${_flow_data}/ct_nat.txt
                   -DEXPECTED=${_flow_data}/ct_nat_of13.expected
                   -P ${CMAKE_CURRENT_LIST_DIR}/parse_flows_check.cmake)
  set_tests_properties(flow_parse_flows_cli flow_parse_flows_cli_invalid flow_parse_flows_cli_of13
                       flow_parse_flows_cli_neutron flow_parse_flows_cli_neutron_of13
                       flow_parse_flows_cli_ct_nat flow_parse_flows_cli_ct_nat_of13
                       PROPERTIES LABELS flow)
endif()
