# e2e tests (scripts): need root; exit code 77 means skipped.
add_test(NAME e2e_topology
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/topology_test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_topology PROPERTIES LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
