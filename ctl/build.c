/* build.c - writes signed headers, CTL/ITL records and .sgn files (SPEC §3), all through
 * a cbb; the signature is made by the caller's signer callback. */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>

#include "internal.h"
#include "tags.h"

static int oom(struct ctl_err *err)
{
	return ctl_fail(err, CTL_E_INTERNAL, "out of memory or a field longer than 65535 bytes");
}

/* Key size of the signer certificate -> modulus code and signature length. */
static int signer_key(X509 *cert, int *code, size_t *sig_len, struct ctl_err *err)
{
	EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
	int bits;

	if (!pk) {
		ERR_clear_error();
		return ctl_fail(err, CTL_E_UNSUPPORTED, "signer certificate has no usable public key");
	}
	if (EVP_PKEY_base_id(pk) != EVP_PKEY_RSA)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"signer key is %s; these files need an RSA signer",
				OBJ_nid2sn(EVP_PKEY_base_id(pk)));
	bits = EVP_PKEY_get_bits(pk);
	*code = ctl_modulus_code(bits);
	if (*code < 0)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"signer key is RSA-%d; only 512, 1024, 2048 or 4096 bits fit the format",
				bits);
	*sig_len = (size_t)bits / 8;
	return CTL_OK;
}

static int add_enc_info(struct cbb *b, const struct ctl_enc_info *x)
{
	size_t m16, m17, m21;

	return cbb_open_tlv(b, HDR_ENC_INFO, &m16) && cbb_open_tlv(b, HDR_IV_INFO, &m17) &&
	       cbb_add_tlv_u8(b, HDR_IV_TYPE, x->iv_type) &&
	       cbb_add_tlv(b, HDR_IV, x->iv.data, x->iv.len) &&
	       cbb_add_tlv_u16(b, HDR_PAD_COUNT, x->pad_count) && cbb_close_tlv(b, m17) &&
	       cbb_open_tlv(b, HDR_KEY_INFO, &m21) && cbb_add_tlv_u8(b, HDR_KEY_TYPE, x->key_type) &&
	       cbb_add_tlv_u16(b, HDR_KEY_BITS, x->key_bits) && cbb_add_tlv_u8(b, HDR_KEY_ALG, x->key_alg) &&
	       cbb_add_tlv(b, HDR_WRAPPED_KEY, x->wrapped_key.data, x->wrapped_key.len) &&
	       cbb_close_tlv(b, m21) && cbb_close_tlv(b, m16) &&
	       cbb_add_tlv_u8(b, HDR_CONTENT_HASH_ALG, (uint8_t)x->content_hash_alg) &&
	       cbb_add_tlv(b, HDR_CONTENT_HASH, x->content_hash.data, x->content_hash.len);
}

static int digest_without(const uint8_t *buf, size_t len, size_t cut, size_t cut_len,
			  const EVP_MD *md, uint8_t *d, unsigned *dlen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, md, NULL) && EVP_DigestUpdate(c, buf, cut) &&
		 EVP_DigestUpdate(c, buf + cut + cut_len, len - cut - cut_len) &&
		 EVP_DigestFinal_ex(c, d, dlen);
	EVP_MD_CTX_free(c);
	return ok;
}

/* The signer's names and serial for tag 3 (only these: a full ctl_record_from_cert also
 * DER-encodes the public key, a measurable cost per file when signing thousands). */
static int signer_ids(X509 *cert, const struct ctl_record *rec, struct ctl_record *me,
		      struct ctl_err *err)
{
	BIGNUM *bn;
	uint8_t one = 0, *p = NULL;
	int n, ok;

	memset(me, 0, sizeof(*me));
	if (rec) { /* a vendor record's "cn=\"SAST-…\";ou=…" stays as the vendor wrote it */
		me->subject = strdup(rec->subject);
		me->issuer = strdup(rec->issuer);
		if (!me->subject || !me->issuer ||
		    !ctl_buf_set(&me->serial, rec->serial.data, rec->serial.len)) {
			ctl_record_clear(me);
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		}
		return CTL_OK;
	}
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	n = bn ? BN_num_bytes(bn) : -1;
	if (n > 0 && (p = malloc((size_t)n)))
		BN_bn2bin(bn, p);
	BN_free(bn);
	me->subject = ctl_name_string(X509_get_subject_name(cert));
	me->issuer = ctl_name_string(X509_get_issuer_name(cert));
	ok = me->subject && me->issuer && n >= 0 && (n == 0 || p) &&
	     ctl_buf_set(&me->serial, n ? p : &one, n ? (size_t)n : 1); /* serial 0: one zero byte */
	free(p);
	if (!ok) {
		ctl_record_clear(me);
		return ctl_fail(err, CTL_E_INTERNAL,
				"signer certificate: cannot encode its names or serial (out of memory?)");
	}
	return CTL_OK;
}

/* Where the header's patched parts are: the header length's value and the signature
 * element (its value zeros until signed). */
struct hdr_marks {
	size_t hl_off, sig_off, sig_len;
};

/* The header elements up to the padding (SPEC §3 order), the signature zero-filled. */
static void add_header(struct cbb *b, const struct ctl_hdr_spec *spec,
		       const struct ctl_build_opts *opts, const struct ctl_record *me, int hash_alg,
		       int code, uint32_t ts, struct hdr_marks *mk)
{
	size_t m3, m7, m9;

	cbb_add_tlv(b, HDR_VERSION, (uint8_t[]){spec->version_major, spec->version_minor}, 2);
	cbb_add_u8(b, HDR_LENGTH);
	cbb_add_u16(b, 2);
	mk->hl_off = b->len;
	cbb_add_u16(b, 0);
	if (spec->has_signer_version)
		cbb_add_tlv(b, HDR_SIGNER_VERSION, (uint8_t[]){1, spec->signer_version_minor}, 2);
	cbb_open_tlv(b, HDR_SIGNER_INFO, &m3);
	cbb_add_tlv_str(b, HDR_SIGNER_NAME, me->subject);
	cbb_add_tlv_str(b, HDR_ISSUER_NAME, me->issuer);
	cbb_add_tlv(b, HDR_SIGNER_SERIAL, me->serial.data, me->serial.len);
	cbb_close_tlv(b, m3);
	cbb_open_tlv(b, HDR_SIG_INFO, &m7);
	cbb_add_tlv_u8(b, HDR_HASH_ALG, (uint8_t)hash_alg);
	cbb_open_tlv(b, HDR_SIG_ALG_INFO, &m9);
	cbb_add_tlv_u8(b, HDR_SIG_ALG, 0);
	cbb_add_tlv_u8(b, HDR_MODULUS, (uint8_t)code);
	cbb_close_tlv(b, m9);
	cbb_close_tlv(b, m7);
	mk->sig_off = b->len;
	cbb_add_u8(b, HDR_SIGNATURE);
	cbb_add_u16(b, (uint16_t)mk->sig_len);
	if (cbb_reserve(b, mk->sig_len)) {
		memset(b->buf + b->len, 0, mk->sig_len);
		b->len += mk->sig_len;
	}
	cbb_add_tlv_str(b, HDR_FILE_NAME, opts->file_name);
	cbb_add_tlv_u32(b, HDR_TIMESTAMP, ts);
	if (spec->enc)
		add_enc_info(b, spec->enc);
}

/* The file's digest (all but the signature element) signed, the signature put in place. */
static int sign_into(struct cbb *b, const struct hdr_marks *mk, int hash_alg,
		     const struct ctl_signer *signer, struct ctl_err *err)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	struct cbb sig;
	int rc;

	if (!digest_without(b->buf, b->len, mk->sig_off, 3 + mk->sig_len, ctl_hash_md(hash_alg),
			    d, &dlen))
		return ctl_fail(err, CTL_E_INTERNAL, "cannot hash the file");
	cbb_init(&sig);
	rc = signer->sign(signer->ctx, hash_alg, d, dlen, &sig, err);
	if (rc == CTL_OK && (sig.error || sig.len != mk->sig_len))
		rc = ctl_fail(err, CTL_E_INTERNAL, "signer returned %zu bytes, expected %zu",
			      sig.len, mk->sig_len);
	if (rc == CTL_OK)
		memcpy(b->buf + mk->sig_off + 3, sig.buf, mk->sig_len);
	cbb_cleanup(&sig);
	return rc;
}

int ctl_build_signed(const struct ctl_hdr_spec *spec, const uint8_t *body, size_t body_len,
		     const struct ctl_signer *signer, const struct ctl_build_opts *opts,
		     struct ctl_buf *out, struct ctl_err *err)
{
	int hash_alg = opts && opts->hash_alg ? opts->hash_alg : CTL_HASH_SHA512;
	const EVP_MD *md = ctl_hash_md(hash_alg);
	struct ctl_record me;
	struct hdr_marks mk = {0};
	struct cbb b;
	size_t hdr_len, out_len;
	uint8_t *p;
	uint32_t ts;
	int code = 0, rc;

	if (!md)
		return ctl_fail(err, CTL_E_UNSUPPORTED, "hash algorithm %d is not supported", hash_alg);
	if (!opts || !opts->file_name || !*opts->file_name)
		return ctl_fail(err, CTL_E_USAGE, "a header file name is required");
	if (!signer || !signer->sign)
		return ctl_fail(err, CTL_E_INTERNAL, "no signer");
	if ((rc = signer_key(signer->cert, &code, &mk.sig_len, err)))
		return rc;
	if ((rc = signer_ids(signer->cert, spec->signer_rec, &me, err)))
		return rc;
	ts = opts->timestamp ? opts->timestamp : (uint32_t)time(NULL);

	cbb_init(&b);
	add_header(&b, spec, opts, &me, hash_alg, code, ts, &mk);
	while (!b.error && b.len % 4)
		cbb_add_u8(&b, HDR_PADDING);
	hdr_len = b.len;
	ctl_record_clear(&me);
	if (b.error || hdr_len > 0xffff) {
		cbb_cleanup(&b);
		return ctl_fail(err, CTL_E_INTERNAL, "header too large or out of memory");
	}
	cbb_put_u16_at(&b, mk.hl_off, (uint16_t)hdr_len);
	cbb_add_bytes(&b, body, body_len);
	if (b.error) {
		cbb_cleanup(&b);
		return oom(err);
	}
	if ((rc = sign_into(&b, &mk, hash_alg, signer, err)) != CTL_OK) {
		cbb_cleanup(&b);
		return rc;
	}
	if (!cbb_finish(&b, &p, &out_len))
		return oom(err);
	ctl_buf_clear(out);
	out->data = p;
	out->len = out_len;
	return CTL_OK;
}

static int add_record(struct cbb *b, const struct ctl_record *r)
{
	size_t start = b->len, mark;

	if (!r->subject || !r->issuer || r->role < 0 || r->role > 0xffff)
		return 0;
	cbb_add_u8(b, REC_LENGTH);
	cbb_add_u16(b, 2);
	mark = b->len;
	cbb_add_u16(b, 0);
	if (r->dns_name)
		cbb_add_tlv_str(b, REC_DNS_NAME, r->dns_name);
	cbb_add_tlv_str(b, REC_SUBJECT, r->subject);
	cbb_add_tlv_str(b, REC_ISSUER, r->issuer);
	cbb_add_tlv(b, REC_SERIAL, r->serial.data, r->serial.len);
	cbb_add_tlv_u16(b, REC_ROLE, (uint16_t)r->role);
	if (r->pubkey.len)
		cbb_add_tlv(b, REC_PUBKEY, r->pubkey.data, r->pubkey.len);
	if (r->cert_sig.len)
		cbb_add_tlv(b, REC_CERT_SIG, r->cert_sig.data, r->cert_sig.len);
	if (r->cert.len)
		cbb_add_tlv(b, REC_CERT, r->cert.data, r->cert.len);
	if (r->has_ip)
		cbb_add_tlv(b, REC_IP, r->ip, 4);
	if (r->cert_hash.len)
		cbb_add_tlv(b, REC_CERT_HASH, r->cert_hash.data, r->cert_hash.len);
	if (r->cert_hash_alg)
		cbb_add_tlv_u8(b, REC_CERT_HASH_ALG, (uint8_t)r->cert_hash_alg);
	if (b->error || b->len - start > 0xffff)
		return 0;
	return cbb_put_u16_at(b, mark, (uint16_t)(b->len - start));
}

int ctl_build_tlv(int kind, const struct ctl_record *recs, size_t nrecs,
		  const struct ctl_signer *signer, const struct ctl_build_opts *opts,
		  struct ctl_buf *out, struct ctl_err *err)
{
	struct ctl_hdr_spec spec = {1, 2, true, 0, NULL, NULL};
	struct cbb b;
	uint8_t *body;
	size_t len;
	int rc;

	if (kind != CTL_KIND_CTL && kind != CTL_KIND_ITL)
		return ctl_fail(err, CTL_E_INTERNAL, "ctl_build_tlv: kind must be CTL or ITL");
	if (nrecs == 0 || nrecs > CTL_MAX_RECORDS)
		return ctl_fail(err, CTL_E_USAGE, "a %s needs 1 to %d records (got %zu)",
				ctl_kind_name(kind), CTL_MAX_RECORDS, nrecs);
	if (opts && opts->signer_version_minor >= 0)
		spec.signer_version_minor = (uint8_t)opts->signer_version_minor;
	else
		spec.signer_version_minor = kind == CTL_KIND_ITL ? 1 : 0;
	for (size_t i = 0; i < nrecs && !spec.signer_rec; i++)
		if (recs[i].role == CTL_ROLE_SAST && recs[i].subject && recs[i].issuer &&
		    recs[i].serial.len && signer && signer->cert &&
		    ctl_record_is_cert(&recs[i], signer->cert))
			spec.signer_rec = &recs[i];
	cbb_init(&b);
	for (size_t i = 0; i < nrecs; i++) {
		if (!add_record(&b, &recs[i])) {
			cbb_cleanup(&b);
			return ctl_fail(err, CTL_E_USAGE,
					"record %zu (%s) is incomplete or longer than 65535 bytes", i + 1,
					recs[i].subject ? recs[i].subject : "no subject");
		}
	}
	if (!cbb_finish(&b, &body, &len))
		return oom(err);
	rc = ctl_build_signed(&spec, body, len, signer, opts, out, err);
	free(body);
	return rc;
}

int ctl_build_sgn(const uint8_t *content, size_t len, const struct ctl_signer *signer,
		  const struct ctl_build_opts *opts, struct ctl_buf *out, struct ctl_err *err)
{
	const struct ctl_hdr_spec spec = {1, 0, false, 0, NULL, NULL};

	if (len > CTL_MAX_FILE_SIZE - 0x10000)
		return ctl_fail(err, CTL_E_USAGE, "content is %zu bytes; too large to sign", len);
	return ctl_build_signed(&spec, content, len, signer, opts, out, err);
}
