# Attack: a planted CTL that silently drops a real SAST record, laundered by a routine
# delete-token. The real CTL lists A, B and C. The attacker plants one signed by their
# own key that lists A, C and their own key (B is gone, among "unchanged" records). The
# officer's `ctl delete-token --token A SAST-C` would publish, signed by A, a CTL whose
# SAST records are A and the attacker. It must be refused (exit 6) before anything is
# signed; and the plan of `ctl diff` lists every SAST of the result (B visibly missing,
# the attacker's present).
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

real_create
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --add-token pkcs11:token=C
out_has "SAST  CN=SAST-C,O=Demo Corp,OU=Voice  SHA-256 $(cert_sha256 "$W/hsm/C.pem")  (new)"
oks=$(ok_records)
forge "$W/planted.tlv" "$W/evil.key" "$W/evil.pem" "$W/hsm/A.pem" "$W/hsm/C.pem" "$W/evil.pem"
cp "$W/planted.tlv" "$T1/CTLFile.tlv"
cp "$T2/CTLFile.tlv" "$W/t2.tlv"
planted=$(sha256 "$W/planted.tlv")
evil=$(cert_sha256 "$W/evil.pem")

run 6 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --pin env:PIN_A SAST-C
err_has "current CTL $T1/CTLFile.tlv (SHA-256 $planted) signed by CN=SAST-EVIL,O=Demo Corp,OU=Voice (certificate SHA-256 $evil)"
err_has "(a) fails"
out_lacks "published  "
refused_untouched "$W/planted.tlv" "$W/t2.tlv" "$oks"

# The update with a token added is refused the same way.
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
err_has "(a) fails"
refused_untouched "$W/planted.tlv" "$W/t2.tlv" "$oks"

# What the result would hold: A, C and the attacker; no B.
run 6 "$CTLSIGN" ctl diff --cluster "$CL" --json
python3 - "$W/out" "$evil" "$(cert_sha256 "$W/hsm/A.pem")" "$(cert_sha256 "$W/hsm/B.pem")" <<'PY' || fail "ctl diff --json"
import json, sys
d = json.load(open(sys.argv[1]))
evil, a, b = sys.argv[2:5]
fps = [s["sha256"] for s in d["sast"]]
assert evil in fps and a in fps and b not in fps, fps
assert d["anchor"]["anchored"] is False and d["anchor"]["by"] is None, d["anchor"]
assert d["current_signer"]["sha256"] == evil, d["current_signer"]
PY
