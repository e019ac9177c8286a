# sb_add_plugin(<name> SOURCES <files...>)
#
# Builds plugins/<name> as a loadable module <name>.so that sees only the
# public ABI header, exports only sbridge_plugin_v1 (-fvisibility=hidden),
# lands in ${SB_PLUGIN_BUILD_DIR} (mode 0755, the loader refuses writable
# files) and installs into ${SB_PLUGIN_INSTALL_DIR}.
function(sb_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(plugin_${name} MODULE ${ARG_SOURCES})
  target_link_libraries(plugin_${name} PRIVATE sb_plugin_api ${ARG_LIBRARIES})
  set_target_properties(plugin_${name} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${SB_PLUGIN_BUILD_DIR})
  if(NOT SB_SANITIZE AND NOT SB_FUZZ)
    # A plugin may not rely on symbols from the host: all it gets is the table.
    target_link_options(plugin_${name} PRIVATE -Wl,--no-undefined)
  endif()
  install(TARGETS plugin_${name} LIBRARY DESTINATION ${SB_PLUGIN_INSTALL_DIR}
          PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                      WORLD_READ WORLD_EXECUTE)
  # The loader refuses group/world-writable plugins and directories; make
  # the build tree loadable whatever the builder's umask.
  add_custom_command(TARGET plugin_${name} POST_BUILD
    COMMAND chmod go-w $<TARGET_FILE:plugin_${name}> ${SB_PLUGIN_BUILD_DIR})
  set_property(GLOBAL APPEND PROPERTY SB_BUILT_PLUGINS ${name})
endfunction()
