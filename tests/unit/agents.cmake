# tests/unit/agents.cmake — the agent protocol (issue 10): enrollment,
# agent identity, heartbeats, the job queue with long-poll claims, leases
# and completion, through the real control plane (PostgreSQL + HTTP on
# loopback), and the pure job rules. Included by tests/CMakeLists.txt.
if(TARGET sb_domain)
  sb_add_unit_test(test_domain_jobs SOURCES unit/test_domain_jobs.c LIBRARIES sb_domain)
endif()
if(NOT TARGET sb_api_harness)
  return()
endif()

foreach(t test_api_agents test_api_jobs test_api_reveal)
  sb_add_unit_test(${t} SOURCES integration/${t}.c LIBRARIES sb_api_harness)
endforeach()
