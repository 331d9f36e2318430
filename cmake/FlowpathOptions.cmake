# Build options for the project's own tests, benchmarks and examples (never
# imposed on users of the INTERFACE target).
set(FLOWPATH_ARCH_FLAGS "-march=native" CACHE STRING
    "Architecture flags for tests/bench/examples (SIMD targets)")
option(FLOWPATH_SANITIZE "Build with AddressSanitizer + UBSan" OFF)

add_library(flowpath_build_options INTERFACE)
target_compile_options(flowpath_build_options INTERFACE
  -Wall -Wextra ${FLOWPATH_ARCH_FLAGS})
if(FLOWPATH_SANITIZE)
  target_compile_options(flowpath_build_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(flowpath_build_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
