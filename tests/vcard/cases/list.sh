# pkcs11-tool lists the card: two slots, the provisioned key and certificate.
out=$(p11 -L)
must_contain "$out" "token label *: OpenPGP card \(User PIN\)$" "slot list"
must_contain "$out" "token label *: OpenPGP card \(User PIN \(sig\)\)$" "slot list"
must_contain "$out" "token manufacturer *: test card" "slot list"
must_contain "$out" "serial num *: ffff[0-9a-f]{8}" "slot list"
must_not_contain "$out" "final user PIN try|user PIN locked" "fresh card flags"
objs=$(p11 --token-label "$SIG_TOKEN" -O)
must_contain "$objs" "Public Key Object; RSA 2048 bits" "objects"
must_contain "$objs" "subject: *DN: CN=SAST-CARD, O=Example Corp, OU=Voice" "certificate"
must_contain "$(grep -A4 'Certificate Object' <<<"$objs")" "ID: *01" "certificate id"
priv=$(PW1=$PW1 p11 --token-label "$SIG_TOKEN" --login --pin env:PW1 -O --type privkey)
must_contain "$priv" "label: *Signature key" "private key"
must_contain "$priv" "Usage: *.*sign" "private key usage"
