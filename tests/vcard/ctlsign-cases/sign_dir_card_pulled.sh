# ctlsign sign --dir with the card's key on 200 small configs; the card is pulled
# once the first .sgn appears: exit 11, every .sgn written verifies with the card's
# certificate, and no partial or temporary files are left.
[ -x "$CTLSIGN" ] || fail "ctlsign not built"
[ -x "${CTLVERIFY:-}" ] || fail "ctlverify not built (CTLVERIFY)"
export PIN=$PW1 CTLSIGN_AUDIT_LOG=$work/audit.log CTLSIGN_STATE_DIR=$work/state
# A CTL (signed by token2) that lists the card as a TFTP server, so it may sign configs.
second_card_and_cluster
openssl x509 -inform DER -in "$VCARD_DIR/card.crt" -out "$work/cluster/certs/card.pem"
printf '\n[server cardtftp]\nrole = tftp\nhost = tftp9.demo.example\nip = 10.0.0.99\ncert = certs/card.pem\n' \
  >>"$work/cluster/cluster.ini"
uri1="$SIG_URI;serial=$(serial_of card)"
uri2="$SIG_URI;serial=$(serial_of token2)"
"$CTLSIGN" ctl create --cluster "$work/cluster/cluster.ini" --module "$MODULE" \
  --token "$uri1" --pin env:PIN --token "$uri2" --pin env:PIN --yes </dev/null >"$work/out" 2>&1 ||
  { cat "$work/out" >&2; fail "ctl create with the two cards"; }
"$stack" remove token2
T=$work/cluster/tftp
for i in $(seq -w 200); do printf '<device><n>%s</n></device>\n' "$i" >"$T/SEP000000000$i.cnf.xml"; done
"$CTLSIGN" sign --dir "$T" --module "$MODULE" --key "$uri1" --pin env:PIN -j1 -q \
  </dev/null >"$work/out" 2>"$work/err" &
pid=$!
first=false
for _ in $(seq 1200); do
  if compgen -G "$T/*.sgn" >/dev/null; then first=true; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
$first || { wait "$pid" || true; cat "$work/out" "$work/err" >&2; fail "no .sgn appeared"; }
"$stack" remove card
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 11 ] || { cat "$work/out" "$work/err" >&2; fail "card pulled while signing: exit $rc, want 11"; }
# OpenSC reports the card vanishing mid-signature through vpcd as CKR_GENERAL_ERROR (not
# CKR_DEVICE_REMOVED); the token layer then asks the slot and must still say "removed",
# what was done, and to run again.
must_contain "$(cat "$work/err")" "was removed: put it back" "removal named for the pulled card"
must_contain "$(cat "$work/err")" "stopped: .* [0-9]+ files? (was|were) signed before that; run the same command again" \
  "message for the pulled card"
n=$(compgen -G "$T/*.sgn" | wc -l)
[ "$n" -ge 1 ] && [ "$n" -lt 200 ] || fail "$n .sgn files after the card was pulled (want 1..199)"
for f in "$T"/*.sgn; do
  "$CTLVERIFY" check "$f" --cert "$VCARD_DIR/card.crt" >/dev/null || fail "$(basename "$f") does not verify"
done
left=$(ls -A "$T" | grep -vE '\.cnf\.xml(\.sgn)?$' | grep -vxF -e CTLFile.tlv -e .ctlsign.lock || true)
[ -z "$left" ] || fail "temporary or partial files left: $left"
