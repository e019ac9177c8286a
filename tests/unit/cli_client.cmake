# tests/unit/cli_client.cmake — the sbridge client commands (login, request,
# approve, reject, reveal, requests) run as a user runs them, against the
# real control plane (PostgreSQL + HTTP on loopback). Included by
# tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

sb_add_unit_test(test_cli_client SOURCES integration/test_cli_client.c LIBRARIES sb_api_harness)
add_dependencies(test_cli_client sbridge)
