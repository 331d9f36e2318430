# examples/ovsdb (ovsdb-watch) against a private ovsdb-server: it must show
# what ovs-vsctl configured, with the per-interface error of a bad type.
if(TARGET flowpath_ovsdb_watch)
  add_test(NAME ovsdb_watch_example
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/watch_example.sh $<TARGET_FILE:flowpath_ovsdb_watch>)
  set_tests_properties(ovsdb_watch_example PROPERTIES LABELS ovsdb TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
