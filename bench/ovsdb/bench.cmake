# The floor contestant of bench/ovsdb/run.sh (a program, not a Google
# benchmark): an OVSDB client that raises cur_cfg and nothing else.
add_executable(ovsdb_floor ${CMAKE_CURRENT_LIST_DIR}/db_floor.cpp)
target_link_libraries(ovsdb_floor PRIVATE flowpath::flowpath flowpath_build_options)
# The CPU of one add-port's parse and configuration (no sockets, no devices):
# callgrind-able, see its header.
add_executable(ovsdb_change_cost ${CMAKE_CURRENT_LIST_DIR}/change_cost.cpp)
target_link_libraries(ovsdb_change_cost PRIVATE flowpath::flowpath flowpath_build_options)
