# `flowpath flows` end to end (needs the examples: the CLI and the
# pcap_sample snippet that writes the input).
if(TARGET flowpath_cli AND TARGET snippet_pcap_sample)
  add_test(NAME io_flows_cli
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/flows_cli_test.sh
                   $<TARGET_FILE:flowpath_cli> $<TARGET_FILE:snippet_pcap_sample>
                   ${PROJECT_BINARY_DIR}/io_flows_cli)
  set_tests_properties(io_flows_cli PROPERTIES LABELS io TIMEOUT 60
                       PASS_REGULAR_EXPRESSION "flows cli: ok")
endif()
