# Run at every build (cmake -P, from libcbes/CMakeLists.txt): writes `git describe` of the sources
# into a one-function .cpp, rewriting it only when the commit changed, so a new commit relinks
# the programs (their --version and /info tell the truth) and an unchanged one rebuilds nothing.
#   cmake -DSOURCE_DIR=<repo> -DOUTPUT=<file.cpp> -P CbesGitCommit.cmake
set(describe "")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS ${SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --tags --dirty
                  WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE describe OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
set(text "// Generated at build time by cmake/CbesGitCommit.cmake: `git describe` of the sources.
#include \"cbes/version.hpp\"

std::string_view cbes::git_commit() { return \"${describe}\"; }
")
set(old "")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUTPUT} "${text}")
endif()
