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

/* The first record accepted by role (>= 0: that role) and need_cert that names the
 * header's signer (ctl_cert_id_equal). */
static const struct ctl_record *find_signer(const struct ctl_file *f, int role, bool need_cert)
{
	const struct ctl_record *found = NULL;
	struct ctl_cert_id h;

	if (ctl_cert_id_from_fields(f->hdr.issuer_name, &f->hdr.signer_serial, &h) != CTL_OK)
		return NULL;
	for (size_t i = 0; i < f->nrecords && !found; i++) {
		const struct ctl_record *r = &f->records[i];
		struct ctl_cert_id id;

		if ((role >= 0 && r->role != role) || (need_cert && !r->cert.len))
			continue;
		if (ctl_cert_id_from_fields(r->issuer, &r->serial, &id) != CTL_OK)
			continue;
		if (ctl_cert_id_equal(&h, &id))
			found = r;
		ctl_cert_id_clear(&id);
	}
	ctl_cert_id_clear(&h);
	return found;
}

const struct ctl_record *ctl_find_signer(const struct ctl_file *f, int role)
{
	/* A record without a certificate can never be a signer. */
	return find_signer(f, role, true);
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
		r = find_signer(f, -1, true);
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
		if (!ctl_cert_is(x, r->issuer, &r->serial)) {
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
