# FindCHOLMOD.cmake - locates CHOLMOD (SuiteSparse) for builds where
# SuiteSparse ships no CMake package (Debian 12: SuiteSparse 5.12).
# Defines CHOLMOD_FOUND and the imported target CHOLMOD::CHOLMOD.
find_path(CHOLMOD_INCLUDE_DIR cholmod.h PATH_SUFFIXES suitesparse)
find_library(CHOLMOD_LIBRARY cholmod)
find_library(SUITESPARSECONFIG_LIBRARY suitesparseconfig)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CHOLMOD DEFAULT_MSG CHOLMOD_LIBRARY CHOLMOD_INCLUDE_DIR)
if(CHOLMOD_FOUND AND NOT TARGET CHOLMOD::CHOLMOD)
  add_library(CHOLMOD::CHOLMOD UNKNOWN IMPORTED)
  set_target_properties(CHOLMOD::CHOLMOD PROPERTIES
    IMPORTED_LOCATION "${CHOLMOD_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CHOLMOD_INCLUDE_DIR}")
  if(SUITESPARSECONFIG_LIBRARY)
    set_property(TARGET CHOLMOD::CHOLMOD APPEND PROPERTY
      INTERFACE_LINK_LIBRARIES "${SUITESPARSECONFIG_LIBRARY}")
  endif()
endif()
mark_as_advanced(CHOLMOD_INCLUDE_DIR CHOLMOD_LIBRARY SUITESPARSECONFIG_LIBRARY)
