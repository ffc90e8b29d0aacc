/* verify.c - header signatures, signer lookup and self-verification of CTL/ITL files. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

int ctl_verify_pkey(const struct ctl_file *f, EVP_PKEY *pkey, struct ctl_err *err)
{
	const EVP_MD *md = ctl_hash_md(f->hdr.hash_alg);
	struct ctl_buf tbs = {0};
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc, ok;

	if (!md)
		return ctl_fail(err, CTL_E_UNSUPPORTED, "hash algorithm %d is not supported",
				f->hdr.hash_alg);
	if (f->hdr.sig_alg != 0)
		return ctl_fail(err, CTL_E_UNSUPPORTED, "signature algorithm %d is not supported",
				f->hdr.sig_alg);
	if (!pkey || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"signer key is not RSA; these files carry RSA signatures only");
	if ((size_t)EVP_PKEY_get_size(pkey) != f->hdr.signature.len)
		return ctl_fail(err, CTL_E_SIGNATURE,
				"signature is %zu bytes but the signer key is %d bits",
				f->hdr.signature.len, EVP_PKEY_get_bits(pkey));
	rc = ctl_signed_bytes(f, &tbs, err);
	if (rc)
		return rc;
	mctx = EVP_MD_CTX_new();
	if (!mctx || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot set up signature verification");
		goto out;
	}
	ok = EVP_DigestVerify(mctx, f->hdr.signature.data, f->hdr.signature.len, tbs.data,
			      tbs.len);
	if (ok == 1)
		rc = CTL_OK;
	else
		rc = ctl_fail(err, CTL_E_SIGNATURE, "%s signature does not verify (%s, signer %s)",
			      ctl_kind_name(f->kind), ctl_hash_name(f->hdr.hash_alg),
			      f->hdr.signer_name ? f->hdr.signer_name : "?");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	ctl_buf_clear(&tbs);
	return rc;
}

int ctl_verify_cert(const struct ctl_file *f, X509 *cert, struct ctl_err *err)
{
	EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;

	if (!pk) {
		ERR_clear_error();
		return ctl_fail(err, CTL_E_UNSUPPORTED, "certificate public key cannot be decoded");
	}
	return ctl_verify_pkey(f, pk, err);
}

static bool buf_eq(const struct ctl_buf *a, const struct ctl_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

const struct ctl_record *ctl_find_signer(const struct ctl_file *f, int role)
{
	if (!f->hdr.issuer_name)
		return NULL;
	for (size_t i = 0; i < f->nrecords; i++) {
		const struct ctl_record *r = &f->records[i];
		if (role >= 0 && r->role != role)
			continue;
		if (r->cert.len && r->issuer && strcmp(r->issuer, f->hdr.issuer_name) == 0 &&
		    buf_eq(&r->serial, &f->hdr.signer_serial))
			return r;
	}
	return NULL;
}

/* Hex of the serial for messages (truncated to fit). */
static void serial_hex(const struct ctl_buf *s, char *out, size_t n)
{
	size_t max = (n - 1) / 2;

	ctl_hex_to(s->data, s->len < max ? s->len : max, out);
}

int ctl_verify_self(const struct ctl_file *f, struct ctl_err *err)
{
	const struct ctl_record *r = NULL;
	char hex[80];
	X509 *x;
	int rc;

	if (f->kind != CTL_KIND_CTL && f->kind != CTL_KIND_ITL)
		return ctl_fail(err, CTL_E_SIGNER,
				"%s files do not carry their signer's certificate; give the certificate",
				ctl_kind_name(f->kind));
	if (f->kind == CTL_KIND_CTL) {
		r = ctl_find_signer(f, CTL_ROLE_SAST);
	} else {
		for (size_t i = 0; i < f->nrecords && !r; i++) {
			const struct ctl_record *c = &f->records[i];
			if (c->cert.len && c->issuer && f->hdr.issuer_name &&
			    !strcmp(c->issuer, f->hdr.issuer_name) &&
			    buf_eq(&c->serial, &f->hdr.signer_serial))
				r = c;
		}
	}
	serial_hex(&f->hdr.signer_serial, hex, sizeof(hex));
	if (!r || !r->cert.len)
		return ctl_fail(err, CTL_E_SIGNER,
				"no %s record with a certificate matches the signer (issuer %s, serial %s)",
				f->kind == CTL_KIND_CTL ? "SAST" : "ITL", f->hdr.issuer_name, hex);
	x = ctl_record_x509(r, err);
	if (!x)
		return err ? (err->code = CTL_E_SIGNER) : CTL_E_SIGNER;
	/* The record's own fields must describe the certificate it carries. */
	{
		char *iss = ctl_name_string(X509_get_issuer_name(x));
		struct ctl_record tmp;
		bool same = false;
		struct ctl_err e2;
		if (iss && ctl_record_from_cert(x, r->role, NULL, NULL, false, &tmp, &e2) == CTL_OK) {
			same = !strcmp(iss, r->issuer) && buf_eq(&tmp.serial, &r->serial);
			ctl_record_clear(&tmp);
		}
		free(iss);
		if (!same) {
			X509_free(x);
			return ctl_fail(err, CTL_E_SIGNER,
					"signer record at offset %zu names issuer/serial that differ from its certificate",
					r->offset);
		}
	}
	rc = ctl_verify_cert(f, x, err);
	X509_free(x);
	return rc;
}
