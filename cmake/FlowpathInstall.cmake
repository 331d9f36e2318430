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
configure_file(cmake/flowpath.pc.in ${CMAKE_CURRENT_BINARY_DIR}/flowpath.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flowpath.pc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
