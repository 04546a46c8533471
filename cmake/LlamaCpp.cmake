# llama.cpp's ggml, built once per machine by installer/setup-llama-cpp.sh
# into a cache the clone's .llama.cpp links to (the sdist's source in src/,
# its build in build/). Only ggml-base is linked by the engine: the GGUF
# reader and writer and the quantization types' traits; the tools
# (llama-quantize, llama-simple) are run by the tests.
#
#   IMSM_WITH_GGUF   ON (required), OFF, or AUTO (when the build is found)
#   IMSM_LLAMA_CPP   the folder (default <source>/.llama.cpp)
#
# Sets IMSM_WITH_GGUF to ON or OFF, the imported target imsm::ggml_base and
# IMSM_LLAMA_CPP_BIN (the tools) and IMSM_LLAMA_CPP_SRC (convert_hf_to_gguf.py).
set(IMSM_WITH_GGUF AUTO CACHE STRING "Read and write GGUF through llama.cpp's ggml: ON, OFF or AUTO")
set(IMSM_LLAMA_CPP "${CMAKE_SOURCE_DIR}/.llama.cpp" CACHE PATH "llama.cpp built by installer/setup-llama-cpp.sh")

if(NOT IMSM_WITH_GGUF STREQUAL "OFF")
  set(_bin "${IMSM_LLAMA_CPP}/build/bin")
  set(_inc "${IMSM_LLAMA_CPP}/src/ggml/include")
  if(EXISTS "${_bin}/libggml-base.so" AND EXISTS "${_inc}/gguf.h" AND EXISTS "${IMSM_LLAMA_CPP}/.imsm-complete")
    # Through the link, not its target: a rebuilt cache (another version or
    # set of tools) is picked up by the binaries without configuring again.
    set(_real "${IMSM_LLAMA_CPP}")
    add_library(imsm::ggml_base SHARED IMPORTED GLOBAL)
    set_target_properties(imsm::ggml_base PROPERTIES
      IMPORTED_LOCATION "${_real}/build/bin/libggml-base.so"
      INTERFACE_INCLUDE_DIRECTORIES "${_real}/src/ggml/include")
    # libllama itself: only the tests' llama.cpp consumer links it (tests/llama_cpp).
    add_library(imsm::llama SHARED IMPORTED GLOBAL)
    set_target_properties(imsm::llama PROPERTIES
      IMPORTED_LOCATION "${_real}/build/bin/libllama.so"
      INTERFACE_INCLUDE_DIRECTORIES "${_real}/src/include;${_real}/src/ggml/include")
    set(IMSM_LLAMA_CPP_BIN "${_real}/build/bin")
    set(IMSM_LLAMA_CPP_SRC "${_real}/src")
    set(IMSM_WITH_GGUF ON)
    get_filename_component(_target "${IMSM_LLAMA_CPP}" REALPATH)
    message(STATUS "GGUF: llama.cpp's ggml from ${_real} (${_target})")
  elseif(IMSM_WITH_GGUF STREQUAL "ON")
    message(FATAL_ERROR "No llama.cpp build at ${IMSM_LLAMA_CPP}: run `bash installer/setup-llama-cpp.sh` (or -DIMSM_WITH_GGUF=OFF)")
  else()
    set(IMSM_WITH_GGUF OFF)
    message(STATUS "GGUF: off (run bash installer/setup-llama-cpp.sh, then configure again)")
  endif()
else()
  set(IMSM_WITH_GGUF OFF)
endif()
