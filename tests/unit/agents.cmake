# tests/unit/agents.cmake — the agent protocol (issue 10): enrollment,
# agent identity, heartbeats, the job queue with long-poll claims, leases
# and completion, through the real control plane (PostgreSQL + HTTP on
# loopback), and the pure job rules. Included by tests/CMakeLists.txt.
if(TARGET sb_domain)
  sb_add_unit_test(test_domain_jobs SOURCES unit/test_domain_jobs.c LIBRARIES sb_domain)
endif()
# The agent's dispatch and identity file, without a control plane.
sb_add_unit_test(test_agent_units SOURCES unit/test_agent_units.c)
if(NOT TARGET sb_api_harness)
  return()
endif()

foreach(t test_api_agents test_api_jobs test_api_reveal)
  sb_add_unit_test(${t} SOURCES integration/${t}.c LIBRARIES sb_api_harness)
endforeach()

# The agent executable against the real control plane (issue 10 items 6, 9).
sb_add_unit_test(test_agent_runtime SOURCES integration/test_agent_runtime.c LIBRARIES sb_api_harness)
target_compile_definitions(test_agent_runtime PRIVATE SB_AGENT_BIN="$<TARGET_FILE:sbridge-agent>")
add_dependencies(test_agent_runtime sbridge-agent plugin_example)
# The same tests with the agent under valgrind (ENGINEERING.md: the agent
# is valgrind-clean): an error or a definite leak makes it exit 99.
find_program(SB_VALGRIND valgrind)
if(SB_VALGRIND AND NOT SB_SANITIZE) # ASan binaries cannot run under valgrind
  add_test(NAME test_agent_runtime_valgrind COMMAND test_agent_runtime --jobs 1)
  set_tests_properties(test_agent_runtime_valgrind PROPERTIES TIMEOUT 600
                       ENVIRONMENT "SB_AGENT_VALGRIND=1")
endif()

# The three flows end to end: a real agent loading one provider plugin,
# pointed at that provider's strict emulator (tests/integration/e2e_test_util.h).
function(sb_add_e2e_test name plugin)
  if(NOT TARGET plugin_${plugin})
    return()
  endif()
  sb_add_unit_test(${name} SOURCES integration/${name}.c support/emulator_support.c
                   LIBRARIES sb_api_harness sb_plugin_harness PkgConfig::CURL)
  target_compile_definitions(${name} PRIVATE SB_AGENT_BIN="$<TARGET_FILE:sbridge-agent>")
  add_dependencies(${name} sbridge-agent plugin_${plugin})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600)
endfunction()
sb_add_e2e_test(test_e2e_vault vault)
sb_add_e2e_test(test_e2e_awssm awssm)
sb_add_e2e_test(test_e2e_gcpsm gcpsm)
sb_add_e2e_test(test_e2e_azurekv azurekv)

# GitOps observation end to end (issue 17): the Vault flow above plus the
# argocd plugin against the Argo CD emulator, driven by the poll_gitops task.
sb_add_e2e_test(test_e2e_gitops vault)
if(TARGET test_e2e_gitops AND TARGET plugin_argocd)
  add_dependencies(test_e2e_gitops plugin_argocd)
endif()

# The GitOps routes (issue 17): endpoints, mappings, health through the
# argocd plugin and its emulator, observations on executed patches.
if(TARGET plugin_argocd)
  sb_add_unit_test(test_api_gitops SOURCES integration/test_api_gitops.c support/emulator_support.c
                   LIBRARIES sb_api_harness sb_plugin_harness PkgConfig::CURL)
  add_dependencies(test_api_gitops plugin_argocd)
  # app discovery (issue 17 item 1): the argocd plugin's list_applications
  # and the ABI 1.1 GitOps fixtures through the route
  sb_add_unit_test(test_api_gitops_apps SOURCES integration/test_api_gitops_apps.c
                   support/emulator_support.c LIBRARIES sb_api_harness sb_plugin_harness PkgConfig::CURL)
  add_dependencies(test_api_gitops_apps plugin_argocd abi_fixtures)
endif()
