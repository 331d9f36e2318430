# Packaging checks (issue 2 §1): install this build tree into a prefix, then
# build and run consumer projects against it:
#   packaging_install           cmake --install <build> --prefix <build>/packaging/prefix
#   packaging_find_package      find_package(flowpath) against that prefix
#   packaging_pkg_config        flowpath.pc from that prefix (pkg-config)
#   packaging_add_subdirectory  add_subdirectory(<source tree>), and checks
#                               that no tests/benches/examples get built
# The consumers are configured with the compiler of this build but none of
# its flags, as an outside project would be.
set(_pkg_src ${CMAKE_CURRENT_LIST_DIR})
set(_pkg_bin ${PROJECT_BINARY_DIR}/packaging)
set(_pkg_prefix ${_pkg_bin}/prefix)

file(WRITE ${_pkg_bin}/install.cmake
     "file(REMOVE_RECURSE \"${_pkg_prefix}\")\n"
     "execute_process(COMMAND \"${CMAKE_COMMAND}\" --install \"${PROJECT_BINARY_DIR}\" "
     "--prefix \"${_pkg_prefix}\" RESULT_VARIABLE rc)\n"
     "if(NOT rc EQUAL 0)\n  message(FATAL_ERROR \"cmake --install failed: \${rc}\")\nendif()\n"
     "if(NOT EXISTS \"${_pkg_prefix}/${CMAKE_INSTALL_LIBDIR}/cmake/flowpath/flowpathConfig.cmake\")\n"
     "  message(FATAL_ERROR \"flowpathConfig.cmake was not installed\")\nendif()\n")
add_test(NAME packaging_install COMMAND ${CMAKE_COMMAND} -P ${_pkg_bin}/install.cmake)
set_tests_properties(packaging_install PROPERTIES FIXTURES_SETUP flowpath_installed
                     LABELS packaging RESOURCE_LOCK flowpath_packaging_prefix)

# ctest --build-and-test: configure, build and run a consumer in one step.
function(_flowpath_consumer_test name srcdir)
  add_test(NAME packaging_${name}
    COMMAND ${CMAKE_CTEST_COMMAND}
      --build-and-test ${srcdir} ${_pkg_bin}/${name}
      --build-generator ${CMAKE_GENERATOR}
      --build-makeprogram ${CMAKE_MAKE_PROGRAM}
      --build-options -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
                      -DCMAKE_BUILD_TYPE=Release ${ARGN}
      --test-command ${_pkg_bin}/${name}/consumer)
  set_tests_properties(packaging_${name} PROPERTIES LABELS packaging TIMEOUT 600
                       PASS_REGULAR_EXPRESSION "flowpath consumer: ok")
endfunction()

_flowpath_consumer_test(find_package ${_pkg_src}/find_package
                        -DCMAKE_PREFIX_PATH=${_pkg_prefix})
set_tests_properties(packaging_find_package PROPERTIES FIXTURES_REQUIRED flowpath_installed
                     RESOURCE_LOCK flowpath_packaging_prefix)

_flowpath_consumer_test(add_subdirectory ${_pkg_src}/add_subdirectory
                        -DFLOWPATH_SOURCE_DIR=${PROJECT_SOURCE_DIR})

add_test(NAME packaging_pkg_config
         COMMAND sh ${_pkg_src}/common/pkg_config.sh ${_pkg_prefix} ${CMAKE_CXX_COMPILER}
                 ${_pkg_src}/common/consumer.cpp ${_pkg_bin}/pkg_config)
set_tests_properties(packaging_pkg_config PROPERTIES FIXTURES_REQUIRED flowpath_installed
                     RESOURCE_LOCK flowpath_packaging_prefix LABELS packaging
                     PASS_REGULAR_EXPRESSION "flowpath consumer: ok")
