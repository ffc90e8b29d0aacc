# Token selection by URI: none, several, by serial, model and manufacturer.
. "$(dirname "$0")/lib.sh"

printf 'x\n' >"$WORK/msg"
run 11 "$CTLSIGN" token sign --pin env:FACTORY --in "$WORK/msg" --out "$WORK/sig"
err_has "2 tokens present"
err_has "'SAST1'"
err_has "'SAST2'"
run 11 "$CTLSIGN" token sign --token pkcs11:token=NOPE --pin env:FACTORY --in "$WORK/msg" --out "$WORK/sig"
err_has "no token matches"
err_has "'SAST1'"
run 11 "$CTLSIGN" token sign --token "pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2" --pin env:FACTORY --in "$WORK/msg" --out "$WORK/sig"
err_has "matches 2 tokens"
run 2 "$CTLSIGN" token list --token "pkcs11:token=SAST1;bogus=1"
err_has "unknown path attribute 'bogus'"

serial=$(python3 -c '
import json, subprocess, sys
t = json.loads(subprocess.check_output([sys.argv[1], "token", "list", "--json"]))
print([x for x in t if x["label"] == "SAST2"][0]["serial"])' "$CTLSIGN")
run 0 "$CTLSIGN" token list --token "pkcs11:serial=$serial"
out_has "token 'SAST2'"
run 0 "$CTLSIGN" token list --token "pkcs11:token=SAST%31"
out_has "token 'SAST1'"

# The only token: no URI needed. (Move SAST2 out of the store.)
mv "$(token_dir SAST2)" "$WORK/parked"
provision SAST1
run 0 "$CTLSIGN" token passwd --pin env:FACTORY --new-pin env:NEWPIN
run 0 "$CTLSIGN" token sign --pin env:NEWPIN --in "$WORK/msg" --out "$WORK/sig"
echo ok
