# Warnings, sanitizers and compiler caching for every target of this project.
find_program(CBES_CCACHE ccache)
if(CBES_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CBES_CCACHE})
endif()

# The compiler floor and the warnings left out are explained once, in CONTRIBUTING.md.
if((CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 12.2)
   OR (CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14))
  message(FATAL_ERROR "cbes needs GCC >= 12.2 or Clang >= 14 (C++20 coroutines); found "
                      "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
endif()
add_library(cbes_warnings INTERFACE)
target_compile_options(cbes_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                                -Wold-style-cast -Wcast-align
                                                -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # False positives in coroutine frames and Asio's recycling frame allocator (CONTRIBUTING.md).
  target_compile_options(cbes_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
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
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND "undefined" IN_LIST CBES_SANITIZE)
    # Clang 14's -fsanitize=function puts prologue data into coroutine functions that the split
    # coroutine parts cannot reach ("Cannot represent a difference across sections"); the check
    # only catches calls through a mistyped function pointer, which C++ code here never makes.
    add_compile_options(-fno-sanitize=function)
  endif()
  if("thread" IN_LIST CBES_SANITIZE)
    # GCC 12 warns (-Wtsan) wherever std::atomic_thread_fence is used, which Boost.Asio's
    # headers do: ThreadSanitizer does not model fences. That is a limit of the tool, not a
    # defect here; a race it misses or misreports through a fence would show as a report (and
    # get a suppression with its reason in tests/sanitizers/tsan.supp).
    add_compile_options(-Wno-tsan)
  endif()
endif()

if(CBES_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CBES_FUZZ needs Clang (libFuzzer): configure with CXX=clang++-14 "
                        "(Debian: apt-get install clang-14 libclang-rt-14-dev), or run scripts/fuzz.sh")
  endif()
  # Coverage feedback from the libraries too, not only from the fuzz targets' own code.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
