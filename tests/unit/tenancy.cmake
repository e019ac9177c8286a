# tests/unit/tenancy.cmake — teams, members, projects, environments, roles,
# grants and the user directory through the real control plane: PostgreSQL +
# HTTP on loopback (tests/support/api_harness.h). Included by
# tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

foreach(t test_api_tenancy test_api_tenancy_scope test_api_rbac)
  sb_add_unit_test(${t} SOURCES integration/${t}.c LIBRARIES sb_api_harness)
endforeach()
