# Store tests: the pool, migrations, the embedded PostgreSQL and the
# database roles, against a real PostgreSQL that each test binary starts itself (tests/support/pg_harness).
add_library(sb_pg_harness STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/pg_harness.c)
target_include_directories(sb_pg_harness PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(sb_pg_harness PUBLIC sb_store)

sb_add_unit_test(test_store_db SOURCES unit/test_store_db.c LIBRARIES sb_pg_harness)
sb_add_unit_test(test_store_rows SOURCES unit/test_store_rows.c LIBRARIES sb_pg_harness)
sb_add_unit_test(test_store_listen SOURCES unit/test_store_listen.c LIBRARIES sb_pg_harness)
sb_add_unit_test(test_store_migrate SOURCES unit/test_store_migrate.c LIBRARIES sb_pg_harness)
sb_add_unit_test(test_store_embedded SOURCES unit/test_store_embedded.c LIBRARIES sb_pg_harness)
sb_add_unit_test(test_store_roles SOURCES unit/test_store_roles.c LIBRARIES sb_pg_harness)
