# Warnings as errors and hardening for every target in the tree.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2
                    -Werror -D_GNU_SOURCE -fstack-protector-strong -fno-common)
if(NOT SB_SANITIZE)
  # _FORTIFY_SOURCE needs optimisation; Debug builds go without it.
  add_compile_options($<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE>
                      $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=3>)
endif()
add_link_options(-Wl,-z,relro,-z,now -Wl,--as-needed)
if(SB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SB_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
# Executables are PIE.
add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-pie>)
