# lib.sh - helpers for the vcard test cases (sourced by run-case.sh).
MODULE=${VCARD_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
USER_TOKEN="OpenPGP card (User PIN)"
SIG_TOKEN="OpenPGP card (User PIN (sig))"
export PW1=123456 PW3=12345678
work=$VCARD_DIR/work
mkdir -p "$work"

p11() { pkcs11-tool --module "$MODULE" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# must_contain TEXT PATTERN WHAT
must_contain() { grep -qE -- "$2" <<<"$1" || { echo "$1" >&2; fail "$3: no match for '$2'"; }; }
must_not_contain() { ! grep -qE -- "$2" <<<"$1" || { echo "$1" >&2; fail "$3: unexpected '$2'"; }; }

# token_flags LABEL: the "token flags" line of that token in pkcs11-tool -L.
token_flags() {
  p11 -L 2>/dev/null | awk -v l="$1" '
    /token label/ { sub(/^[^:]*: /, ""); cur = $0 }
    /token flags/ && cur == l { sub(/^[^:]*: /, ""); print; exit }'
}

# sign_with PINVAR IN OUT: sign IN with the card's signature key (SHA256-RSA-PKCS).
sign_with() {
  p11 --token-label "$SIG_TOKEN" --login --pin "env:$1" --sign --mechanism SHA256-RSA-PKCS \
    --id 01 -i "$2" -o "$3"
}

# serial_of CARD: the token serial OpenSC shows for a card of this stack.
serial_of() {
  python3 -c 'import json,sys; print("ffff" + json.load(open(sys.argv[1]))["serial"].lower())' \
    "$VCARD_DIR/$1.json"
}

# The sig slot of this stack's card as an RFC 7512 URI (OpenSC shows two slots).
SIG_URI="pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))"
USER_URI="pkcs11:token=OpenPGP%20card%20(User%20PIN)"

# json_check JSON PYTHON-EXPR: evaluates the expression with `v` = the parsed JSON.
json_check() {
  python3 -c 'import json, sys
v = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || { echo "$1" >&2; fail "JSON check failed: $2"; }
}

# wrong_logins N: N failed logins with a wrong PIN through pkcs11-tool.
wrong_logins() {
  local i
  export BAD=999999
  for i in $(seq "$1"); do
    p11 --token-label "$SIG_TOKEN" --login --pin env:BAD -O >/dev/null 2>&1 && fail "a wrong PIN logged in"
  done
  true
}

# second_card_and_cluster: a second card, token2 (reader slot 1, certificate
# CN=SAST-TOKEN2,O=Example Corp,OU=Voice), provisioned next to the first, and a copy of
# the demo cluster in $work/cluster with its two output directories.
second_card_and_cluster() {
	"$stack" insert token2 1
	"$stack" provision token2 >/dev/null
	cp -r "$root/examples/demo-cluster" "$work/cluster"
	mkdir -p "$work/cluster/tftp" "$work/cluster/tftp-backup"
}
