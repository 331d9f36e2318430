# Runs `CLI parse-flows [OPTS] INPUT`.  With EXPECTED: must succeed and
# print it.  With ERROR: must fail and print a stderr line matching the
# regex ERROR.  OPTS: e.g. "-O;OpenFlow13".
execute_process(COMMAND ${CLI} parse-flows ${OPTS} ${INPUT}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(DEFINED ERROR)
  if(rc EQUAL 0 OR NOT err MATCHES "${ERROR}")
    message(FATAL_ERROR "expected failure matching '${ERROR}', got rc=${rc}: ${err}")
  endif()
  return()
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "parse-flows failed (${rc}): ${err}")
endif()
file(READ ${EXPECTED} expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "parse-flows output differs.\n--- got\n${out}--- expected\n${expected}")
endif()
