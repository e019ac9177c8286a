# tests/unit/api.cmake — properties of the whole API (router-enumerated).
if(NOT TARGET sb_api_harness)
  return()
endif()
sb_add_unit_test(test_api_core SOURCES integration/test_api_core.c LIBRARIES sb_api_harness)
sb_add_unit_test(test_api_audit_coverage SOURCES integration/test_api_audit_coverage.c LIBRARIES sb_api_harness)
add_test(NAME server_lifecycle
  COMMAND ${CMAKE_COMMAND} -E env SBRIDGE=$<TARGET_FILE:sbridge>
          bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/server_lifecycle.sh)
set_tests_properties(server_lifecycle PROPERTIES TIMEOUT 300)
sb_add_unit_test(test_api_errors SOURCES unit/test_api_errors.c LIBRARIES sb_api_harness)
