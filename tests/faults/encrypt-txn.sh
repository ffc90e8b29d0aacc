#!/usr/bin/env bash
# encrypt-txn.sh CTLSIGN CTLVERIFY SRCDIR WORKDIR - issue 15 §2: `ctlsign encrypt` over an
# old full .sgn is one transaction: audit intent; both temporary files written and synced;
# the .enc.sgn renamed; the minimal .sgn renamed; the directory synced; the clear config
# removed; the outcome. One I/O error is injected (strace) at each step; afterwards a
# phone never finds the minimal .sgn without the new .enc.sgn, the clear config is only
# gone once both are in place, and a rerun completes the job.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 SRC=$3 W=$4
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
V=$SRC/tests/data/vectors
softhsm_import_token T pin-T-1234 "$V/ccm.key" "$V/ccm.crt" tftp
export PIN_T='pin-T-1234' CTLSIGN_AUDIT_LOG="$W/audit.log" CTLSIGN_STATE_DIR="$W/state"
T=$W/tftp CFG=SEP001122334455.cnf.xml
mkdir -p "$T" "$W/certs"
cp "$V/CTLFile.tlv" "$T/"
cp "$V/phone.crt" "$W/certs/SEP001122334455.pem"
ENC=("$CTLSIGN" encrypt --pin env:PIN_T --key pkcs11:token=T --device-certs "$W/certs" --dir "$T")
setup() { # the clear config beside its old full .sgn
  rm -f "$T/$CFG".*
  cp "$V/$CFG" "$T/$CFG"
  "$CTLSIGN" sign --pin env:PIN_T --key pkcs11:token=T "$T/$CFG" >/dev/null 2>&1
  cp "$T/$CFG.sgn" "$W/full.sgn"
}
complete() { # the job is done: clear config gone, .enc.sgn decrypts, .sgn is the minimal one
  local what=$1
  [ ! -e "$T/$CFG" ] || bad "$what: the clear config is still there"
  "$CTLVERIFY" decrypt --cert "$V/ccm.crt" --key "$V/phone.key" "$T/$CFG.enc.sgn" -o "$W/plain" >/dev/null 2>&1 \
    && cmp -s "$W/plain" "$V/$CFG" || bad "$what: the .enc.sgn does not decrypt to the config"
  cmp -s "$T/$CFG.sgn" "$W/full.sgn" && bad "$what: the .sgn is still the full one"
  left=$(ls -A "$T" | grep -v -x -e CTLFile.tlv -e "$CFG.enc.sgn" -e "$CFG.sgn" || true)
  [ -z "$left" ] || bad "$what: left behind: $left"
}

# Warm up (SoftHSM's first use writes its files), then number the calls of a clean run
# per thread: SoftHSM neither fsyncs nor renames nor unlinks here, so these are ours.
setup; "${ENC[@]}" >/dev/null 2>&1 || { echo "FAIL: clean encrypt"; exit 1; }
setup
strace -f -qq -y -s 4096 -o "$W/t.clean" -e trace=fsync,rename,unlinkat,unlink,write "${ENC[@]}" >/dev/null 2>&1 \
  || { echo "FAIL: clean encrypt under strace"; exit 1; }
complete "the clean run"
nth() { # nth SYSCALL PATTERN: the per-thread number of the first SYSCALL call holding PATTERN
  awk -v sc="$1" -v pat="$2" '{ split($2, a, "(") } a[1] == sc { n[$1]++; if (index($0, pat)) { print n[$1]; exit } }' "$W/t.clean"
}
# The order itself: the clear config is removed before the outcome record is written.
l_unlink=$(grep -n "unlink.*\"$CFG\"" "$W/t.clean" | head -n 1 | cut -d: -f1)
l_outcome=$(grep -n -F 'phase\":\"outcome' "$W/t.clean" | head -n 1 | cut -d: -f1)
order="unlink at line ${l_unlink:-none}, outcome at line ${l_outcome:-none}"
[ -n "$l_outcome" ] && [ "$l_unlink" -lt "$l_outcome" ] || bad "the clear config is not removed before the outcome record: $order"

f_sgn_tmp=$(nth fsync "<$T/$CFG.sgn.tmp.")
r_sgn=$(nth rename "\"$T/$CFG.sgn\")")
f_dir=$(awk -v t="$T" -v cfg="$CFG" '{ split($2, a, "(") } a[1] == "fsync" { n[$1]++; if (armed && index($0, "<" t ">)")) { print n[$1]; exit } }
  a[1] == "rename" && index($0, "\"" t "/" cfg ".sgn\")") { armed = 1 }' "$W/t.clean")
u_clear=$(nth unlinkat "\"$CFG\"")
[ -n "$f_sgn_tmp" ] && [ -n "$r_sgn" ] && [ -n "$f_dir" ] && [ -n "$u_clear" ] \
  || { bad "cannot number the calls: '$f_sgn_tmp' '$r_sgn' '$f_dir' '$u_clear'"; exit 1; }

# point SYSCALL N ERRNO STATE: STATE after the fault is
#   before  nothing renamed (.sgn the old full one, no .enc.sgn, clear config there)
#   enc     the new .enc.sgn beside the old full .sgn, clear config there
#   both    both new, clear config still there
point() {
  local sc=$1 n=$2 e=$3 state=$4 rc=0
  echo "--- $sc #$n $e: expect '$state'"
  setup
  strace -f -qq -y -o "$W/t" -e trace="$sc" -e inject="$sc:error=$e:when=$n" "${ENC[@]}" >"$W/out" 2>"$W/err" || rc=$?
  grep -q INJECTED "$W/t" || { bad "$sc #$n: nothing injected"; return; }
  [ "$rc" != 0 ] || bad "$sc #$n: exit 0"
  [ -e "$T/$CFG" ] || bad "$sc #$n: the clear config is gone although the job failed"
  case $state in
    before) [ ! -e "$T/$CFG.enc.sgn" ] || bad "$sc #$n: a .enc.sgn was published before both files were written"
            cmp -s "$T/$CFG.sgn" "$W/full.sgn" || bad "$sc #$n: the .sgn changed" ;;
    enc)    [ -e "$T/$CFG.enc.sgn" ] || bad "$sc #$n: no .enc.sgn"
            cmp -s "$T/$CFG.sgn" "$W/full.sgn" || bad "$sc #$n: the .sgn changed" ;;
    both)   [ -e "$T/$CFG.enc.sgn" ] || bad "$sc #$n: no .enc.sgn"
            cmp -s "$T/$CFG.sgn" "$W/full.sgn" && bad "$sc #$n: the .sgn is still the full one" ;;
  esac
  if [ -n "${OUTCOME:-}" ]; then
    grep '"phase":"outcome"' "$W/audit.log" | tail -n 1 | grep -qF "\"result\":\"$OUTCOME\"" \
      || bad "$sc #$n: the outcome record does not say $OUTCOME: $(tail -n 1 "$W/audit.log")"
  fi
  "${ENC[@]}" >"$W/out" 2>"$W/err" || bad "$sc #$n: the rerun failed: $(cat "$W/err")"
  complete "$sc #$n, after the rerun"
}
point fsync "$f_sgn_tmp" EIO before      # the second temporary file cannot be synced
point rename "$r_sgn" EROFS enc          # the minimal .sgn cannot be renamed
OUTCOME=published-unsynced point fsync "$f_dir" EIO both # the directory cannot be synced after the renames
point unlinkat "$u_clear" EACCES both    # the clear config cannot be removed

# The clear config is removed but the directory cannot be synced after it: the message
# says what is true (deleted, not synced), exit 3; a rerun has nothing left to do.
f_del=$(awk -v t="$T" -v cfg="$CFG" '{ split($2, a, "(") } a[1] == "fsync" { n[$1]++; if (armed && index($0, "<" t ">)")) { print n[$1]; exit } }
  a[1] ~ /^unlink/ && index($0, "\"" cfg "\"") { armed = 1 }' "$W/t.clean")
[ -n "$f_del" ] || bad "cannot number the fsync after the clear config's removal"
echo "--- fsync #$f_del EIO (the directory after the clear config's removal)"
setup; rc=0
strace -f -qq -y -o "$W/t" -e trace=fsync -e inject="fsync:error=EIO:when=$f_del" "${ENC[@]}" >"$W/out" 2>"$W/err" || rc=$?
grep -q INJECTED "$W/t" || bad "fsync #$f_del: nothing injected"
[ "$rc" = 3 ] || bad "fsync #$f_del: exit $rc, expected 3"
grep -q "the clear configuration deleted, but the directory could not be synced" "$W/err" \
  || bad "fsync #$f_del: the message does not say what is true: $(cat "$W/err")"
grep -q "cannot delete" "$W/err" && bad "fsync #$f_del: says it cannot delete a file it deleted"
complete "fsync #$f_del"

"$CTLSIGN" audit --verify "$W/audit.log" >/dev/null || bad "the audit chain is broken"
finish "encrypt transaction"
