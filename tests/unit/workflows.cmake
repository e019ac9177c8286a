# tests/unit/workflows.cmake — approval workflows and policy rules through
# the real control plane (PostgreSQL + HTTP on loopback), and the policy
# loader against the database. Included by tests/CMakeLists.txt
# (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

foreach(t test_api_workflows test_api_policies)
  sb_add_unit_test(${t} SOURCES integration/${t}.c LIBRARIES sb_api_harness)
endforeach()
