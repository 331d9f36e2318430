# The classifier benchmark finds the ClassBench data relative to the source tree.
if(TARGET classify_classifier_bench)
  target_compile_definitions(classify_classifier_bench PRIVATE
    FLOWPATH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# A plain loop of ClassifierV2 lookups over one set's trace, for profilers
# (bench/classify/callgrind.sh) and A/B runs of two builds.
if(TARGET classify_classifier_bench)
  add_executable(classify_lookup_loop ${CMAKE_CURRENT_LIST_DIR}/lookup_loop.cpp)
  target_link_libraries(classify_lookup_loop PRIVATE flowpath::flowpath flowpath_build_options)
  target_compile_definitions(classify_lookup_loop PRIVATE FLOWPATH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
