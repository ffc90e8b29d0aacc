# Adopting a CTL made by the vendor's CTL client (issue 11 §5): a cluster whose CTLFile.tlv
# is in the vendor's layout (';' or eToken-quoted names, SAST records with an empty DNS
# name and no tag 8) and that ctlsign never published to is updated by `ctl update` when
# the officer presents the SAST token that signed it (anchor (b)): the vendor's SAST
# records are kept, the added token's is new, and a phone that holds the vendor's CTL
# installs the result. The eToken certificates are the tokens' own (imported into
# SoftHSM), rendered by the vendor as cn="SAST-ADN...        ";ou=IPCBU;o="Cisco Systems":
# the records are matched by decoded X.509 name and serial, never as strings.
# Refused (exit 6, nothing written): a vendor CTL whose signer's token is not presented,
# unless --trust-current gives its SHA-256.
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import cryptography' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3 with the cryptography module (tests/tools/gen_vendor.py)"; exit 77; }
GEN=$SRC/tests/tools/gen_vendor.py

# The vendor's eTokens: their key pairs imported into SoftHSM tokens E1, E2.
etoken() { # label pin subject
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/$1.key" -out "$W/$1.pem" -days 3650 \
    -sha256 -subj "$3" 2>/dev/null || fail "openssl could not make $1's certificate"
  softhsm_import_token "$1" "$2" "$W/$1.key" "$W/$1.pem" sast
}
etoken E1 pin-E1-1234 "/CN=SAST-ADN0054f509        /OU=IPCBU/O=Cisco Systems"
etoken E2 pin-E2-1234 "/CN=SAST-ADN0054f510        /OU=IPCBU/O=Cisco Systems"
export PIN_E1=pin-E1-1234 PIN_E2=pin-E2-1234

# The demo cluster's servers as the vendor's CTL lists them.
VSERVERS=("ccm+tftp:$CERTS/cucm1.pem:cucm1.demo.example:10.0.0.10"
          "ccm:$CERTS/cucm2.pem:cucm2.demo.example:10.0.0.11"
          "tftp:$CERTS/tftp1.pem:tftp1.demo.example:10.0.0.12"
          "capf:$CERTS/capf.pem:cucm1.demo.example:10.0.0.10"
          "tftp:$CERTS/alt1.pem:tftp.other.example:10.1.0.5"
          "ccm:$CERTS/asa1.pem:asa1.demo.example:10.0.0.1")

# vendor_ctl OUT NAMES SIGNER [gen_vendor.py options]: the vendor's CTL listing E1 and E2,
# signed by SIGNER.
vendor_ctl() {
  local out=$1 names=$2 signer=$3
  shift 3
  "$PY" "$GEN" ctl --key "$W/$signer.key" --cert "$W/$signer.pem" -o "$out" --names "$names" "$@" \
    "sast:$W/E1.pem" "sast:$W/E2.pem" "${VSERVERS[@]}" || fail "gen_vendor.py could not build $1"
}

# sast_sha256s FILE: the certificate SHA-256 of each SAST record, sorted.
sast_sha256s() {
  "$CTLVERIFY" show --json "$1" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print("\n".join(sorted(r["sha256"] for r in d["records"] if r["role"] == "SAST")))'
}

fresh() { # the cluster's directories and ctlsign's state as on a cluster ctlsign never ran on
  rm -rf "$CTLSIGN_STATE_DIR" "$T1" "$T2" "$W/phone"
  mkdir -p "$T1" "$T2"
}

# ';' names, SHA-512, no tag 28; eToken names, SHA-1, signer version 1.1.
for names in semicolon quoted; do
  fresh
  if [ "$names" = quoted ]; then
    vendor_ctl "$W/vendor-$names.tlv" "$names" E1 --digest sha1 --signer-version 1.1
  else
    vendor_ctl "$W/vendor-$names.tlv" "$names" E1
  fi
  # The layout is the vendor's: names in its syntax, SAST records with an empty DNS name.
  run 0 "$CTLVERIFY" show "$W/vendor-$names.tlv"
  if [ "$names" = quoted ]; then
    out_has 'subject                cn="SAST-ADN0054f509        ";ou=IPCBU;o="Cisco Systems"'
  else
    out_has 'subject                CN=SAST-ADN0054f509        ;OU=IPCBU;O=Cisco Systems'
  fi
  out_has "DNS name               (empty)"
  cp "$W/vendor-$names.tlv" "$T1/CTLFile.tlv"
  cp "$W/vendor-$names.tlv" "$T2/CTLFile.tlv"

  # A phone holding the vendor's CTL (pinned to E1's certificate).
  run 0 "$CTLVERIFY" install --store "$W/phone" --expect-sast "$(cert_sha256 "$W/E1.pem")" \
    "$W/vendor-$names.tlv"

  # Adopted with E1 (anchor b), C added.
  run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=E1 --pin env:PIN_E1 \
    --add-token pkcs11:token=C
  out_has "anchored (b): no record for $T1; it verifies with token 'E1'"
  out_has "published  $T1/CTLFile.tlv"
  out_has "published  $T2/CTLFile.tlv"
  cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || fail "$T1 and $T2 hold different CTLs after the update"
  ! cmp -s "$T1/CTLFile.tlv" "$W/vendor-$names.tlv" || fail "the update left the vendor's CTL in place"

  # The vendor's SAST records are kept, C's is new: exactly these three.
  want=$(printf '%s\n' "$(cert_sha256 "$W/E1.pem")" "$(cert_sha256 "$W/E2.pem")" \
         "$(cert_sha256 "$W/hsm/C.pem")" | sort)
  got=$(sast_sha256s "$T1/CTLFile.tlv")
  [ "$got" = "$want" ] || fail "SAST records after adopting ($names): $got, want $want"
  run 0 "$CTLVERIFY" check "$T1/CTLFile.tlv"
  out_has "CTL signed by"
  # The header names its signer with the kept record's own strings, byte for byte, so a
  # phone that compares the header's names with the records' as strings finds it too.
  "$CTLVERIFY" show --json "$T1/CTLFile.tlv" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
h = d["header"]
r = [r for r in d["records"] if r["role"] == "SAST" and r["sha256"] == sys.argv[1]]
assert len(r) == 1, r
r = r[0]
assert (h["signer_name"], h["issuer_name"], h["signer_serial"]) == (r["subject"], r["issuer"], r["serial"]), (h, r)
' "$(cert_sha256 "$W/E1.pem")" || fail "the header does not name its signer as the kept record does ($names)"
  # Kept as the vendor wrote them: its names, an empty DNS name, no certificate signature.
  run 0 "$CTLVERIFY" show "$T1/CTLFile.tlv"
  if [ "$names" = quoted ]; then
    out_has 'subject                cn="SAST-ADN0054f510        ";ou=IPCBU;o="Cisco Systems"'
  else
    out_has 'subject                CN=SAST-ADN0054f510        ;OU=IPCBU;O=Cisco Systems'
  fi
  [ "$(grep -c 'DNS name               (empty)' "$W/out")" = 2 ] || fail "the kept SAST records lost their empty DNS name"

  # The phone that holds the vendor's CTL installs the next one (signer E1 is a SAST of it).
  run 0 "$CTLVERIFY" install --store "$W/phone" "$T1/CTLFile.tlv"
  run 0 "$CTLVERIFY" status --store "$W/phone" --json
  grep -q "$(sha256 "$T1/CTLFile.tlv")" "$W/out" || fail "the phone does not hold the adopted CTL"

  # From now on the CTL is ctlsign's (anchor a): E2, a kept vendor SAST, signs the next.
  run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --force --token pkcs11:token=E2 \
    --pin env:PIN_E2
  out_has "anchored (a): the last CTL ctlsign published to $T1"
  run 0 "$CTLVERIFY" install --store "$W/phone" "$T1/CTLFile.tlv"
done

# Negative: the vendor's CTL is signed by E2, whose token is not presented (E1 and C are):
# no token of the run verifies it, so it is not adopted.
fresh
vendor_ctl "$W/vendor-e2.tlv" quoted E2
cp "$W/vendor-e2.tlv" "$T1/CTLFile.tlv"
cp "$W/vendor-e2.tlv" "$T2/CTLFile.tlv"
oks=$(ok_records)
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=E1 --pin env:PIN_E1 \
  --add-token pkcs11:token=C
err_has "(SHA-256 $(sha256 "$W/vendor-e2.tlv")) signed by cn=\"SAST-ADN0054f510        \";ou=IPCBU;o=\"Cisco Systems\""
err_has "no token presented in this run verifies it (b)"
refused_untouched "$W/vendor-e2.tlv" "$W/vendor-e2.tlv" "$oks"
# A wrong --trust-current does not help either.
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=E1 --pin env:PIN_E1 \
  --add-token pkcs11:token=C --trust-current "$(sha256 "$W/E1.pem")"
refused_untouched "$W/vendor-e2.tlv" "$W/vendor-e2.tlv" "$oks"
# With its SHA-256 compared out of band (c), E1 (a SAST of it) updates it.
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=E1 --pin env:PIN_E1 \
  --add-token pkcs11:token=C --trust-current "$(sha256 "$W/vendor-e2.tlv")"
out_has "anchored (c): its SHA-256 is the one given with --trust-current"
out_has "published  $T1/CTLFile.tlv"
want=$(printf '%s\n' "$(cert_sha256 "$W/E1.pem")" "$(cert_sha256 "$W/E2.pem")" \
       "$(cert_sha256 "$W/hsm/C.pem")" | sort)
got=$(sast_sha256s "$T1/CTLFile.tlv")
[ "$got" = "$want" ] || fail "SAST records after --trust-current: $got, want $want"
# A phone holding that vendor CTL (signed by E2) takes the next one, signed by E1.
run 0 "$CTLVERIFY" install --store "$W/phone" "$W/vendor-e2.tlv"
run 0 "$CTLVERIFY" install --store "$W/phone" "$T1/CTLFile.tlv"
