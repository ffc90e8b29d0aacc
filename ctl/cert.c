/* cert.c - certificates and keys: names, fingerprints, loading, records from certs. */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* Certificates and keys are small; anything bigger is not one. */
#define CTL_MAX_PEM_SIZE (1024u * 1024)

char *ctl_cert_fingerprint(X509 *cert, int hash_alg)
{
	const EVP_MD *md = ctl_hash_md(hash_alg);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!cert || !md || !X509_digest(cert, md, d, &n))
		return NULL;
	return ctl_hex(d, n);
}

static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return -1; /* never prompt: encrypted key files are not supported here */
}

X509 *ctl_cert_from_der(const uint8_t *der, size_t len, struct ctl_err *err)
{
	const uint8_t *p = der;
	X509 *x;

	if (!der || len == 0 || len > (size_t)INT32_MAX) {
		ctl_fail(err, CTL_E_MALFORMED, "certificate is empty");
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (!x) {
		ERR_clear_error();
		ctl_fail(err, CTL_E_MALFORMED, "certificate is not valid DER");
		return NULL;
	}
	if ((size_t)(p - der) != len) {
		X509_free(x);
		ctl_fail(err, CTL_E_MALFORMED, "certificate has %zu trailing bytes",
			 len - (size_t)(p - der));
		return NULL;
	}
	return x;
}

/* A file that holds a private key where a certificate was expected: said so, since the
 * officer most likely picked the wrong one of a key pair's two files. */
static bool holds_private_key(const struct ctl_buf *b)
{
	static const char marker[] = "PRIVATE KEY-----";
	size_t n = sizeof(marker) - 1;

	for (size_t i = 0; i + n <= b->len; i++)
		if (!memcmp(b->data + i, marker, n))
			return true;
	return false;
}

/* The certificate (key false) or private key (key true) in b: PEM first, then DER; NULL
 * when b holds none. */
static void *pem_or_der(const struct ctl_buf *b, bool key)
{
	const uint8_t *p = b->data;
	void *o = NULL;
	BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);

	if (bio) {
		o = key ? (void *)PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) :
			  (void *)PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	if (!o) {
		o = key ? (void *)d2i_AutoPrivateKey(NULL, &p, (long)b->len) :
			  (void *)d2i_X509(NULL, &p, (long)b->len);
		ERR_clear_error();
	}
	return o;
}

X509 *ctl_cert_load(const char *path, struct ctl_err *err)
{
	struct ctl_buf b = {0};
	X509 *x;

	if (ctl_read_file(path, CTL_MAX_PEM_SIZE, &b, err))
		return NULL;
	x = pem_or_der(&b, false);
	if (!x && holds_private_key(&b))
		ctl_fail(err, CTL_E_MALFORMED,
			 "%s is a private key, not a certificate: give the certificate", path);
	else if (!x)
		ctl_fail(err, CTL_E_MALFORMED, "%s: not a PEM or DER certificate", path);
	ctl_buf_clear(&b);
	return x;
}

X509 *ctl_cert_load_leaf(const char *path, size_t *ncerts, struct ctl_err *err)
{
	struct ctl_buf b = {0};
	STACK_OF(X509_INFO) *infos = NULL;
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *leaf = NULL;
	size_t nleaf = 0;
	BIO *bio;
	int n;

	*ncerts = 0;
	if (!certs) {
		ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		return NULL;
	}
	if (ctl_read_file(path, CTL_MAX_PEM_SIZE, &b, err)) {
		sk_X509_free(certs);
		return NULL;
	}
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	if (bio) {
		infos = PEM_X509_INFO_read_bio(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x509 && sk_X509_push(certs, xi->x509) > 0)
			xi->x509 = NULL; /* now owned by certs */
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (sk_X509_num(certs) == 0) {
		const uint8_t *p = b.data;
		X509 *x = d2i_X509(NULL, &p, (long)b.len);

		ERR_clear_error();
		if (x && !sk_X509_push(certs, x))
			X509_free(x);
	}
	n = sk_X509_num(certs);
	*ncerts = (size_t)n;
	if (n == 0) {
		if (holds_private_key(&b))
			ctl_fail(err, CTL_E_MALFORMED,
				 "%s is a private key, not a certificate: give the server's "
				 "certificate (and keep the key off this machine)",
				 path);
		else
			ctl_fail(err, CTL_E_MALFORMED, "%s: not a PEM or DER certificate", path);
		goto out;
	}
	/* The leaf is the one certificate that issued none of the others. */
	for (int i = 0; i < n; i++) {
		X509 *cand = sk_X509_value(certs, i);
		bool issued = false;

		for (int j = 0; j < n && !issued; j++)
			issued = j != i && X509_check_issued(cand, sk_X509_value(certs, j)) == X509_V_OK;
		if (!issued) {
			leaf = cand;
			nleaf++;
		}
	}
	if (nleaf != 1) {
		ctl_fail(err, CTL_E_USAGE,
			 "%s holds %d certificates and %s: put the server's own certificate alone "
			 "in the file (or with the CA certificates that issued it)",
			 path, n,
			 nleaf ? "several of them issued none of the others (not one chain)"
			       : "each issued another (a loop)");
		leaf = NULL;
		goto out;
	}
	X509_up_ref(leaf);
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	ctl_buf_clear(&b);
	return leaf;
}

EVP_PKEY *ctl_pkey_load(const char *path, struct ctl_err *err)
{
	struct ctl_buf b = {0};
	EVP_PKEY *k;

	if (ctl_read_file(path, CTL_MAX_PEM_SIZE, &b, err))
		return NULL;
	k = pem_or_der(&b, true);
	ctl_buf_clear(&b);
	if (!k)
		ctl_fail(err, CTL_E_MALFORMED,
			 "%s: not an unencrypted PEM or DER private key", path);
	return k;
}

void ctl_record_clear(struct ctl_record *r)
{
	if (!r)
		return;
	free(r->dns_name);
	free(r->subject);
	free(r->issuer);
	ctl_buf_clear(&r->serial);
	ctl_buf_clear(&r->pubkey);
	ctl_buf_clear(&r->cert_sig);
	ctl_buf_clear(&r->cert);
	ctl_buf_clear(&r->cert_hash);
	memset(r, 0, sizeof(*r));
	r->role = -1;
}

/* The serial number as unsigned big-endian bytes (no sign byte). */
static int serial_bytes(X509 *cert, struct ctl_buf *out)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	uint8_t *p;
	int n, ok = 0;

	if (!bn)
		return 0;
	n = BN_num_bytes(bn);
	p = malloc(n > 0 ? (size_t)n : 1);
	if (p) {
		if (n == 0) {
			p[0] = 0; /* serial 0: one zero byte */
			n = 1;
		} else {
			BN_bn2bin(bn, p);
		}
		ok = ctl_buf_set(out, p, (size_t)n);
		free(p);
	}
	BN_free(bn);
	return ok;
}

static int pubkey_bytes(EVP_PKEY *pk, struct ctl_buf *out, struct ctl_err *err)
{
	uint8_t *der = NULL;
	int n, ok;

	if (EVP_PKEY_base_id(pk) == EVP_PKEY_RSA) {
		n = i2d_PublicKey(pk, &der); /* PKCS#1 RSAPublicKey */
		if (n <= 0)
			return ctl_fail(err, CTL_E_INTERNAL, "cannot encode RSA public key");
		ok = ctl_buf_set(out, der, (size_t)n);
		OPENSSL_free(der);
		return ok ? CTL_OK : ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	if (EVP_PKEY_base_id(pk) == EVP_PKEY_EC) {
		EVP_PKEY *dup = EVP_PKEY_dup(pk);
		uint8_t buf[256];
		size_t len = 0;

		ok = dup &&
		     EVP_PKEY_set_utf8_string_param(dup, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
						    "uncompressed") &&
		     EVP_PKEY_get_octet_string_param(dup, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf),
						     &len);
		EVP_PKEY_free(dup);
		ERR_clear_error();
		if (!ok || len == 0 || buf[0] != 0x04)
			return ctl_fail(err, CTL_E_UNSUPPORTED, "cannot encode EC public key");
		return ctl_buf_set(out, buf, len) ? CTL_OK
						  : ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	return ctl_fail(err, CTL_E_UNSUPPORTED, "unsupported public key type %s (need RSA or EC)",
			OBJ_nid2sn(EVP_PKEY_base_id(pk)));
}

int ctl_record_from_cert(X509 *cert, int role, const char *dns_name, const uint8_t *ip,
			 bool with_cert, struct ctl_record *out, struct ctl_err *err)
{
	struct ctl_record r;
	const ASN1_BIT_STRING *sig = NULL;
	EVP_PKEY *pk;
	int rc;

	memset(&r, 0, sizeof(r));
	r.role = role;
	if (!cert)
		return ctl_fail(err, CTL_E_INTERNAL, "no certificate");
	pk = X509_get0_pubkey(cert);
	if (!pk) {
		ERR_clear_error();
		return ctl_fail(err, CTL_E_UNSUPPORTED, "certificate public key cannot be decoded");
	}
	if ((rc = pubkey_bytes(pk, &r.pubkey, err)))
		goto fail;
	rc = CTL_E_INTERNAL;
	r.subject = ctl_name_string(X509_get_subject_name(cert));
	r.issuer = ctl_name_string(X509_get_issuer_name(cert));
	if (!r.subject || !r.issuer || !serial_bytes(cert, &r.serial))
		goto fail;
	if (dns_name && !(r.dns_name = strdup(dns_name)))
		goto fail;
	if (ip) {
		r.has_ip = true;
		memcpy(r.ip, ip, 4);
	}
	X509_get0_signature(&sig, NULL, cert);
	if (!sig || !ctl_buf_set(&r.cert_sig, sig->data, (size_t)sig->length))
		goto fail;
	if (with_cert) {
		uint8_t *der = NULL;
		int n = i2d_X509(cert, &der);
		if (n <= 0)
			goto fail;
		rc = ctl_buf_set(&r.cert, der, (size_t)n) ? CTL_OK : CTL_E_INTERNAL;
		OPENSSL_free(der);
		if (rc)
			goto fail;
	}
	*out = r;
	return CTL_OK;
fail:
	ctl_record_clear(&r);
	if (rc == CTL_E_INTERNAL)
		ctl_fail(err, rc, "cannot encode the certificate's fields (out of memory?)");
	return rc;
}

X509 *ctl_record_x509(const struct ctl_record *r, struct ctl_err *err)
{
	X509 *x;

	if (!r->cert.len) {
		ctl_fail(err, CTL_E_SIGNER, "record '%s' carries no certificate",
			 r->subject ? r->subject : "?");
		return NULL;
	}
	x = ctl_cert_from_der(r->cert.data, r->cert.len, err);
	if (!x)
		ctl_fail_prefix(err, "record '%s'", r->subject ? r->subject : "?");
	return x;
}
