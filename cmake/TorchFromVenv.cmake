# LibTorch 2.x from the torch wheel in the project's Python environment
# (.venv, made by installer/setup-venv.sh), CUDA build included. No flags
# needed: the wheel's CMake package is found through torch.utils.cmake_prefix_path.
#
#   IMSM_PYTHON              the environment's python (default: <source>/.venv/bin/python; set in CMakeLists.txt)
#   IMSM_TORCH_FROM_VENV=OFF find_package(Torch) as usual (CMAKE_PREFIX_PATH / Torch_DIR)
#
# Sets IMSM_TORCH_CUDA (the LibTorch has a CUDA build and the CUDA toolkit
# compiles against it) and IMSM_PYTHON for the reference tests.
option(IMSM_TORCH_FROM_VENV "Find LibTorch in the torch wheel of IMSM_PYTHON's environment" ON)

if(IMSM_TORCH_FROM_VENV)
  if(NOT EXISTS "${IMSM_PYTHON}")
    message(FATAL_ERROR "No Python environment at ${IMSM_PYTHON}: run `bash installer/setup-venv.sh` (or pass -DIMSM_PYTHON=/path/to/venv/bin/python)")
  endif()
  execute_process(
    COMMAND "${IMSM_PYTHON}" -c "import torch; print(torch.utils.cmake_prefix_path); print(torch.__version__); print(torch.version.cuda or '')"
    OUTPUT_VARIABLE _torch_info ERROR_VARIABLE _torch_err RESULT_VARIABLE _torch_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _torch_rc EQUAL 0)
    string(REGEX REPLACE ".*\n([^\n]+)\n?$" "\\1" _torch_err "${_torch_err}")
    message(FATAL_ERROR "${IMSM_PYTHON} cannot import torch (${_torch_err}): run `bash installer/setup-venv.sh`")
  endif()
  string(REPLACE "\n" ";" _torch_info "${_torch_info}")
  list(GET _torch_info 0 _torch_prefix)
  list(GET _torch_info 1 IMSM_TORCH_WHEEL_VERSION)
  list(LENGTH _torch_info _n)
  set(_torch_cuda "")
  if(_n GREATER 2)
    list(GET _torch_info 2 _torch_cuda)
  endif()
  if(IMSM_TORCH_WHEEL_VERSION VERSION_LESS 2.0)
    message(FATAL_ERROR "torch ${IMSM_TORCH_WHEEL_VERSION} in ${IMSM_PYTHON} is older than 2.0: run `bash installer/setup-venv.sh`")
  endif()
  if(_torch_cuda STREQUAL "")
    message(FATAL_ERROR "torch ${IMSM_TORCH_WHEEL_VERSION} in ${IMSM_PYTHON} is a CPU-only build, and the engine compiles its CUDA path: run `bash installer/setup-venv.sh` (it installs the pinned CUDA build), or pass -DIMSM_TORCH_FROM_VENV=OFF with CMAKE_PREFIX_PATH at another LibTorch")
  endif()
  list(PREPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
else()
  set(_torch_cuda "unknown")
endif()

# The CUDA build of LibTorch configures with the CUDA toolkit (Caffe2's
# cuda.cmake), even where no GPU exists. Point it at the toolkit's nvcc and
# name the architectures: with no GPU there is nothing to detect.
set(IMSM_TORCH_CUDA OFF)
if(NOT _torch_cuda STREQUAL "")
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(_nvcc nvcc HINTS ENV CUDA_HOME PATHS /usr/local/cuda/bin NO_CACHE)
    if(NOT _nvcc)
      message(FATAL_ERROR "torch ${IMSM_TORCH_WHEEL_VERSION} is a CUDA ${_torch_cuda} build and needs the CUDA toolkit to build against: install it (nvcc in /usr/local/cuda/bin or on PATH), or set CMAKE_CUDA_COMPILER")
    endif()
    set(CMAKE_CUDA_COMPILER "${_nvcc}" CACHE FILEPATH "nvcc")
  endif()
  get_filename_component(_cuda_root "${CMAKE_CUDA_COMPILER}" DIRECTORY)
  get_filename_component(_cuda_root "${_cuda_root}" DIRECTORY)
  set(CUDAToolkit_ROOT "${_cuda_root}")
  set(CUDA_TOOLKIT_ROOT_DIR "${_cuda_root}")
  execute_process(COMMAND "${CMAKE_CUDA_COMPILER}" --version OUTPUT_VARIABLE _nvcc_out)
  string(REGEX MATCH "release ([0-9]+)\\.([0-9]+)" _ "${_nvcc_out}")
  set(_nvcc_major "${CMAKE_MATCH_1}")
  string(REGEX MATCH "^[0-9]+" _torch_cuda_major "${_torch_cuda}")
  if(NOT _torch_cuda STREQUAL "unknown" AND NOT _nvcc_major STREQUAL _torch_cuda_major)
    message(FATAL_ERROR "torch ${IMSM_TORCH_WHEEL_VERSION} is built with CUDA ${_torch_cuda}, the toolkit at ${_cuda_root} is CUDA ${CMAKE_MATCH_1}.${CMAKE_MATCH_2}: install a CUDA ${_torch_cuda_major}.x toolkit, or pin a torch built for CUDA ${_nvcc_major} in installer/python/requirements.in")
  endif()
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0+PTX")  # A100, H100/H200, and PTX for newer GPUs
  endif()
endif()

find_package(Torch REQUIRED)
if(IMSM_TORCH_FROM_VENV AND NOT _torch_cuda STREQUAL "")
  # The wheel's CUDA libraries (nvidia-* wheels beside torch) are the ones
  # LibTorch runs with; the toolkit's copies are for compiling only.
  #  - link time: LibTorch's own dependencies (NCCL, cuDNN, ...) resolve in the
  #    wheels, not in the toolkit's older copies that ld.so.cache lists;
  #  - run time: the CUDA runtime and NVRTC the engine links are the wheel's,
  #    so one libcudart is loaded, the one LibTorch was built with.
  get_filename_component(_site "${_torch_prefix}/../../.." ABSOLUTE)
  file(GLOB _wheel_lib_dirs LIST_DIRECTORIES true "${_site}/nvidia/*/lib")
  foreach(_d IN LISTS _wheel_lib_dirs)
    add_link_options("LINKER:-rpath-link,${_d}")
  endforeach()
  file(GLOB _wheel_cudart "${_site}/nvidia/*/lib/libcudart.so.[0-9]*")
  if(_wheel_cudart AND TARGET CUDA::cudart)
    list(GET _wheel_cudart 0 _wheel_cudart)
    set_property(TARGET CUDA::cudart PROPERTY IMPORTED_LOCATION "${_wheel_cudart}")
    set_property(TARGET CUDA::cudart PROPERTY IMPORTED_SONAME "")
  endif()
  if(CUDA_NVRTC_LIB)
    list(REMOVE_ITEM TORCH_LIBRARIES "${CUDA_NVRTC_LIB}")  # LibTorch loads its own NVRTC
  endif()
endif()
if(Torch_VERSION VERSION_LESS 2.0)
  message(FATAL_ERROR "LibTorch ${Torch_VERSION} found; the engine needs LibTorch 2.x: run `bash installer/setup-venv.sh`")
endif()
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(IMSM_TORCH_CUDA ON)
endif()
message(STATUS "LibTorch ${Torch_VERSION} (${_torch_prefix}), CUDA path: ${IMSM_TORCH_CUDA}")
