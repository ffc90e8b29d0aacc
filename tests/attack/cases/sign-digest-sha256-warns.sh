# Hash code 2 (SHA-256) is ours to read, but phones and other tools refuse it (the vendor's
# files use 1 and 3): choosing it, by --digest or by a cluster file's digest, warns on
# stderr. sha512 does not warn. (Reading code 2 stays: cli.check-sgn-sha256.)
need_ctlsign
WARN="digest sha256 (hash code 2) may be refused by phones and other tools"
for cmd in sign encrypt; do
  run 2 "$CTLSIGN" "$cmd" --digest sha256
  err_has "$WARN"
  run 2 "$CTLSIGN" "$cmd" --digest sha512
  ! grep -qF "hash code 2" "$W/err" || fail "$cmd --digest sha512 warned"
done
cp -r "$SRC/examples/demo-cluster" "$W/c"
sed -i 's/^digest = .*/digest = sha256/' "$W/c/cluster.ini"
grep -q '^digest = sha256' "$W/c/cluster.ini" || fail "could not set digest = sha256"
run 3 "$CTLSIGN" ctl diff --cluster "$W/c/cluster.ini"
err_has "cluster.ini:6: $WARN"
sed -i 's/^digest = .*/digest = sha512/' "$W/c/cluster.ini"
run 3 "$CTLSIGN" ctl diff --cluster "$W/c/cluster.ini"
! grep -qF "hash code 2" "$W/err" || fail "digest = sha512 warned"
