/* token_provision.c - labs/CI: an RSA key pair made on the token and a self-signed
 * SAST certificate stored next to it (SPEC §4.1). */
#include "token_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* "CN=SAST-1,O=Example Corp,OU=Voice" in certificate order; '\' escapes a ',' or '\'. */
static X509_NAME *parse_subject(const char *s, struct ctl_err *err)
{
	X509_NAME *n = X509_NAME_new();
	char key[64], val[256];

	if (!n)
		return NULL;
	while (*s) {
		size_t k = 0, v = 0;
		while (*s && *s != '=' && k + 1 < sizeof(key))
			key[k++] = *s++;
		key[k] = 0;
		if (*s != '=' || !k)
			goto bad;
		s++;
		while (*s && *s != ',' && v + 1 < sizeof(val)) {
			if (*s == '\\' && s[1])
				s++;
			val[v++] = *s++;
		}
		val[v] = 0;
		if ((*s && *s != ',') || !v)
			goto bad;
		if (*s == ',')
			s++;
		if (!X509_NAME_add_entry_by_txt(n, key, MBSTRING_UTF8, (unsigned char *)val, -1, -1, 0))
			goto bad;
	}
	if (X509_NAME_entry_count(n) > 0)
		return n;
bad:
	X509_NAME_free(n);
	ctl_fail(err, CTL_E_USAGE,
		 "bad --subject: use KEY=VALUE pairs separated by ',' in certificate order, e.g. "
		 "CN=SAST-1,O=Example Corp,OU=Voice");
	return NULL;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* The certificate's fields: a random positive serial, subject = issuer = name, validity
 * from 5 minutes ago for `years`, the key, and an end-entity signing key's extensions. */
static bool fill_tbs(X509 *x, X509_NAME *name, EVP_PKEY *pub, unsigned years)
{
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	bool ok;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return false;
	serial[0] &= 0x7f;
	serial[0] |= 0x40;
	ok = (bn = BN_bin2bn(serial, sizeof(serial), NULL)) && (ai = BN_to_ASN1_INTEGER(bn, NULL)) &&
	     X509_set_version(x, X509_VERSION_3) && X509_set_serialNumber(x, ai) &&
	     X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), (int)(years * 365 + years / 4), 0, NULL) &&
	     X509_set_pubkey(x, pub) && add_ext(x, NID_basic_constraints, "critical,CA:FALSE") &&
	     add_ext(x, NID_key_usage, "critical,digitalSignature") &&
	     add_ext(x, NID_subject_key_identifier, "hash");
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

/* Round trip and check, so that what is stored is exactly what verifies: the signed
 * certificate encoded, decoded and verified with pub. NULL (err set) if not. */
static X509 *round_trip(X509 *x, EVP_PKEY *pub, struct ctl_err *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *done = NULL;
	int dlen;

	if ((dlen = i2d_X509(x, &der)) <= 0) {
		ctl_fail(err, CTL_E_INTERNAL, "cannot build the certificate (OpenSSL error)");
		goto out;
	}
	p = der;
	done = d2i_X509(NULL, &p, dlen);
	if (!done || X509_verify(done, pub) != 1) {
		X509_free(done);
		done = NULL;
		ctl_fail(err, CTL_E_TOKEN, "the certificate signed by the token does not verify");
	}
out:
	OPENSSL_free(der);
	return done;
}

/* Self-signed certificate, signed by the token key through the same C_Sign path as
 * every other signature (sha256WithRSAEncryption). */
static X509 *make_cert(struct token_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
		       EVP_PKEY *pub, const char *subject, unsigned years, struct ctl_err *err)
{
	X509 *x = X509_new(), *done = NULL;
	X509_NAME *name = NULL;
	unsigned char *tbs = NULL, md[32], sig[1024];
	size_t siglen = sizeof(sig);
	const ASN1_BIT_STRING *csig;
	const X509_ALGOR *calg;
	int tlen;
	CK_RV rv;

	if (!x || !(name = parse_subject(subject, err)))
		goto out;
	if (!fill_tbs(x, name, pub, years))
		goto fail;
	/* Both AlgorithmIdentifiers, then the TBS bytes, then the signature from the token. */
	X509_get0_signature(&csig, &calg, x);
	if (!X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x),
			     OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL) ||
	    !X509_ALGOR_set0((X509_ALGOR *)calg, OBJ_nid2obj(NID_sha256WithRSAEncryption),
			     V_ASN1_NULL, NULL))
		goto fail;
	if ((tlen = i2d_re_X509_tbs(x, &tbs)) <= 0 || !EVP_Digest(tbs, (size_t)tlen, md, NULL,
								   EVP_sha256(), NULL))
		goto fail;
	rv = p11_sign_digest(m->p, s, priv, NID_sha256, md, sizeof(md), sig, &siglen);
	if (rv != CKR_OK) {
		ctl_fail(err, CTL_E_TOKEN, "the token could not sign the certificate: %s",
			 p11_rv_name(rv));
		goto out;
	}
	if (!ASN1_BIT_STRING_set((ASN1_BIT_STRING *)csig, sig, (int)siglen))
		goto fail;
	((ASN1_BIT_STRING *)csig)->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	((ASN1_BIT_STRING *)csig)->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	done = round_trip(x, pub, err);
	goto out;
fail:
	ctl_fail(err, CTL_E_INTERNAL, "cannot build the certificate (OpenSSL error)");
out:
	OPENSSL_free(tbs);
	X509_NAME_free(name);
	X509_free(x);
	return done;
}

int token_clear_label(struct token_module *m, CK_SESSION_HANDLE s, const struct token_info *ti,
		      const char *label, bool force, struct ctl_err *err)
{
	static const CK_OBJECT_CLASS classes[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE};
	CK_OBJECT_HANDLE h = 0;
	int rc;

	for (size_t i = 0; i < 3 && !h; i++)
		if ((rc = p11_find_object(m->p, s, classes[i], NULL, 0, label, &h, err)) != CTL_OK)
			return rc;
	if (!h)
		return CTL_OK;
	if (!force)
		return ctl_fail(err, CTL_E_POLICY,
				"token '%s' already holds objects labelled '%s'; refusing to replace "
				"them without --force (or choose another --label)",
				ti->label, label);
	return p11_destroy_label(m->p, s, label, err);
}

int token_provision(struct token_module *m, const struct token_opts *o,
		    const struct token_provision_opts *p, X509 **cert_out, struct ctl_err *err)
{
	struct p11_uri u, *up = NULL;
	struct token_info ti;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE priv = 0;
	EVP_PKEY *pub = NULL;
	X509 *cert = NULL;
	const char *label;
	unsigned char id[16];
	unsigned bits = p->bits ? p->bits : 2048, years = p->years ? p->years : 10;
	int rc;

	if (cert_out)
		*cert_out = NULL;
	memset(&ti, 0, sizeof(ti));
	if (bits < 1024 || bits > 4096 || bits % 256)
		return ctl_fail(err, CTL_E_USAGE, "key size must be 1024..4096 bits, a multiple of 256");
	if (years > 50)
		return ctl_fail(err, CTL_E_USAGE, "--years must be 1..50");
	if (!p->subject)
		return ctl_fail(err, CTL_E_USAGE, "provision needs a certificate subject (--subject)");
	if (o->uri) {
		if ((rc = p11_uri_parse(o->uri, &u, err)) != CTL_OK)
			return rc;
		up = &u;
	}
	label = p->label ? p->label : (up && up->object) ? up->object : "sast";
	if ((rc = token_select_uri(m, up, &ti, err)) != CTL_OK)
		goto out;
	if ((rc = token_login(m, &ti, o, up, true, &s, NULL, err)) != CTL_OK)
		goto out;
	if ((rc = token_clear_label(m, s, &ti, label, p->force, err)) != CTL_OK)
		goto out;
	if (RAND_bytes(id, sizeof(id)) != 1) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "no random bytes");
		goto out;
	}
	if ((rc = p11_generate_rsa(m->p, s, bits, label, id, sizeof(id), &priv, &pub, err)) != CTL_OK)
		goto out;
	if (!(cert = make_cert(m, s, priv, pub, p->subject, years, err))) {
		rc = err ? err->code : CTL_E_INTERNAL;
		goto out;
	}
	if ((rc = p11_store_cert(m->p, s, cert, label, id, sizeof(id), err)) != CTL_OK)
		goto out;
	if (cert_out) {
		*cert_out = cert;
		cert = NULL;
	}
out:
	X509_free(cert);
	EVP_PKEY_free(pub);
	token_logout(m, s);
	token_info_clear(&ti);
	if (up)
		p11_uri_clear(up);
	return rc;
}
