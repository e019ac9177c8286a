# tests/unit/mfa.cmake — MFA (SPEC §8): TOTP against the RFC vectors, and
# enrollment, verification, replay, rate limit and the step-up of Tier-2
# actions through the real control plane (PostgreSQL + HTTP on loopback).
# Included by tests/CMakeLists.txt (tests/unit/*.cmake).
sb_add_unit_test(test_totp SOURCES unit/test_totp.c LIBRARIES sb_crypto)
if(NOT TARGET sb_api_harness)
  return()
endif()
sb_add_unit_test(test_api_mfa SOURCES integration/test_api_mfa.c LIBRARIES sb_api_harness)
