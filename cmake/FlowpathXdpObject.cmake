# The XDP fast-path program (bpf/flowpath_xdp.bpf.c), compiled with clang
# -target bpf at build time and embedded in the header-only library as a
# generated header (flowpath/io/xdp_fast_object.inc, a byte list that
# io/xdp_fast_path.hpp #includes into an array).  Embedding keeps the
# library header-only and relocatable: nothing to find at run time, and the
# installed tree carries the generated header next to the others.  Without
# clang the header is absent and XdpFastPath::available() is false.
find_program(FLOWPATH_BPF_CLANG clang)
find_program(FLOWPATH_LLVM_STRIP NAMES llvm-strip llvm-strip-14)
if(FLOWPATH_BPF_CLANG)
  execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE fp_xdp_multiarch
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  set(fp_xdp_src ${CMAKE_CURRENT_SOURCE_DIR}/bpf/flowpath_xdp.bpf.c)
  set(fp_xdp_obj ${PROJECT_BINARY_DIR}/bpf/flowpath_xdp.bpf.o)
  set(fp_xdp_gen ${PROJECT_BINARY_DIR}/generated/include)
  set(fp_xdp_inc ${fp_xdp_gen}/flowpath/io/xdp_fast_object.inc)
  set(fp_xdp_strip "")
  if(FLOWPATH_LLVM_STRIP)  # DWARF out, BTF (the map definitions) kept
    set(fp_xdp_strip COMMAND ${FLOWPATH_LLVM_STRIP} -g ${fp_xdp_obj})
  endif()
  add_custom_command(
    OUTPUT ${fp_xdp_obj} ${fp_xdp_inc}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/bpf ${fp_xdp_gen}/flowpath/io
    COMMAND ${FLOWPATH_BPF_CLANG} -O2 -g -target bpf -I/usr/include/${fp_xdp_multiarch}
            -I${CMAKE_CURRENT_SOURCE_DIR}/include -c ${fp_xdp_src} -o ${fp_xdp_obj}
    ${fp_xdp_strip}
    COMMAND ${CMAKE_COMMAND} -DIN=${fp_xdp_obj} -DOUT=${fp_xdp_inc}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/bpf/embed.cmake
    DEPENDS ${fp_xdp_src} ${CMAKE_CURRENT_SOURCE_DIR}/include/flowpath/io/xdp_fast_abi.h
            ${CMAKE_CURRENT_SOURCE_DIR}/bpf/embed.cmake
    COMMENT "BPF flowpath_xdp.bpf.o -> flowpath/io/xdp_fast_object.inc")
  add_custom_target(flowpath_xdp_object ALL DEPENDS ${fp_xdp_inc})
  add_dependencies(flowpath_afxdp flowpath_xdp_object)
  target_include_directories(flowpath_afxdp INTERFACE $<BUILD_INTERFACE:${fp_xdp_gen}>)
  if(FLOWPATH_INSTALL)
    install(FILES ${fp_xdp_inc} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flowpath/io)
  endif()
endif()
