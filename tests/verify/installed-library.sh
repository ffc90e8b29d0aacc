#!/usr/bin/env bash
# installed-library.sh CMAKE BUILD PREFIX CC CFLAGS CLIENT.c VECTORS
# `cmake --install` into PREFIX, then builds client.c with the installed ctlverify.h and
# ctlverify.pc only, runs it on the vectors, and checks the installed programs and man page.
set -euo pipefail
CMAKE=$1 BUILD=$2 PREFIX=$3 CC=$4 CFLAGS=$5 CLIENT=$6 V=$7
rm -rf "$PREFIX"
"$CMAKE" --install "$BUILD" --prefix "$PREFIX" >/dev/null
pc=$(find "$PREFIX" -name ctlverify.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no ctlverify.pc installed" >&2; exit 1; }
[ -x "$PREFIX/bin/ctlverify" ] || { echo "FAIL: no bin/ctlverify" >&2; exit 1; }
[ -f "$PREFIX/share/man/man1/ctlverify.1" ] || { echo "FAIL: no man1/ctlverify.1" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
inc=$(pkg-config --cflags ctlverify)
libs=$(pkg-config --libs ctlverify)
case "$inc" in *"$PREFIX"*) ;; *) echo "FAIL: pkg-config cflags '$inc' do not point into $PREFIX" >&2; exit 1;; esac
[ -f "$PREFIX/include/ctlverify.h" ] || { echo "FAIL: header not installed" >&2; exit 1; }
# The public header must stand alone: no ctl.h, no OpenSSL headers needed.
! grep -q '#include "ctl.h"\|openssl/' "$PREFIX/include/ctlverify.h" || { echo "FAIL: header pulls internals" >&2; exit 1; }
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Werror $CFLAGS $inc -o "$PREFIX/client" "$CLIENT" $libs
libdir=$(pkg-config --variable=libdir ctlverify)
# Only ctlv_* may be exported.
bad=$(nm -D --defined-only "$libdir/libctlverify.so" | awk '$2 ~ /[TDB]/ {print $3}' | grep -v '^ctlv_' | grep -v '^_' || true)
[ -z "$bad" ] || { echo "FAIL: libctlverify.so exports non-ctlv_ symbols: $bad" >&2; exit 1; }
store=$PREFIX/store
rm -rf "$store"
LD_LIBRARY_PATH=$libdir ASAN_OPTIONS=detect_leaks=1 "$PREFIX/client" "$store" "$V"
echo "ok: installed library works"
