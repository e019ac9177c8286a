# tests/unit/http.cmake — the HTTP server library (host/src/http).
# Included by tests/CMakeLists.txt (tests/unit/*.cmake).
if(NOT TARGET sb_http)
  return()
endif()

sb_add_unit_test(test_http_router SOURCES unit/test_http_router.c LIBRARIES sb_http)
sb_add_unit_test(test_http_metrics SOURCES unit/test_http_metrics.c LIBRARIES sb_http)
sb_add_unit_test(test_http_openapi SOURCES unit/test_http_openapi.c LIBRARIES sb_http)
# Real HTTP on loopback, libcurl as the client.
sb_add_unit_test(test_http_static_files
  SOURCES unit/test_http_static_files.c unit/test_http_support.c unit/test_http_fixture.c
  LIBRARIES sb_http PkgConfig::CURL)
foreach(t IN ITEMS server bodies observability proxy)
  sb_add_unit_test(test_http_${t}
    SOURCES unit/test_http_${t}.c unit/test_http_fixture.c unit/test_http_support.c
    LIBRARIES sb_http PkgConfig::CURL)
endforeach()
sb_add_unit_test(test_http_lifecycle
  SOURCES unit/test_http_lifecycle.c unit/test_http_raw.c unit/test_http_support.c
  LIBRARIES sb_http PkgConfig::CURL)
# Compile-only: <sbridge/plugin.h> beside the server's own headers.
add_library(header_coexistence OBJECT unit/header_coexistence.c)
target_link_libraries(header_coexistence PRIVATE sb_http sb_plugin_host)
# Raw sockets: limits, trickled headers, malformed requests.
foreach(t IN ITEMS limits malformed)
  sb_add_unit_test(test_http_${t}
    SOURCES unit/test_http_${t}.c unit/test_http_raw.c unit/test_http_support.c
    LIBRARIES sb_http PkgConfig::CURL)
endforeach()
