# Warnings, sanitizers and compiler caching for every target of this project.
find_program(CBES_CCACHE ccache)
if(CBES_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CBES_CCACHE})
endif()

# No -Wnull-dereference: GCC 12 reports false positives inside coroutine frames and inlined
# Asio scheduler code that neither system-header scopes nor pragmas silence.
add_library(cbes_warnings INTERFACE)
target_compile_options(cbes_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                                -Wold-style-cast -Wcast-align
                                                -Wimplicit-fallthrough)
if(CBES_WERROR)
  target_compile_options(cbes_warnings INTERFACE -Werror)
endif()

if(CBES_SANITIZE)
  set(_cbes_san "")
  foreach(s IN LISTS CBES_SANITIZE)
    if(NOT s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "CBES_SANITIZE: unknown sanitizer '${s}'; use 'address;undefined' or 'thread'")
    endif()
    list(APPEND _cbes_san ${s})
  endforeach()
  list(JOIN _cbes_san "," _cbes_san_flag)
  # -fno-sanitize-recover=all: without it UBSan prints a report and carries on, so a test with
  # undefined behaviour would still pass; CI must fail on the first report.
  add_compile_options(-fsanitize=${_cbes_san_flag} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_cbes_san_flag} -fno-sanitize-recover=all)
  # GCC documents that the sanitizers' instrumentation makes -Wmaybe-uninitialized report
  # false positives (seen here on boost::system::result moves in coroutine frames).
  add_compile_options(-Wno-maybe-uninitialized)
endif()
