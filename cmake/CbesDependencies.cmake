# Debian 12 packages: Boost 1.81 (json, url, log, program_options, system), toml11, Catch2 v2,
# OpenSSL, snappy. Boost.JSON and Boost.URL are linked as compiled libraries, never src.hpp.
find_package(Threads REQUIRED)
find_package(Boost 1.81 EXACT REQUIRED COMPONENTS json url system log program_options regex)
find_package(OpenSSL REQUIRED)

# Asio: coroutines are standard in C++20; no deprecated names; Beast without its own
# header-only copy of Boost.JSON.
add_library(cbes_boost INTERFACE)
target_link_libraries(cbes_boost INTERFACE Boost::headers Boost::system Threads::Threads)
target_compile_definitions(cbes_boost INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_CONCEPTS)

# Snappy (Debian libsnappy-dev): the mcbp codec inflates/deflates values with datatype bit 0x02
# (mcbp-dcp-protocol.md §1.2). Found by header + library so no particular CMake package config
# of snappy is required; cbesConfig.cmake.in recreates the same imported target.
find_path(CBES_SNAPPY_INCLUDE_DIR snappy.h REQUIRED)
find_library(CBES_SNAPPY_LIBRARY snappy REQUIRED)
if(NOT TARGET cbes::snappy)
  add_library(cbes::snappy UNKNOWN IMPORTED)
  set_target_properties(cbes::snappy PROPERTIES IMPORTED_LOCATION ${CBES_SNAPPY_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${CBES_SNAPPY_INCLUDE_DIR})
endif()
