# tests/unit/audit.cmake — the audit trail (I5) against a real PostgreSQL:
#   test_audit      append-only table, sealing, verification, tampering,
#                   concurrency and throughput (store + sealer);
#   test_audit_api  the audit-events routes and `sbridge audit verify`.
# Included by tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_api_harness)
  return()
endif()

sb_add_unit_test(test_audit SOURCES integration/test_audit.c LIBRARIES sb_api_harness sb_store sb_worker)
sb_add_unit_test(test_audit_api SOURCES integration/test_audit_api.c LIBRARIES sb_api_harness sb_store)
