# tests/unit/request.cmake — the request state machine and the approval rule
# (host/src/domain/request_machine.c, approval_rule.c).
if(NOT TARGET sb_domain)
  return()
endif()
sb_add_unit_test(test_domain_request SOURCES unit/test_domain_request.c LIBRARIES sb_domain)
