# Runs `CLI parse-flows INPUT` and compares stdout with EXPECTED.
execute_process(COMMAND ${CLI} parse-flows ${INPUT}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "parse-flows failed (${rc}): ${err}")
endif()
file(READ ${EXPECTED} expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "parse-flows output differs.\n--- got\n${out}--- expected\n${expected}")
endif()
