# A real controller (os-ken) drives `flowpath switch` between two
# namespaces (tests/openflow/osken_test.sh); needs root, exit 77 = skipped.
add_test(NAME openflow_osken
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/osken_test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(openflow_osken PROPERTIES
                     LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
