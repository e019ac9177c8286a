# tests/unit/workflow.cmake — the pure workflow value checks
# (host/src/domain/workflow_rules.c). Included by tests/CMakeLists.txt
# (tests/unit/*.cmake).
if(NOT TARGET sb_domain)
  return()
endif()
sb_add_unit_test(test_domain_workflow SOURCES unit/test_domain_workflow.c LIBRARIES sb_domain)
