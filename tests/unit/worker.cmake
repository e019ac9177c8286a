# tests/unit/worker.cmake — the worker role (issue 15): the scheduler
# against a real PostgreSQL (replicas, locks, backoff, kill -9 mid-task)
# and each sweep with its audit event. Included by tests/CMakeLists.txt.
if(NOT TARGET sb_api_harness)
  return()
endif()
sb_add_unit_test(test_worker_scheduler SOURCES integration/test_worker_scheduler.c
                 LIBRARIES sb_api_harness sb_worker sb_store)
target_compile_definitions(test_worker_scheduler PRIVATE SB_BIN="$<TARGET_FILE:sbridge>")
add_dependencies(test_worker_scheduler sbridge)
sb_add_unit_test(test_worker_sweeps SOURCES integration/test_worker_sweeps.c
                 LIBRARIES sb_api_harness sb_worker)
