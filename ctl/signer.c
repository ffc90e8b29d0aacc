/* signer.c - a software signer over an EVP_PKEY (RSA PKCS#1 v1.5 over a digest). */
#include "ctl.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "bytes.h"

static int pkey_sign(void *ctx, int hash_alg, const uint8_t *digest, size_t digest_len,
		     struct cbb *sig, struct ctl_err *err)
{
	EVP_PKEY *key = ctx;
	const EVP_MD *md = ctl_hash_md(hash_alg);
	EVP_PKEY_CTX *pc;
	size_t len = 0;
	int rc = CTL_E_INTERNAL;

	if (!md)
		return ctl_fail(err, CTL_E_UNSUPPORTED, "unknown hash algorithm %d", hash_alg);
	if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
		return ctl_fail(err, CTL_E_UNSUPPORTED, "signing key is not RSA");
	pc = EVP_PKEY_CTX_new(key, NULL);
	if (!pc || EVP_PKEY_sign_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pc, md) <= 0 ||
	    EVP_PKEY_sign(pc, NULL, &len, digest, digest_len) <= 0 || !cbb_reserve(sig, len) ||
	    EVP_PKEY_sign(pc, sig->buf + sig->len, &len, digest, digest_len) <= 0) {
		ERR_clear_error();
		ctl_fail(err, CTL_E_INTERNAL, "software RSA signature failed");
		goto out;
	}
	sig->len += len;
	rc = CTL_OK;
out:
	EVP_PKEY_CTX_free(pc);
	return rc;
}

void ctl_signer_from_pkey(struct ctl_signer *s, EVP_PKEY *key, X509 *cert)
{
	s->cert = cert;
	s->sign = pkey_sign;
	s->ctx = key;
}
