# The classifier benchmark finds the ClassBench data relative to the source tree.
if(TARGET classify_classifier_bench)
  target_compile_definitions(classify_classifier_bench PRIVATE
    FLOWPATH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
