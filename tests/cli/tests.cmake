# The CLI's help texts (every command described, with an example).
if(TARGET flowpath_cli)
  add_test(NAME cli_help COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/help_test.sh
                                 $<TARGET_FILE:flowpath_cli>)
  set_tests_properties(cli_help PROPERTIES LABELS cli TIMEOUT 60
                       PASS_REGULAR_EXPRESSION "help: ok")
endif()
