# tests/unit/oidc.cmake — single sign-on (SPEC §8 OIDC users, JIT): the real
# control plane (PostgreSQL + HTTP on loopback) against the OpenID provider
# emulator (tests/emulators/oidc). Included by tests/CMakeLists.txt.
if(NOT TARGET sb_api_harness)
  return()
endif()
sb_add_unit_test(test_api_oidc SOURCES integration/test_api_oidc.c support/emulator_support.c
                 LIBRARIES sb_api_harness sb_plugin_harness PkgConfig::CURL)
# The ID token check and the JWKS parser alone (keys and tokens made in the test).
sb_add_unit_test(test_oidc_id_token SOURCES unit/test_oidc_id_token.c LIBRARIES sb_oidc_crypto)
