# lib.sh - shared by the t-*.sh token tests. Arguments: CTLSIGN SRC_DIR WORK_DIR [THREADS_BIN
# [CTLVERIFY MKFIXTURE]]
# Creates NTOKENS (default 2) fresh SoftHSM tokens in WORK_DIR (own SOFTHSM2_CONF).
set -euo pipefail
CTLSIGN=$1
SRC=$2
WORK=$3
THREADS_BIN=${4:-}
CTLVERIFY=${5:-}
MKFIXTURE=${6:-}
rm -rf "$WORK"
mkdir -p "$WORK"
eval "$("$SRC/scripts/softhsm-tokens" "$WORK/hsm" "${NTOKENS:-2}")"
MOD=$CTLSIGN_PKCS11_MODULE
export FACTORY=Cisco123 NEWPIN=N3w-Secret-PIN
SUBJECT='CN=SAST-ADN0001,O=Example Corp,OU=Voice'

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run WANT_RC cmd...: runs, keeps stdout in $WORK/out and stderr in $WORK/err.
run() {
	local want=$1 rc=0
	shift
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "--- stdout" >&2; cat "$WORK/out" >&2
		echo "--- stderr" >&2; cat "$WORK/err" >&2
		fail "expected exit $want, got $rc: $*"
	fi
}

# err_has TEXT / out_has TEXT
err_has() { grep -qF -- "$1" "$WORK/err" || { cat "$WORK/err" >&2; fail "stderr lacks '$1'"; }; }
out_has() { grep -qF -- "$1" "$WORK/out" || { cat "$WORK/out" >&2; fail "stdout lacks '$1'"; }; }

# The token directory of a label (SoftHSM file store).
token_dir() {
	local d
	for d in "$SOFTHSM_TOKENDIR"/*/; do
		if grep -qa -- "$1" "$d/token.object" 2>/dev/null; then
			echo "${d%/}"
			return 0
		fi
	done
	return 1
}

provision() { # label
	run 0 "$CTLSIGN" token provision --token "pkcs11:token=$1" --pin env:FACTORY --subject "$SUBJECT"
}
passwd() { # label
	run 0 "$CTLSIGN" token passwd --token "pkcs11:token=$1" --pin env:FACTORY --new-pin env:NEWPIN
}
