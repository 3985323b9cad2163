# Debian 12 packages: Boost 1.81 (headers, json, url, system, program_options, log), toml11, Catch2 v2,
# OpenSSL, snappy. Boost.JSON and Boost.URL are linked as compiled libraries, never src.hpp;
# Boost.Regex and Boost.System are header-only since 1.76 and 1.69.
find_package(Threads REQUIRED)
# CONFIG: Boost's own BoostConfig.cmake (libboost1.81-dev ships it), not CMake's FindBoost module,
# which warns about every Boost newer than the CMake release it came with.
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json url system program_options log)
find_package(OpenSSL REQUIRED)

# Snappy (Debian libsnappy-dev): the mcbp codec inflates/deflates values with datatype bit 0x02
# (Couchbase's datatype documentation). Found by header + library so no particular CMake package
# config of snappy is required; cbesConfig.cmake.in recreates the same imported target.
find_path(CBES_SNAPPY_INCLUDE_DIR snappy.h REQUIRED)
find_library(CBES_SNAPPY_LIBRARY snappy REQUIRED)
if(NOT TARGET cbes::snappy)
  add_library(cbes::snappy UNKNOWN IMPORTED)
  set_target_properties(cbes::snappy PROPERTIES IMPORTED_LOCATION ${CBES_SNAPPY_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${CBES_SNAPPY_INCLUDE_DIR})
endif()
