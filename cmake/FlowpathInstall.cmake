install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS flowpath flowpath_pcap flowpath_afxdp EXPORT flowpathTargets)
install(EXPORT flowpathTargets NAMESPACE flowpath::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowpath)
configure_package_config_file(cmake/flowpathConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/flowpathConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowpath)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/flowpathConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flowpathConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/flowpathConfigVersion.cmake
              cmake/FlowpathDependencies.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowpath)
# flowpath.pc finds its prefix relative to itself (${pcfiledir}), so that
# `cmake --install <build> --prefix <dir>` yields a working .pc anywhere.
if(IS_ABSOLUTE "${CMAKE_INSTALL_DATADIR}")
  set(FLOWPATH_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _fp_pc_up "/_/${CMAKE_INSTALL_DATADIR}/pkgconfig" "/_")
  string(REGEX REPLACE "/$" "" _fp_pc_up "${_fp_pc_up}")
  set(FLOWPATH_PC_PREFIX "\${pcfiledir}/${_fp_pc_up}")
endif()
configure_file(cmake/flowpath.pc.in ${CMAKE_CURRENT_BINARY_DIR}/flowpath.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flowpath.pc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
