# tests/unit/notifications.cmake — the durable notification outbox (issue
# 15): events written with the change that causes them, delivered by the
# worker's dispatch_notifications task through a real notifier plugin
# (tests/plugins/notify_test, a .so loaded by the real registry) against a
# real PostgreSQL. Included by tests/CMakeLists.txt.
add_library(notify_test_plugin MODULE plugins/notify_test/notify_test_plugin.c)
target_link_libraries(notify_test_plugin PRIVATE sb_plugin_api)
set_target_properties(notify_test_plugin PROPERTIES PREFIX "" OUTPUT_NAME notify_test
  C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY ${SB_TEST_PLUGIN_DIR})
add_custom_command(TARGET notify_test_plugin POST_BUILD
  COMMAND chmod go-w $<TARGET_FILE:notify_test_plugin> ${SB_TEST_PLUGIN_DIR})
if(NOT TARGET sb_api_harness)
  return()
endif()
sb_add_unit_test(test_notify_outbox SOURCES integration/test_notify_outbox.c
                 LIBRARIES sb_api_harness sb_worker)
add_dependencies(test_notify_outbox notify_test_plugin)
set_tests_properties(test_notify_outbox PROPERTIES TIMEOUT 300)

# Notifications end to end through Slack: the real notify-slack.so against
# the Slack emulator (tests/emulators/slack), fed by the outbox.
if(TARGET plugin_notify-slack)
  sb_add_unit_test(test_e2e_slack_notify SOURCES integration/test_e2e_slack_notify.c
                   support/emulator_support.c
                   LIBRARIES sb_api_harness sb_plugin_harness sb_worker PkgConfig::CURL)
  add_dependencies(test_e2e_slack_notify plugin_notify-slack)
  set_tests_properties(test_e2e_slack_notify PROPERTIES TIMEOUT 300)
endif()
