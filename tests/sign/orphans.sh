#!/usr/bin/env bash
# Issue 12 §9: stale .sgn files. After configs are deleted, `sign --dir` reports their
# .sgn as orphans (summary, stderr, JSON) and `--prune` removes them, audited (intent
# records naming each file and its SHA-256 before the first removal, an outcome after).
# Narrowly: an encrypted phone's minimal .sgn (X.enc.sgn beside it), a .sgn signed by
# another key, one whose X is not eligible (firmware) or is excluded, and one whose header
# names another file are never orphans.
. "$(dirname "$0")/lib.sh" "$@"
MKFIXTURE=$(dirname "$SGNTOOL")/../verify/mkfixture
T=$WORK/tftp; C=$WORK/certs; mkdir "$T" "$C"; cd "$WORK"
cp "$V/CTLFile.tlv" "$T/"
for i in 10 11 12 13 14; do
  printf '<device><n>%s</n></device>\n' "$i" >"$T/SEP0000000000$i.cnf.xml"
done
printf '<CiscoIPPhoneRingList/>\n' >"$T/RingList.xml"
KEY=(--key "pkcs11:token=tftp")
sign "${KEY[@]}" --dir "$T" -q >/dev/null || fail "first run"
# an encrypted phone: minimal .sgn + .enc.sgn, its clear config gone
cp "$V/SEP001122334455.cnf.xml" "$T/"
encrypt "${KEY[@]}" --device-cert "$V/phone.crt" -q "$T/SEP001122334455.cnf.xml" >/dev/null || fail "encrypt"
# signed by another key (another cluster's TFTP server, a vendor): not ours to remove
printf '<device/>\n' >other.xml
"$MKFIXTURE" sgn -k "$V/tftp2.key" -c "$V/tftp2.crt" -o "$T/SEP0000000000AA.cnf.xml.sgn" \
  -n SEP0000000000AA.cnf.xml.sgn other.xml >/dev/null || fail "mkfixture"
# firmware-like: the name is not eligible (even signed by this key)
printf 'load\n' >load.bin
"$MKFIXTURE" sgn -k "$V/ccm.key" -c "$V/ccm.crt" -o "$T/term71.default.loads.sgn" \
  -n term71.default.loads.sgn load.bin >/dev/null || fail "mkfixture"
# a copy under another name: its header names SEP000000000012.cnf.xml.sgn
cp "$T/SEP000000000012.cnf.xml.sgn" "$T/SEP000000000099.cnf.xml.sgn"

# Two configs deleted: their .sgn are orphans, reported, nothing removed without --prune.
rm "$T/SEP000000000010.cnf.xml" "$T/RingList.xml"
sign "${KEY[@]}" --dir "$T" --json >sum.json 2>err.txt || fail "report run: exit $?: $(cat err.txt)"
python3 - sum.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["orphans_count"] == 2 and s["pruned"] == 0, s
assert sorted(s["orphans"]) == ["RingList.xml.sgn", "SEP000000000010.cnf.xml.sgn"], s
PY
grep -q "note: 2 stale .sgn files whose config is gone" err.txt || fail "note: $(cat err.txt)"
grep -q -- "--prune removes them" err.txt || fail "note: $(cat err.txt)"
[ -e "$T/SEP000000000010.cnf.xml.sgn" ] && [ -e "$T/RingList.xml.sgn" ] || fail "removed without --prune"
sign "${KEY[@]}" --dir "$T" >out.txt 2>/dev/null || fail "text run"
grep -qx "signed 0, unchanged 4, failed 0, skipped 0, orphaned 2" out.txt || fail "summary: $(cat out.txt)"
# --exclude narrows what is eligible, so what can be an orphan
sign "${KEY[@]}" --dir "$T" --exclude 'RingList*' --json >sum.json 2>/dev/null || fail "exclude run"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["orphans"]==["SEP000000000010.cnf.xml.sgn"], s' sum.json
# --prune is for a directory
expect 2 sign "${KEY[@]}" --prune "$T/SEP000000000011.cnf.xml" 2>/dev/null

# --prune: exactly the two go, audited before they go.
h10=$(sha256sum "$T/SEP000000000010.cnf.xml.sgn" | cut -d' ' -f1)
sign "${KEY[@]}" --dir "$T" --prune >out.txt 2>err.txt || fail "prune run: exit $?: $(cat err.txt)"
grep -qx "signed 0, unchanged 4, failed 0, skipped 0, pruned 2" out.txt || fail "summary: $(cat out.txt)"
grep -q "removed 2 stale .sgn files" err.txt || fail "message: $(cat err.txt)"
[ ! -e "$T/SEP000000000010.cnf.xml.sgn" ] && [ ! -e "$T/RingList.xml.sgn" ] || fail "orphans not removed"
for f in SEP001122334455.cnf.xml.sgn SEP001122334455.cnf.xml.enc.sgn SEP0000000000AA.cnf.xml.sgn \
         term71.default.loads.sgn SEP000000000099.cnf.xml.sgn SEP000000000011.cnf.xml.sgn; do
  [ -e "$T/$f" ] || fail "$f was removed"
done
python3 - audit.log "$T" "$h10" <<'PY' || fail "prune audit records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
prunes = [r for r in recs if r.get("operation") == "prune"]
assert sorted(r["output"] for r in prunes) == [sys.argv[2] + "/RingList.xml.sgn", sys.argv[2] + "/SEP000000000010.cnf.xml.sgn"], prunes
assert all(r["phase"] == "intent" for r in prunes), prunes
assert [r["output_sha256"] for r in prunes if r["output"].endswith("10.cnf.xml.sgn")] == [sys.argv[3]], prunes
ids = {r["intent"] for r in prunes}
i = max(recs.index(r) for r in prunes)
out = [r for r in recs[i + 1:] if r.get("phase") == "outcome" and r.get("intent") in ids]
assert len(out) == 1 and out[0]["result"] == "ok" and out[0]["detail"] == "2 files removed", out
PY
"$CTLSIGN" audit --verify audit.log >/dev/null || fail "audit chain"
# nothing stale any more
sign "${KEY[@]}" --dir "$T" --json >sum.json 2>/dev/null || fail "after prune"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["orphans_count"]==0, s' sum.json
echo PASS
