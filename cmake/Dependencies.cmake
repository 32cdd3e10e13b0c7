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
