# Peer programs measured side by side with flowpath (never a test dependency).
# DPDK rte_acl: built only when pkg-config finds libdpdk.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(FLOWPATH_DPDK QUIET IMPORTED_TARGET libdpdk)
endif()
if(FLOWPATH_DPDK_FOUND)
  add_executable(peers_rte_acl ${CMAKE_CURRENT_LIST_DIR}/rte_acl_peer.cpp)
  target_link_libraries(peers_rte_acl PRIVATE flowpath::flowpath PkgConfig::FLOWPATH_DPDK)
  target_compile_options(peers_rte_acl PRIVATE -march=native -Wno-unused-parameter)
  message(STATUS "flowpath: DPDK ${FLOWPATH_DPDK_VERSION} found, building peers_rte_acl")
else()
  message(STATUS "flowpath: libdpdk not found, peers_rte_acl not built")
endif()
