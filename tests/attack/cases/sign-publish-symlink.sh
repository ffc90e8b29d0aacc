# Attack 4: someone who can write tftp-backup/ (and holds no token) replaces CTLFile.tlv
# there with a symbolic link to a 0600 secret, hoping the next `ctl update` copies the
# secret into tftp-backup/CTLFile.tlv.bak, inside the TFTP-served tree. Required: the
# update is refused (exit 9) with one line naming the link, the secret is copied nowhere,
# nothing is published in any directory. The same for a FIFO or a directory planted as
# the lock file (and no hang on the FIFO).
need_ctlsign
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
softhsm_token A pin-A-1234
softhsm_token B pin-B-1234
export PIN_A=pin-A-1234 PIN_B=pin-B-1234
cp -r "$SRC/examples/demo-cluster" "$W/cluster"
CL=$W/cluster/cluster.ini T1=$W/cluster/tftp T2=$W/cluster/tftp-backup
mkdir -p "$T1" "$T2"
M=(--module "$SOFTHSM_MODULE")
run 0 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --token pkcs11:token=B --pin env:PIN_B

SECRET="the officer's private notes: not for phones"
printf '%s\n' "$SECRET" >"$W/secret"
chmod 600 "$W/secret"
rm "$T2/CTLFile.tlv"
ln -s "$W/secret" "$T2/CTLFile.tlv"
# what the TFTP tree holds before (names, types and contents)
tree() { (cd "$W/cluster" && find tftp tftp-backup -printf '%p %y %l\n' | sort && sha256sum tftp/*); }
tree >"$W/before"

update() { "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A --mode non-secure --wait 0; }
run 9 update
err_has "$T2/CTLFile.tlv is a symbolic link"
[ "$(wc -l <"$W/err")" = 1 ] || fail "more than one line on stderr: $(cat "$W/err")"
! grep -rqF -- "$SECRET" "$W/cluster" || fail "the secret was copied into the TFTP tree"
tree >"$W/after"
diff "$W/before" "$W/after" >&2 || fail "something was published or changed"

# the first directory's CTLFile.tlv, read as the current CTL: never through a link
# (ctl update and ctl diff), so the secret is neither parsed nor shown
mv "$T1/CTLFile.tlv" "$W/ctl1.tlv"
ln -s "$W/ctl1.tlv" "$T1/CTLFile.tlv"
run 9 update
err_has "$T1/CTLFile.tlv is a symbolic link"
run 9 "$CTLSIGN" ctl diff --cluster "$CL"
err_has "$T1/CTLFile.tlv is a symbolic link"
rm "$T1/CTLFile.tlv"
mv "$W/ctl1.tlv" "$T1/CTLFile.tlv"

# a FIFO, then a directory, planted as the lock file of the second directory
rm "$T2/CTLFile.tlv"
cp "$T1/CTLFile.tlv" "$T2/CTLFile.tlv"
tree >"$W/before"
mkfifo "$T2/.ctlsign.lock"
run 9 update
err_has "$T2/.ctlsign.lock is a FIFO"
rm "$T2/.ctlsign.lock"
mkdir "$T2/.ctlsign.lock"
run 9 update
err_has "$T2/.ctlsign.lock is a directory"
rmdir "$T2/.ctlsign.lock"
tree >"$W/after"
diff "$W/before" "$W/after" >&2 || fail "something was published or changed"
# and with the planted files gone, the same update goes through
run 0 update
