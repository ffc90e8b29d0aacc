/* crypt.c - .enc.sgn: AES-128-CBC bodies, RSA PKCS#1 v1.5 key wrapping, plaintext hash
 * (SPEC §3.4). */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "internal.h"

#define AES_KEY_LEN 16
#define AES_BLOCK 16

/* AES-128-CBC without cipher padding over whole blocks. */
static int aes_cbc(int enc, const uint8_t key[16], const uint8_t iv[16], const uint8_t *in,
		   size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	ok = c && len <= INT32_MAX && EVP_CipherInit_ex(c, EVP_aes_128_cbc(), NULL, key, iv, enc) &&
	     EVP_CIPHER_CTX_set_padding(c, 0) && EVP_CipherUpdate(c, out, &n1, in, (int)len) &&
	     EVP_CipherFinal_ex(c, out + n1, &n2) && (size_t)(n1 + n2) == len;
	EVP_CIPHER_CTX_free(c);
	ERR_clear_error();
	return ok;
}

static int hash_of(int alg, const uint8_t *d, size_t n, struct ctl_buf *out)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hl = 0;

	if (!EVP_Digest(d, n, h, &hl, ctl_hash_md(alg), NULL))
		return 0;
	return ctl_buf_set(out, h, hl);
}

/* Builds the .enc.sgn around an already wrapped key (deterministic; tests). */
int ctl_build_enc_sgn_wrapped(const uint8_t *plain, size_t len, const uint8_t key[16],
			      const uint8_t iv[16], const uint8_t *wrapped, size_t wrapped_len,
			      const struct ctl_signer *signer, const struct ctl_build_opts *opts,
			      struct ctl_buf *out, struct ctl_err *err)
{
	struct ctl_enc_info x;
	struct ctl_hdr_spec spec = {2, 0, false, 0, &x, NULL};
	int hash_alg = opts && opts->hash_alg ? opts->hash_alg : CTL_HASH_SHA512;
	size_t pad = (AES_BLOCK - len % AES_BLOCK) % AES_BLOCK, plen;
	uint8_t *buf = NULL, *ct = NULL;
	int rc;

	if (!ctl_hash_md(hash_alg))
		return ctl_fail(err, CTL_E_UNSUPPORTED, "hash algorithm %d is not supported", hash_alg);
	if (len > CTL_MAX_FILE_SIZE - 0x10000)
		return ctl_fail(err, CTL_E_USAGE, "content is %zu bytes; too large to encrypt", len);
	if (!wrapped || !wrapped_len || wrapped_len > 0x1fff)
		return ctl_fail(err, CTL_E_INTERNAL, "no wrapped key");
	memset(&x, 0, sizeof(x));
	plen = len + pad;
	if (plen == 0)
		plen = pad = AES_BLOCK; /* an empty file still needs one block */
	buf = malloc(plen);
	ct = malloc(plen);
	rc = CTL_E_INTERNAL;
	if (!buf || !ct) {
		ctl_fail(err, rc, "out of memory");
		goto out;
	}
	if (len)
		memcpy(buf, plain, len);
	memset(buf + len, '\r', pad);
	if (!aes_cbc(1, key, iv, buf, plen, ct)) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "AES-128-CBC encryption failed");
		goto out;
	}
	x.iv_type = 0;
	x.pad_count = (uint16_t)pad;
	x.key_type = 0;
	x.key_bits = (uint16_t)(wrapped_len * 8); /* size of the wrapping RSA key, as in the vectors */
	x.key_alg = 1;
	x.content_hash_alg = hash_alg;
	if (!ctl_buf_set(&x.iv, iv, AES_BLOCK) || !ctl_buf_set(&x.wrapped_key, wrapped, wrapped_len) ||
	    !hash_of(hash_alg, plain, len, &x.content_hash)) {
		ctl_fail(err, rc, "out of memory");
		goto out;
	}
	rc = ctl_build_signed(&spec, ct, plen, signer, opts, out, err);
out:
	if (buf) {
		OPENSSL_cleanse(buf, plen);
		free(buf);
	}
	free(ct);
	ctl_buf_clear(&x.iv);
	ctl_buf_clear(&x.wrapped_key);
	ctl_buf_clear(&x.content_hash);
	return rc;
}

int ctl_build_enc_sgn_with(const uint8_t *plain, size_t len, X509 *device_cert,
			   const uint8_t key[16], const uint8_t iv[16],
			   const struct ctl_signer *signer, const struct ctl_build_opts *opts,
			   struct ctl_buf *out, struct ctl_err *err)
{
	EVP_PKEY *pk = device_cert ? X509_get0_pubkey(device_cert) : NULL;
	EVP_PKEY_CTX *pc = NULL;
	uint8_t wrapped[1024];
	size_t wl = sizeof(wrapped);
	int rc;

	if (!pk) {
		ERR_clear_error();
		return ctl_fail(err, CTL_E_UNSUPPORTED, "device certificate has no usable public key");
	}
	if (EVP_PKEY_base_id(pk) != EVP_PKEY_RSA)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"device key is %s; encrypted configs need an RSA device certificate",
				OBJ_nid2sn(EVP_PKEY_base_id(pk)));
	if ((size_t)EVP_PKEY_get_size(pk) > sizeof(wrapped))
		return ctl_fail(err, CTL_E_UNSUPPORTED, "device RSA key is too large");
	pc = EVP_PKEY_CTX_new(pk, NULL);
	if (!pc || EVP_PKEY_encrypt_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_encrypt(pc, wrapped, &wl, key, AES_KEY_LEN) <= 0) {
		EVP_PKEY_CTX_free(pc);
		ERR_clear_error();
		return ctl_fail(err, CTL_E_INTERNAL, "cannot wrap the AES key to the device key");
	}
	EVP_PKEY_CTX_free(pc);
	rc = ctl_build_enc_sgn_wrapped(plain, len, key, iv, wrapped, wl, signer, opts, out, err);
	return rc;
}

int ctl_build_enc_sgn(const uint8_t *plain, size_t len, X509 *device_cert,
		      const struct ctl_signer *signer, const struct ctl_build_opts *opts,
		      struct ctl_buf *out, struct ctl_err *err)
{
	uint8_t key[AES_KEY_LEN], iv[AES_BLOCK];
	int rc;

	if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
		ERR_clear_error();
		return ctl_fail(err, CTL_E_INTERNAL, "random number generator failed");
	}
	rc = ctl_build_enc_sgn_with(plain, len, device_cert, key, iv, signer, opts, out, err);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int ctl_unwrap_key(const struct ctl_file *f, EVP_PKEY *device_key, uint8_t key[16],
		   struct ctl_err *err)
{
	const struct ctl_enc_info *x = &f->hdr.enc;
	EVP_PKEY_CTX *pc = NULL;
	uint8_t buf[1024];
	size_t n = sizeof(buf);
	int ok;

	if (f->kind != CTL_KIND_ENC_SGN || !f->hdr.has_enc)
		return ctl_fail(err, CTL_E_USAGE, "%s is not an encrypted file",
				ctl_kind_name(f->kind));
	if (x->key_alg != 1)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"content key algorithm %u is not supported (only 1 = AES-128)",
				x->key_alg);
	if (x->iv.len != AES_BLOCK)
		return ctl_fail(err, CTL_E_MALFORMED, "IV is not 16 bytes");
	if (!device_key || EVP_PKEY_base_id(device_key) != EVP_PKEY_RSA)
		return ctl_fail(err, CTL_E_UNSUPPORTED, "device key is not RSA");
	pc = EVP_PKEY_CTX_new(device_key, NULL);
	ok = pc && EVP_PKEY_decrypt_init(pc) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
	     x->wrapped_key.len <= sizeof(buf) &&
	     EVP_PKEY_decrypt(pc, buf, &n, x->wrapped_key.data, x->wrapped_key.len) > 0 &&
	     n == AES_KEY_LEN;
	EVP_PKEY_CTX_free(pc);
	ERR_clear_error();
	if (ok)
		memcpy(key, buf, AES_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ok)
		return ctl_fail(err, CTL_E_DECRYPT,
				"cannot unwrap the content key with this device key (wrong key?)");
	return CTL_OK;
}

int ctl_decrypt(const struct ctl_file *f, EVP_PKEY *device_key, struct ctl_buf *plain,
		struct ctl_err *err)
{
	const struct ctl_enc_info *x = &f->hdr.enc;
	const uint8_t *body;
	uint8_t key[AES_KEY_LEN], *pt = NULL;
	struct ctl_buf h = {0};
	size_t blen, n;
	int rc;

	if ((rc = ctl_unwrap_key(f, device_key, key, err)))
		return rc;
	ctl_body(f, &body, &blen);
	rc = ctl_fail(err, CTL_E_DECRYPT, "encrypted body is not a whole number of blocks");
	if (blen == 0 || blen % AES_BLOCK || x->pad_count >= AES_BLOCK || x->pad_count > blen)
		goto out;
	rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if (!(pt = malloc(blen)))
		goto out;
	rc = ctl_fail(err, CTL_E_DECRYPT, "AES-128-CBC decryption failed");
	if (!aes_cbc(0, key, x->iv.data, body, blen, pt))
		goto out;
	n = blen - x->pad_count;
	for (size_t i = n; i < blen; i++)
		if (pt[i] != '\r') {
			rc = ctl_fail(err, CTL_E_DECRYPT,
				      "decrypted padding is not '\\r' bytes (wrong key or corrupt file)");
			goto out;
		}
	rc = ctl_fail(err, CTL_E_INTERNAL, "cannot hash the plaintext");
	if (!hash_of(x->content_hash_alg, pt, n, &h))
		goto out;
	if (h.len != x->content_hash.len || CRYPTO_memcmp(h.data, x->content_hash.data, h.len)) {
		rc = ctl_fail(err, CTL_E_DECRYPT,
			      "plaintext %s hash does not match the header (wrong key or corrupt file)",
			      ctl_hash_name(x->content_hash_alg));
		goto out;
	}
	rc = ctl_buf_set(plain, pt, n) ? CTL_OK : ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if (rc == CTL_OK && err)
		err->code = 0, err->msg[0] = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (pt) {
		OPENSSL_cleanse(pt, blen);
		free(pt);
	}
	ctl_buf_clear(&h);
	return rc;
}
