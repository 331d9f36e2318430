# The floor contestant of bench/openflow/run.sh (a program, not a Google
# benchmark): an OpenFlow switch with no flow table (of_floor.cpp).
add_executable(openflow_floor ${CMAKE_CURRENT_LIST_DIR}/of_floor.cpp)
target_link_libraries(openflow_floor PRIVATE flowpath::flowpath flowpath_build_options)
