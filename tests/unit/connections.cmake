# tests/unit/connections.cmake — provider connections, their bindings, the
# secret catalog and secret bindings through the real control plane
# (PostgreSQL + HTTP on loopback), plus the pure scope rules. Included by
# tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

foreach(t test_api_connections test_api_catalog)
  sb_add_unit_test(${t} SOURCES integration/${t}.c LIBRARIES sb_api_harness)
endforeach()
