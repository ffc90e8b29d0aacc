/* token_import.c - an existing server key brought onto a token: a TFTP
 * server's key that lives on its disk becomes a sensitive, non-extractable token key,
 * with its certificate beside it, so that `ctlsign sign --key pkcs11:...` can use it. */
#include "token_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

/* The label when none is given: the certificate's CN (else "imported"). */
static void default_label(X509 *cert, char *buf, size_t len)
{
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf,
					  (int)len);

	if (n <= 0)
		snprintf(buf, len, "imported");
}

/* A signature made on the token with the new key must verify with the certificate. */
static int check_signs(struct token_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
		       X509 *cert, struct ctl_err *err)
{
	static const unsigned char msg[] = "ctlsign token import: test signature";
	unsigned char md[32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx;
	CK_RV rv;
	int ok;

	if (!EVP_Digest(msg, sizeof(msg), md, NULL, EVP_sha256(), NULL))
		return ctl_fail(err, CTL_E_INTERNAL, "digest failed");
	rv = p11_sign_digest(m->p, s, key, NID_sha256, md, sizeof(md), sig, &siglen);
	if (rv != CKR_OK)
		return ctl_fail(err, CTL_E_TOKEN, "the token cannot sign with the imported key: %s",
				p11_rv_name(rv));
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ctl_fail(err, CTL_E_TOKEN,
				"a signature by the imported key does not verify with the certificate");
	return CTL_OK;
}

/* The key belongs to the certificate, and is an RSA key ctlsign can sign with (*bits). */
static int check_pair(const struct token_import_opts *p, X509 *cert, EVP_PKEY *key, int *bits,
		      struct ctl_err *err)
{
	if (X509_check_private_key(cert, key) != 1) {
		char *subj = ctl_name_string(X509_get_subject_name(cert));
		int rc = ctl_fail(err, CTL_E_POLICY,
				  "the key in %s does not belong to the certificate %s (%s): their "
				  "public keys differ; nothing was written to any token",
				  p->key_path, p->cert_path, subj ? subj : "?");

		free(subj);
		return rc;
	}
	ERR_clear_error();
	*bits = EVP_PKEY_get_bits(key);
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || *bits < 1024 || *bits > 4096)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"%s is not an RSA key of 1024 to 4096 bits: the files ctlsign signs "
				"need RSA (PKCS#1 v1.5)",
				p->key_path);
	return CTL_OK;
}

/* CKA_ID: the SHA-1 of the public key (SubjectPublicKeyInfo), the same for key and
 * certificate. */
static int key_id(EVP_PKEY *key, unsigned char id[SHA_DIGEST_LENGTH], struct ctl_err *err)
{
	unsigned char *spki = NULL;
	int spki_len, rc = CTL_OK;

	if ((spki_len = i2d_PUBKEY(key, &spki)) <= 0 ||
	    !EVP_Digest(spki, (size_t)spki_len, id, NULL, EVP_sha1(), NULL))
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot encode the public key");
	OPENSSL_free(spki);
	return rc;
}

/* The objects' label: --label, else the URI's object, else the certificate's CN. */
static void choose_label(const struct token_import_opts *p, const struct p11_uri *up, X509 *cert,
			 char *buf, size_t len)
{
	if (p->label)
		snprintf(buf, len, "%s", p->label);
	else if (up && up->object)
		snprintf(buf, len, "%s", up->object);
	else
		default_label(cert, buf, len);
}

/* The handles of what an import created so far. */
struct imported {
	CK_OBJECT_HANDLE priv, pub, cert;
};

/* Key pair and certificate onto the token, checked: protected, and signing with them. */
static int store_objects(struct token_module *m, CK_SESSION_HANDLE s, EVP_PKEY *key, X509 *cert,
			 const char *label, const unsigned char *id, size_t idlen,
			 struct imported *h, struct ctl_err *err)
{
	int rc;

	if ((rc = p11_import_rsa(m->p, s, key, label, id, idlen, &h->priv, &h->pub, err)) !=
		    CTL_OK ||
	    (rc = p11_key_protected(m->p, s, h->priv, err)) != CTL_OK ||
	    (rc = p11_store_cert_h(m->p, s, cert, label, id, idlen, &h->cert, err)) != CTL_OK ||
	    (rc = check_signs(m, s, h->priv, cert, err)) != CTL_OK)
		return rc;
	return CTL_OK;
}

/* Half an import is no import: what was created is removed again. */
static void destroy_partial(struct token_module *m, CK_SESSION_HANDLE s, const struct imported *h)
{
	if (h->cert != CK_INVALID_HANDLE)
		m->p->fl->C_DestroyObject(s, h->cert);
	if (h->pub != CK_INVALID_HANDLE)
		m->p->fl->C_DestroyObject(s, h->pub);
	if (h->priv != CK_INVALID_HANDLE)
		m->p->fl->C_DestroyObject(s, h->priv);
}

int token_import(struct token_module *m, const struct token_opts *o,
		 const struct token_import_opts *p, struct token_import_result *res,
		 struct ctl_err *err)
{
	struct p11_uri u, *up = NULL;
	struct token_info ti;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	struct imported h = {CK_INVALID_HANDLE, CK_INVALID_HANDLE, CK_INVALID_HANDLE};
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char *pin = NULL, label[128];
	unsigned char id[SHA_DIGEST_LENGTH];
	int rc, bits = 0;
	bool done = false;

	memset(res, 0, sizeof(*res));
	memset(&ti, 0, sizeof(ti));
	if (!p->key_path || !p->cert_path)
		return ctl_fail(err, CTL_E_USAGE, "token import needs --key PEM and --cert PEM");
	/* Both files first, and whether they belong together: nothing is asked of the token
	 * for a pair that does not match. */
	if (!(cert = ctl_cert_load(p->cert_path, err)))
		return err->code;
	if (!(key = ctl_pkey_load(p->key_path, err))) {
		rc = err->code;
		goto out;
	}
	if ((rc = check_pair(p, cert, key, &bits, err)) != CTL_OK ||
	    (rc = key_id(key, id, err)) != CTL_OK)
		goto out;
	if (o->uri) {
		if ((rc = p11_uri_parse(o->uri, &u, err)) != CTL_OK)
			goto out;
		up = &u;
	}
	choose_label(p, up, cert, label, sizeof(label));
	if ((rc = token_select_uri(m, up, &ti, err)) != CTL_OK)
		goto out;
	/* The usual PIN rules: retry flags, and no production key onto a token still on
	 * its factory PIN. */
	if ((rc = token_check_not_default(&ti, NULL, o->factory_pin, err)) != CTL_OK ||
	    (rc = token_login(m, &ti, o, up, true, &s, &pin, err)) != CTL_OK ||
	    (rc = token_check_not_default(&ti, pin, o->factory_pin, err)) != CTL_OK)
		goto out;
	if ((rc = token_clear_label(m, s, &ti, label, p->force, err)) != CTL_OK)
		goto out;
	if ((rc = store_objects(m, s, key, cert, label, id, sizeof(id), &h, err)) != CTL_OK)
		goto out;
	done = true;
	snprintf(res->token_label, sizeof(res->token_label), "%s", ti.label);
	snprintf(res->object_label, sizeof(res->object_label), "%s", label);
	res->bits = bits;
	res->cert = cert;
	cert = NULL;
out:
	if (!done && s != CK_INVALID_HANDLE)
		destroy_partial(m, s, &h);
	token_pin_free(pin);
	EVP_PKEY_free(key);
	X509_free(cert);
	token_logout(m, s);
	token_info_clear(&ti);
	if (up)
		p11_uri_clear(up);
	return rc;
}
