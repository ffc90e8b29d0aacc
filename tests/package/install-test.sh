#!/usr/bin/env bash
# tests/package/install-test.sh - the Debian packages, as a host installs them.
# Run by scripts/test (step "== packages"); runs on its own too:
#   tests/package/install-test.sh
# Builds the packages (scripts/package, which reuses build/package), unpacks each with
# `dpkg -x` into a scratch root, and checks: the four packages exist; Depends computed
# from the binaries, with libp11 and pcsc-lite only for ctlsign; -dev depends on the
# exact libctlverify0; the library's SONAME, links and exports (ctlv_* only); no test
# hook name in the packaged ctlsign (the control: a variable it does read,
# CTLSIGN_PKCS11_MODULE, is seen); ctlverify --version runs from the root; completion and man
# pages are there; a small C program builds against the unpacked header and pkg-config
# file and runs (installs the vector CTL into an in-memory store).
# Ends with "packages: ok"; otherwise one line saying what is wrong, exit 1.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fail() { echo "packages: FAIL: $*" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ctl-packages.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$src/scripts/package" --out "$W/debs" >"$W/list" 2>"$W/package.log" ||
  { tail -n 20 "$W/package.log" >&2; fail "scripts/package failed (its output above)"; }
deb() { # package name -> its .deb
  local f
  f=$(grep -E "/$1_[^/_]+_[^/_]+\.deb$" "$W/list" || true)
  [ -n "$f" ] && [ -f "$f" ] || fail "scripts/package did not print a $1 package"
  echo "$f"
}
sign=$(deb ctlsign) verify=$(deb ctlverify) lib=$(deb libctlverify0) dev=$(deb libctlverify-dev)
[ "$(wc -l <"$W/list")" -eq 4 ] || fail "expected 4 packages, got: $(tr '\n' ' ' <"$W/list")"
echo "packages: built $(for f in "$sign" "$verify" "$lib" "$dev"; do printf '%s ' "${f##*/}"; done)"

# Depends: computed (shlibdeps found the libraries each binary links), and the
# verifier side free of the token stack.
depends() { dpkg-deb -f "$1" Depends; }
version=$(dpkg-deb -f "$lib" Version)
for f in "$verify" "$lib"; do
  d=$(depends "$f")
  [[ $d == *libssl3* ]] || fail "${f##*/}: Depends not computed from the binary (no libssl3): $d"
  if grep -qiE 'libp11|pcsc' <<<"$d"; then
    fail "${f##*/} depends on the token stack (libp11/pcsc-lite): $d"
  fi
done
d=$(depends "$sign")
[[ $d == *libp11-* && $d == *libpcsclite* ]] ||
  fail "ctlsign: Depends lacks libp11 or pcsc-lite (shlibdeps not run?): $d"
d=$(depends "$dev")
[[ ", $d," == *", libctlverify0 (= $version),"* ]] ||
  fail "libctlverify-dev must depend on libctlverify0 (= $version): $d"
echo "packages: Depends ok (ctlverify: $(depends "$verify"))"

R=$W/root
for f in "$sign" "$verify" "$lib" "$dev"; do dpkg -x "$f" "$R"; done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
L=$R/usr/lib/$multiarch

# The library: SONAME libctlverify.so.0, run-time link in libctlverify0, the .so link in
# -dev, nothing but ctlv_* exported.
# (listings into variables: grep -q on a pipe would kill dpkg-deb with SIGPIPE)
lib_files=$(dpkg-deb -c "$lib") dev_files=$(dpkg-deb -c "$dev")
grep -q " ./usr/lib/$multiarch/libctlverify.so.0 -> " <<<"$lib_files" ||
  fail "libctlverify0 lacks the SONAME link libctlverify.so.0"
grep -q " ./usr/lib/$multiarch/libctlverify.so -> " <<<"$dev_files" ||
  fail "libctlverify-dev lacks the link libctlverify.so"
if grep -q 'libctlverify\.so ' <<<"$lib_files"; then
  fail "libctlverify0 ships libctlverify.so (belongs to -dev)"
fi
soname=$(readelf -d "$L/libctlverify.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libctlverify.so.0 ] || fail "libctlverify's SONAME is '$soname', not libctlverify.so.0"
others=$(nm -D --defined-only "$L/libctlverify.so.0" | awk '$3 !~ /^ctlv_/ { print $3 }')
[ -z "$others" ] || fail "libctlverify exports more than ctlv_*: $(echo $others)"
echo "packages: libctlverify.so.0 ok (SONAME, links, $(nm -D --defined-only "$L/libctlverify.so.0" | wc -l) ctlv_* exports)"

# No test hooks in the packaged ctlsign: faults are injected from outside (strace, the
# tests' PKCS#11 shim), so no CTLSIGN_TEST_ or P11SHIM_ name may be in it (the same check
# as the p11shim.no-hooks-in-ctlsign test of every build). The control: a name it does
# read is seen, so the check would see one.
strs=$(strings "$R/usr/bin/ctlsign")
grep -q '^CTLSIGN_PKCS11_MODULE$' <<<"$strs" ||
  fail "control: strings finds no CTLSIGN_PKCS11_MODULE in the packaged ctlsign: the check sees nothing"
n=$(grep -cE 'CTLSIGN_TEST_|P11SHIM_' <<<"$strs" || true)
[ "$n" -eq 0 ] || fail "the packaged ctlsign contains $n CTLSIGN_TEST_/P11SHIM_ strings (test hooks)"
echo "packages: no test hooks in ctlsign"

# The programs run from the scratch root.
export LD_LIBRARY_PATH=$L${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
out=$("$R/usr/bin/ctlverify" --version) || fail "ctlverify --version failed from the unpacked package"
[ "$out" = "ctlverify $version" ] || fail "ctlverify --version printed '$out', not 'ctlverify $version'"
out=$("$R/usr/bin/ctlsign" --version) || fail "ctlsign --version failed from the unpacked package"
echo "packages: $("$R/usr/bin/ctlverify" --version) and $out run from the unpacked root"

for f in usr/share/bash-completion/completions/ctlsign usr/share/bash-completion/completions/ctlverify \
         usr/share/man/man1/ctlsign.1 usr/share/man/man1/ctlverify.1; do
  [ -s "$R/$f" ] || fail "/$f is missing from the packages"
done
bash -n "$R/usr/share/bash-completion/completions/ctlsign" ||
  fail "the packaged ctlsign completion is not valid bash"

# A client program against the unpacked header and pkg-config file. The .pc file is
# relocatable (prefix from its own location), so PKG_CONFIG_PATH alone points into the
# root; PKG_CONFIG_SYSROOT_DIR would prefix the root a second time.
cat >"$W/client.c" <<'C'
#include <ctlverify.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	ctlv_store *s = ctlv_store_new();
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	size_t n;
	int rc;

	if (!s || !f)
		return 99;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	rc = ctlv_install(s, buf, n, CTLV_KIND_CTL);
	if (rc != CTLV_OK) {
		printf("install: %d %s\n", rc, ctlv_last_error(s));
		ctlv_store_free(s);
		return rc;
	}
	printf("held CTL: %zu records, %s\n", ctlv_held_records(s, CTLV_KIND_CTL),
	       ctlv_last_note(s));
	ctlv_store_free(s);
	return 0;
}
C
export PKG_CONFIG_PATH=$L/pkgconfig
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
cflags=$(pkg-config --cflags ctlverify) || fail "pkg-config finds no ctlverify in $L/pkgconfig"
libs=$(pkg-config --libs ctlverify) || fail "pkg-config --libs ctlverify failed"
inc=$(pkg-config --variable=includedir ctlverify) libdir=$(pkg-config --variable=libdir ctlverify)
[ "$(realpath -m "$inc")" = "$(realpath "$R/usr/include")" ] ||
  fail "ctlverify.pc's includedir $inc is not the unpacked /usr/include"
[ "$(realpath -m "$libdir")" = "$(realpath "$L")" ] ||
  fail "ctlverify.pc's libdir $libdir is not the unpacked /usr/lib/$multiarch"
gcc -std=c11 -Wall -Wextra -Werror $cflags -o "$W/client" "$W/client.c" $libs 2>"$W/cc.log" ||
  { cat "$W/cc.log" >&2; fail "a client program does not build against the unpacked header and ctlverify.pc"; }
[ "$(readelf -d "$W/client" | sed -n 's/.*(NEEDED).*\[\(libctlverify[^]]*\)\].*/\1/p')" = libctlverify.so.0 ] ||
  fail "the client program does not need libctlverify.so.0"
out=$("$W/client" "$src/tests/data/vectors/CTLFile.tlv") ||
  fail "the client program linked with the unpacked libctlverify failed: $out"
echo "packages: client program built with pkg-config ($cflags $libs): $out"
echo "packages: ok"
