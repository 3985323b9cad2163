# install() + package configs so an out-of-tree project can find_package(consul) / find_package(cbes).
# `cmake --install build` installs the libraries, headers, configs and cbes-dcp; the fakes
# (cbes-sandbox) only with `cmake --install build --component sandbox`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS consul EXPORT consulTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY libconsul/include/consul ${CMAKE_BINARY_DIR}/libconsul/include/consul
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT consulTargets NAMESPACE consul:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/consul)
configure_package_config_file(cmake/consulConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/consulConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/consul)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/consulConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/consulConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/consulConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/consul)

install(TARGETS cbes EXPORT cbesTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY libcbes/include/cbes ${CMAKE_BINARY_DIR}/libcbes/include/cbes
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT cbesTargets NAMESPACE cbes:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cbes)
configure_package_config_file(cmake/cbesConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/cbesConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cbes)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cbesConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cbesConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cbesConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cbes)
# cbes::group (find_package(cbes COMPONENTS group)) has an export set and a config file of its
# own, read only when the component is asked for: it alone needs the Consul client, so a plain
# find_package(cbes) looks for no libconsul.
install(TARGETS cbes_group EXPORT cbesGroupTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT cbesGroupTargets NAMESPACE cbes:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cbes)
install(FILES cmake/cbesGroup.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cbes)

# The programs are installed by apps/CMakeLists.txt, each by name; the fakes only on request.

# Example configs and the secrets templates they name, laid out as a $CBES_HOME (the connector's
# config/, secrets/ relative paths resolve against it), and the embedding examples' sources:
#   <prefix>/share/cbes/examples/{ao-quickstart-config.toml,consul.toml,connector/,libconsul/,libcbes/}
install(FILES examples/ao-quickstart-config.toml examples/consul.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cbes/examples)
install(DIRECTORY examples/connector examples/libconsul examples/libcbes
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cbes/examples)
