# tests/unit/policy.cmake — the policy engine (host/src/domain/policy.c).
if(NOT TARGET sb_domain)
  return()
endif()
sb_add_unit_test(test_domain_policy SOURCES unit/test_domain_policy.c LIBRARIES sb_domain)
