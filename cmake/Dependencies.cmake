# Every dependency comes from Debian packages (see README "Dependencies").
find_package(CLI11 CONFIG REQUIRED)           # libcli11-dev
find_package(nlohmann_json CONFIG REQUIRED)   # nlohmann-json3-dev: writing JSON
find_package(spdlog CONFIG REQUIRED)          # libspdlog-dev
find_package(simdjson CONFIG REQUIRED)        # libsimdjson-dev: reading big JSON fast
find_package(ZLIB REQUIRED)                   # zlib1g-dev: .gz inputs
find_package(zstd CONFIG REQUIRED)            # libzstd-dev: .zst inputs
find_package(Threads REQUIRED)
if(HEAPSCOPE_BUILD_TESTS)
  find_package(doctest CONFIG REQUIRED)       # doctest-dev
  find_package(Boost 1.74 REQUIRED)           # libboost-graph-dev: the test oracle only
endif()
if(TARGET zstd::libzstd_shared)
  set(HEAPSCOPE_ZSTD_TARGET zstd::libzstd_shared)
else()
  set(HEAPSCOPE_ZSTD_TARGET zstd::libzstd_static)
endif()

# simdjson's On-Demand API is compiled only for the "builtin" implementation,
# i.e. the one the compiler flags allow; with plain x86-64 flags that is the
# scalar fallback (several times slower). When the build machine has AVX2 (the
# machines heapscope is built and run on do), the readers are compiled for
# simdjson's haswell kernel. HEAPSCOPE_READER_ARCH_FLAGS overrides the choice
# (set it empty for a portable binary).
if(NOT DEFINED HEAPSCOPE_READER_ARCH_FLAGS)
  set(HEAPSCOPE_READER_ARCH_FLAGS "")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    include(CheckCXXSourceRuns)
    check_cxx_source_runs("int main(){return __builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"bmi2\") && __builtin_cpu_supports(\"pclmul\") ? 0 : 1;}"
                          HEAPSCOPE_HOST_HAS_AVX2)
    if(HEAPSCOPE_HOST_HAS_AVX2)
      set(HEAPSCOPE_READER_ARCH_FLAGS "-mavx2;-mbmi;-mbmi2;-mlzcnt;-mpclmul;-mpopcnt")
    endif()
  endif()
endif()
message(STATUS "heapscope: reader SIMD flags: '${HEAPSCOPE_READER_ARCH_FLAGS}'")
