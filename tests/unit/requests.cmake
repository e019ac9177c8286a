# tests/unit/requests.cmake — secret requests through the real control plane
# (PostgreSQL + HTTP on loopback): submit, votes, AND groups, parallel
# approvals, cross-team, the expiry sweep, job outcomes. Included by
# tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

foreach(t test_api_requests test_api_request_flows test_api_request_table)
  sb_add_unit_test(${t} SOURCES integration/${t}.c LIBRARIES sb_api_harness)
endforeach()
