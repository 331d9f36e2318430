# Finds flowpath's dependencies and wraps them in small INTERFACE targets
# (flowpath_hwy, flowpath_libpcap, flowpath_libxdp, flowpath_nlohmann_json) so
# that the exported targets do not depend on how each package was found.
# Shared by the build tree and by the installed flowpathConfig.cmake.
include(CMakeFindDependencyMacro)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# xsimd is header-only; Debian's xsimdConfig drags in an `xtl` link that
# the package does not need, so only its include directory is used.
if(NOT TARGET flowpath_xsimd)
  find_path(FLOWPATH_XSIMD_INCLUDE xsimd/xsimd.hpp REQUIRED)
  add_library(flowpath_xsimd INTERFACE IMPORTED GLOBAL)
  target_include_directories(flowpath_xsimd INTERFACE ${FLOWPATH_XSIMD_INCLUDE})
endif()

# Debian's Highway 1.0.3: use pkg-config (libhwy).
if(NOT TARGET flowpath_hwy)
  pkg_check_modules(FLOWPATH_HWY REQUIRED IMPORTED_TARGET libhwy)
  add_library(flowpath_hwy INTERFACE IMPORTED GLOBAL)
  target_link_libraries(flowpath_hwy INTERFACE PkgConfig::FLOWPATH_HWY)
endif()

if(NOT TARGET flowpath_libpcap)
  pkg_check_modules(FLOWPATH_PCAP QUIET IMPORTED_TARGET libpcap)
  add_library(flowpath_libpcap INTERFACE IMPORTED GLOBAL)
  if(FLOWPATH_PCAP_FOUND)
    target_link_libraries(flowpath_libpcap INTERFACE PkgConfig::FLOWPATH_PCAP)
  else()
    find_library(FLOWPATH_PCAP_LIB pcap)
    if(FLOWPATH_PCAP_LIB)
      target_link_libraries(flowpath_libpcap INTERFACE ${FLOWPATH_PCAP_LIB})
    endif()
  endif()
endif()

if(NOT TARGET flowpath_libxdp)
  pkg_check_modules(FLOWPATH_XDP QUIET IMPORTED_TARGET libxdp libbpf)
  add_library(flowpath_libxdp INTERFACE IMPORTED GLOBAL)
  if(FLOWPATH_XDP_FOUND)
    target_link_libraries(flowpath_libxdp INTERFACE PkgConfig::FLOWPATH_XDP)
  endif()
endif()

# nlohmann-json (Debian nlohmann-json3-dev, header-only): the JSON of the
# OVSDB client (flowpath/ovsdb/).  Optional for users who never include
# those headers, so it is looked up QUIET and wrapped like the I/O backends.
if(NOT TARGET flowpath_nlohmann_json)
  find_package(nlohmann_json 3.2 QUIET)
  add_library(flowpath_nlohmann_json INTERFACE IMPORTED GLOBAL)
  if(nlohmann_json_FOUND)
    target_link_libraries(flowpath_nlohmann_json INTERFACE nlohmann_json::nlohmann_json)
  endif()
endif()
