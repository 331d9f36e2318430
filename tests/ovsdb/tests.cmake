# examples/ovsdb (ovsdb-watch) against a private ovsdb-server: it must show
# what ovs-vsctl configured, with the per-interface error of a bad type.
if(TARGET flowpath_ovsdb_watch)
  add_test(NAME ovsdb_watch_example
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/watch_example.sh $<TARGET_FILE:flowpath_ovsdb_watch>)
  set_tests_properties(ovsdb_watch_example PROPERTIES LABELS ovsdb TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
# The first packet after `ovs-vsctl add-port` returns crosses the new port
# ("" and internal ports), busy-polling and sleeping PMD
# (tests/ovsdb/add_in_effect_test.sh; root, else skipped).
add_test(NAME e2e_ovsdb_add_in_effect
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/add_in_effect_test.sh ${PROJECT_BINARY_DIR})
add_test(NAME e2e_ovsdb_add_in_effect_sleep
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/add_in_effect_test.sh ${PROJECT_BINARY_DIR} 500)
set_tests_properties(e2e_ovsdb_add_in_effect e2e_ovsdb_add_in_effect_sleep PROPERTIES
                     LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
