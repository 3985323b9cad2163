# find_package(cbes COMPONENTS group): cbes::group, the worker group of Autonomous Operations.
# Kept out of cbesConfig.cmake because it is the one part of cbes that needs libconsul.
include(CMakeFindDependencyMacro)
find_dependency(consul)
include("${CMAKE_CURRENT_LIST_DIR}/cbesGroupTargets.cmake")
set(cbes_group_FOUND TRUE)
