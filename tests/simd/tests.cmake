# The simd tests again, built for each x86-64 ISA level, so that every
# instruction set the machine has is exercised by Highway's static dispatch
# and xsimd's default arch (the normal build covers -march=native only).
# A level the CPU lacks is neither built by default nor run.
#   baseline     Highway SCALAR,  xsimd sse2
#   v2           Highway SSSE3,   xsimd sse4.2  (Highway's SSE4 needs AES+CLMUL)
#   v2_aes       Highway SSE4,    xsimd sse4.2
#   v3_aes       Highway AVX2,    xsimd fma3+avx2
#   v4_aes       Highway AVX3,    xsimd avx512bw
#   v4_vbmi      the same plus AVX-512 VBMI (simd::read8_be32's byte permute)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  include(CheckCXXCompilerFlag)
  set(_fp_cpuinfo "")
  if(EXISTS /proc/cpuinfo)
    file(READ /proc/cpuinfo _fp_cpuinfo)
  endif()
  set(_fp_simd_levels
      "baseline|-march=x86-64|sse2"
      "v2|-march=x86-64-v2|sse4_2"
      "v2_aes|-march=x86-64-v2 -maes -mpclmul|pclmulqdq"
      "v3_aes|-march=x86-64-v3 -maes -mpclmul|avx2"
      "v4_aes|-march=x86-64-v4 -maes -mpclmul|avx512bw"
      "v4_vbmi|-march=x86-64-v4 -mavx512vbmi -maes -mpclmul|avx512vbmi")
  foreach(level IN LISTS _fp_simd_levels)
    string(REPLACE "|" ";" parts "${level}")
    list(GET parts 0 name)
    list(GET parts 1 flags)
    list(GET parts 2 cpu_flag)
    separate_arguments(flag_list UNIX_COMMAND "${flags}")
    string(MAKE_C_IDENTIFIER "FLOWPATH_CXX_HAS_${name}" has_var)
    check_cxx_compiler_flag("${flags}" ${has_var})
    if(NOT ${has_var})
      continue()
    endif()
    set(runnable OFF)
    if(_fp_cpuinfo MATCHES "[ \t]${cpu_flag}[ \n]")
      set(runnable ON)
    endif()
    set(target simd_isa_${name}_test)
    add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/hash_test.cpp
                             ${CMAKE_CURRENT_LIST_DIR}/compare_test.cpp
                             ${CMAKE_CURRENT_LIST_DIR}/bits_kernels_test.cpp)
    if(NOT runnable)
      set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
    endif()
    target_link_libraries(${target} PRIVATE flowpath::flowpath GTest::gtest GTest::gtest_main)
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
    # Not flowpath_build_options: its -march=native would fight ${flags}.
    target_compile_options(${target} PRIVATE -Wall -Wextra ${flag_list}
      # GCC 12 bug 105593: _mm512_undefined_* trips -W(maybe-)uninitialized.
      -Wno-maybe-uninitialized -Wno-uninitialized)
    if(FLOWPATH_SANITIZE)
      target_compile_options(${target} PRIVATE
        -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
      target_link_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all)
    endif()
    if(runnable)
      add_test(NAME ${target} COMMAND ${target})
      set_tests_properties(${target} PROPERTIES LABELS simd TIMEOUT 300)
    endif()
  endforeach()
endif()
