# ctlsign token list against the card: both slots, serial, the certificate and its
# fingerprint, PIN flags that follow the retry counter.
[ -x "$CTLSIGN" ] || fail "ctlsign not built"
serial=$(serial_of card)
sha256=$(openssl dgst -sha256 -r "$VCARD_DIR/card.crt" | cut -d' ' -f1)
out=$("$CTLSIGN" token list --module "$MODULE") || fail "ctlsign token list failed"
must_contain "$out" "OpenPGP card \(User PIN \(sig\)\)" "text listing"
must_contain "$out" "$serial" "text listing serial"
must_contain "$out" "SAST-CARD" "text listing certificate subject"
json=$("$CTLSIGN" token list --module "$MODULE" --json) || fail "ctlsign token list --json failed"
json_check "$json" "len([t for t in v if t['serial'] == '$serial']) == 2"
json_check "$json" "any(o.get('cert') and o['cert']['sha256'].replace(':', '').lower() == '$sha256'
                        for t in v if t['label'] == 'OpenPGP card (User PIN (sig))' for o in t['objects'])"
json_check "$json" "all(not t['pin_flags']['final_try'] and not t['pin_flags']['locked'] for t in v)"
wrong_logins 2
json=$("$CTLSIGN" token list --module "$MODULE" --json)
json_check "$json" "all(t['pin_flags']['final_try'] and not t['pin_flags']['locked'] for t in v)"
wrong_logins 1
json=$("$CTLSIGN" token list --module "$MODULE" --json)
json_check "$json" "all(t['pin_flags']['locked'] for t in v)"
out=$("$CTLSIGN" token list --module "$MODULE")
must_contain "$out" "[Ll]ocked|LOCKED" "text listing of a locked token"
