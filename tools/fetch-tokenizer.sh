#!/bin/sh
# fetch-tokenizer.sh: installs the cl100k_base rank file the upload and chat
# routes count tokens with. It fetches a pinned version of the npm registry's
# `tiktoken` package with npm into a cache folder, checks the tarball's and
# the rank file's SHA-256 against tools/tokenizer.sha256 (committed), and
# copies encoders/cl100k_base.json to DEST (the `tokenizer_file` config key).
# Nothing downloads at run time; without the file the app counts with an
# estimate and says so (docs/upload.md).
#
#   tools/fetch-tokenizer.sh [DEST]      prints the path of the cached file
#
# Environment: TROIKA_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/troika).
# Needs npm (Debian package npm) only when the cache is empty.
set -eu

VERSION=1.0.22
here=$(cd "$(dirname "$0")" && pwd)
sums=$here/tokenizer.sha256
cache=${TROIKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/troika}
dir=$cache/tiktoken-$VERSION
tgz=tiktoken-$VERSION.tgz
rank=package/encoders/cl100k_base.json

check() {   # check FILE: its line of tokenizer.sha256 must match
    want=$(awk -v f="$1" '$2 == f { print $1 }' "$sums")
    [ -n "$want" ] || { echo "fetch-tokenizer: no checksum for $1 in $sums" >&2; exit 1; }
    [ -f "$dir/$1" ] || return 1
    have=$(sha256sum "$dir/$1" | cut -d' ' -f1)
    [ "$have" = "$want" ]
}

if ! check "$rank" 2>/dev/null; then
    mkdir -p "$dir"
    if ! check "$tgz"; then
        command -v npm >/dev/null 2>&1 || {
            echo "fetch-tokenizer: npm not found (apt-get install npm)" >&2; exit 1; }
        rm -f "$dir/$tgz"
        (cd "$dir" && npm pack --silent "tiktoken@$VERSION" >/dev/null)
        check "$tgz" || {
            echo "fetch-tokenizer: $dir/$tgz does not match its pinned SHA-256; refusing it" >&2
            rm -f "$dir/$tgz"; exit 1; }
    fi
    rm -rf "$dir/package"
    tar -xzf "$dir/$tgz" -C "$dir"
    check "$rank" || {
        echo "fetch-tokenizer: $dir/$rank does not match its pinned SHA-256" >&2; exit 1; }
fi

if [ $# -ge 1 ] && [ -n "$1" ]; then
    mkdir -p "$(dirname "$1")"
    tmp="$1.tmp.$$"
    cp "$dir/$rank" "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$1"
    echo "$1"
else
    echo "$dir/$rank"
fi
