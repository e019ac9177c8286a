# tests/unit/domain.cmake — the pure domain core (host/src/domain) and the
# authentication crypto (host/src/crypto/{password,token,jwt}.c).
# Included by tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_domain)
  return()
endif()

sb_add_unit_test(test_domain_permissions
  SOURCES unit/test_domain_permissions.c LIBRARIES sb_domain)
sb_add_unit_test(test_domain_team_tree
  SOURCES unit/test_domain_team_tree.c LIBRARIES sb_domain)
sb_add_unit_test(test_domain_scope
  SOURCES unit/test_domain_scope.c LIBRARIES sb_domain)
sb_add_unit_test(test_domain_session
  SOURCES unit/test_domain_session.c LIBRARIES sb_domain)

sb_add_unit_test(test_crypto_auth SOURCES unit/test_crypto_auth.c LIBRARIES sb_crypto)
sb_add_unit_test(test_crypto_kms SOURCES unit/test_crypto_kms.c LIBRARIES sb_crypto)
