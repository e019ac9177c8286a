# tests/unit/auth.cmake — authentication (sessions, JWT, lockout, rate limit,
# API tokens, bootstrap users, `sbridge admin user`) against the real control
# plane: PostgreSQL + HTTP on loopback (tests/support/api_harness.h).
# Included by tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

sb_add_unit_test(test_api_auth SOURCES integration/test_api_auth.c LIBRARIES sb_api_harness)
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_api_auth_accounts.c)
  sb_add_unit_test(test_api_auth_accounts
    SOURCES integration/test_api_auth_accounts.c LIBRARIES sb_api_harness)
endif()
sb_add_unit_test(test_api_auth_cache SOURCES integration/test_api_auth_cache.c LIBRARIES sb_api_harness)
sb_add_unit_test(test_auth_cache SOURCES unit/test_auth_cache.c LIBRARIES sb_api)
