# tftp-token.sh - sourced: tftp_token DIR makes a private SoftHSM2 store under DIR with
# token "tftp" holding the vectors' CCM+TFTP key pair (ccm.key/ccm.crt, listed in the
# vector CTL with role CCM+TFTP), PIN $CTL_TEST_PIN. Needs V (the vectors' directory).
tftp_token() {
  local d=$1 module=${CTLSIGN_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
  mkdir -p "$d/softhsm"
  export SOFTHSM2_CONF=$d/softhsm2.conf CTLSIGN_PKCS11_MODULE=$module CTL_TEST_PIN=tftp-pin-8642
  printf 'directories.tokendir = %s/softhsm\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$d" >"$SOFTHSM2_CONF"
  softhsm2-util --init-token --free --label tftp --so-pin so-pin-97531 --pin "$CTL_TEST_PIN" >/dev/null
  softhsm2-util --import "$V/ccm.key" --token tftp --label tftp --id 01 --pin "$CTL_TEST_PIN" >/dev/null
  openssl x509 -in "$V/ccm.crt" -outform DER -out "$d/ccm.der"
  pkcs11-tool --module "$module" --token-label tftp --login --pin "$CTL_TEST_PIN" \
    --write-object "$d/ccm.der" --type cert --id 01 --label tftp >/dev/null 2>&1
}
