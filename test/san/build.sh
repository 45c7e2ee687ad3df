#!/usr/bin/env bash
# test/san/build.sh: the sanitized build of Troika, in .build-san/ beside the
# normal in-tree one.
#
#   test/san/build.sh [MAKE-TARGET...]     (default: everything)
#
# clang with AddressSanitizer + UndefinedBehaviorSanitizer in every object
# (configure --enable-sanitizers) and libFuzzer's coverage instrumentation
# (--enable-fuzzing), so one build serves both the sanitizer pass of
# `./quickstart test` (unit and integration suites) and the fuzz targets of
# test/fuzz. Automake refuses a VPATH build next to a configured source
# folder (and would pick up its objects), so the build folder holds a copy
# of the sources: rsync copies what .gitignore does not name, keeping
# mtimes, so a second run copies and rebuilds only what changed. The folder
# is TROIKA_SAN_DIR (default .build-san); it prints that path last.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${TROIKA_SAN_DIR:-$src/.build-san}

die() { printf 'test/san/build.sh: %s\n' "$*" >&2; exit 1; }
for t in clang clang++ rsync; do
    command -v "$t" >/dev/null 2>&1 ||
        die "$t not found (./quickstart test installs clang, libclang-rt-14-dev, libomp-14-dev and rsync)"
done

mkdir -p "$dir"
# Excluded files (build products on either side) are neither copied nor
# deleted, so the build folder keeps its objects; out/ holds what runs
# leave (fuzz corpora and crash inputs, sanitizer reports).
rsync -a --delete --filter=':- .gitignore' --filter='P /out/' --exclude=/.git --exclude=/.build-san \
    "$src/" "$dir/"

cd "$dir"
[ -x configure ] || ./autogen.sh >autogen.log 2>&1 || { cat autogen.log; die "autogen failed"; }
args=(CC=clang CXX=clang++ --enable-sanitizers --enable-fuzzing --enable-test-hooks
      "--with-default-config=$src/.run/troika.conf")
want=" $(printf '%s ' "${args[@]}")"
# Reconfigure only when an argument changed (a plain `make` reruns configure
# by itself when configure.ac or Makefile.am did).
if [ ! -f Makefile ] || [ ! -x config.status ] || [ "$(cat .san-args 2>/dev/null)" != "$want" ]; then
    ./configure "${args[@]}" >configure.log 2>&1 || { tail -n 30 configure.log; die "configure failed (log: $dir/configure.log)"; }
    printf '%s' "$want" >.san-args
fi
# BUILT_SOURCES are made by `make all` only; a single target needs them first.
{ make troika_paths.h && make -j"$(nproc)" "$@"; } >make.log 2>&1 || { grep -E 'error|Error' make.log | head -n 40; die "make failed (log: $dir/make.log)"; }
echo "$dir"
