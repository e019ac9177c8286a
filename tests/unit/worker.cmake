# tests/unit/worker.cmake — the worker role (issue 15): the scheduler
# against a real PostgreSQL (replicas, locks, backoff, kill -9 mid-task)
# and each sweep with its audit event. Included by tests/CMakeLists.txt.
if(NOT TARGET sb_api_harness)
  return()
endif()
# Linked with the worker library and the PostgreSQL harness only (not
# sb_add_unit_test, which links the whole CLI): the scheduler and the
# worker's own sweeps link without api/ and its HTTP handlers, so this
# binary building at all proves the worker library needs none of them;
# worker_links checks that no sb_api_ symbol slipped in while the whole
# task table of `sbridge worker` (worker/worker_tasks.c, with the request
# writer's sweeps from service/) is linked.
add_executable(test_worker_scheduler integration/test_worker_scheduler.c)
target_link_libraries(test_worker_scheduler PRIVATE sb_worker sb_pg_harness PkgConfig::CRITERION)
target_compile_definitions(test_worker_scheduler PRIVATE SB_BIN="$<TARGET_FILE:sbridge>")
add_test(NAME test_worker_scheduler COMMAND test_worker_scheduler --jobs 1)
set_tests_properties(test_worker_scheduler PROPERTIES TIMEOUT 300)
add_test(NAME worker_links
  COMMAND sh -c "if nm $<TARGET_FILE:test_worker_scheduler> | grep -E ' (sb_api_|sb_router_add|sb_http_respond)'; then echo 'FAIL: the worker library pulled in the API'; exit 1; fi; nm $<TARGET_FILE:test_worker_scheduler> | grep -q ' T sb_request_sweep' || { echo 'FAIL: the worker role does not run the request sweep'; exit 1; }; nm $<TARGET_FILE:sbridge> | grep -q ' sb_api_routes_register' || { echo 'FAIL: cannot see API symbols in sbridge'; exit 1; }; echo 'ok: the worker library links no API'")
add_dependencies(test_worker_scheduler sbridge)
sb_add_unit_test(test_worker_sweeps SOURCES integration/test_worker_sweeps.c
                 LIBRARIES sb_api_harness sb_worker)
