/* parse.c - reads .tlv / .sgn / .enc.sgn files (SPEC §3). Every byte goes through a cbs;
 * every structural problem names the tag and the absolute offset. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "parse_int.h"
#include "tags.h"

static int oom(struct ctl_err *err) { return ctl_fail(err, CTL_E_INTERNAL, "out of memory"); }

static int signer_info_elem(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err)
{
	struct ctl_header *h = ctx;

	if (tag == HDR_SIGNER_NAME)
		return tlv_string(e, "signer name", tag, &h->signer_name, err);
	if (tag == HDR_SIGNER_SERIAL)
		return tlv_bytes(e, "signer serial", tag, true, &h->signer_serial, err);
	return tlv_string(e, "issuer name", tag, &h->issuer_name, err);
}

static int sig_alg_elem(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err)
{
	struct ctl_header *h = ctx;

	if (tag == HDR_SIG_ALG) {
		TRY(tlv_want_len(e, "signature algorithm", tag, 1, err));
		h->sig_alg = tlv_u8(e);
		if (h->sig_alg != 0)
			return ctl_fail(err, CTL_E_UNSUPPORTED,
					"signature algorithm %d at offset %zu is not supported (only 0 = RSA)",
					h->sig_alg, ELEM_OFF(e));
		return CTL_OK;
	}
	TRY(tlv_want_len(e, "modulus code", tag, 1, err));
	h->modulus_code = tlv_u8(e);
	if (h->modulus_code > 3)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"modulus code %d at offset %zu is not supported (0..3 = 512..4096 bits)",
				h->modulus_code, ELEM_OFF(e));
	return CTL_OK;
}

static int sig_info_elem(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err)
{
	static const uint8_t alg_tags[] = {HDR_SIG_ALG, HDR_MODULUS};
	struct ctl_header *h = ctx;

	if (tag == HDR_SIG_ALG_INFO)
		return tlv_container(*e, "signature algorithm (tag 9)", alg_tags,
				       sizeof(alg_tags), sig_alg_elem, h, err);
	TRY(tlv_want_len(e, "hash algorithm", tag, 1, err));
	h->hash_alg = tlv_u8(e);
	if (!ctl_hash_md(h->hash_alg))
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"hash algorithm %d at offset %zu is not supported (1 = SHA-1, 2 = SHA-256, 3 = SHA-512)",
				h->hash_alg, ELEM_OFF(e));
	return CTL_OK;
}

static int iv_info_elem(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err)
{
	struct ctl_enc_info *x = ctx;

	if (tag == HDR_IV_TYPE) {
		TRY(tlv_want_len(e, "IV type", tag, 1, err));
		x->iv_type = tlv_u8(e);
	} else if (tag == HDR_IV) {
		TRY(tlv_want_len(e, "IV", tag, 16, err));
		TRY(tlv_bytes(e, "IV", tag, true, &x->iv, err));
	} else {
		TRY(tlv_want_len(e, "padding count", tag, 2, err));
		x->pad_count = tlv_u16(e);
	}
	return CTL_OK;
}

static int key_info_elem(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err)
{
	struct ctl_enc_info *x = ctx;

	if (tag == HDR_KEY_TYPE) {
		TRY(tlv_want_len(e, "key type", tag, 1, err));
		x->key_type = tlv_u8(e);
	} else if (tag == HDR_KEY_BITS) {
		TRY(tlv_want_len(e, "key size", tag, 2, err));
		x->key_bits = tlv_u16(e);
	} else if (tag == HDR_KEY_ALG) {
		TRY(tlv_want_len(e, "key algorithm", tag, 1, err));
		x->key_alg = tlv_u8(e);
	} else {
		TRY(tlv_bytes(e, "wrapped key", tag, true, &x->wrapped_key, err));
	}
	return CTL_OK;
}

static int enc_info_elem(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err)
{
	static const uint8_t iv_tags[] = {HDR_IV_TYPE, HDR_IV, HDR_PAD_COUNT},
			     key_tags[] = {HDR_KEY_TYPE, HDR_KEY_BITS, HDR_KEY_ALG, HDR_WRAPPED_KEY};

	if (tag == HDR_IV_INFO)
		return tlv_container(*e, "IV info (tag 17)", iv_tags, sizeof(iv_tags),
				       iv_info_elem, ctx, err);
	return tlv_container(*e, "key info (tag 21)", key_tags, sizeof(key_tags),
			       key_info_elem, ctx, err);
}

static const uint8_t signer_info_tags[] = {HDR_SIGNER_NAME, HDR_SIGNER_SERIAL, HDR_ISSUER_NAME},
		     sig_info_tags[] = {HDR_HASH_ALG, HDR_SIG_ALG_INFO},
		     enc_info_tags[] = {HDR_IV_INFO, HDR_KEY_INFO};

static int parse_version(struct cbs *s, struct ctl_header *h, struct ctl_err *err)
{
	struct cbs e;
	uint8_t tag;

	if (!cbs_peek_u8(s, &tag))
		return ctl_fail(err, CTL_E_MALFORMED, "file is empty");
	if (tag != HDR_VERSION)
		return ctl_fail(err, CTL_E_MALFORMED,
				"not a CTL/ITL/.sgn/.enc.sgn file: expected version (tag 1) at offset 0, found tag %u",
				tag);
	if (!cbs_get_tlv(s, &tag, &e))
		return ctl_fail(err, CTL_E_MALFORMED,
				"file is truncated: %zu bytes, too short for the version element",
				cbs_len(s));
	TRY(tlv_want_len(&e, "version", tag, 2, err));
	h->version_major = cbs_data(&e)[0];
	h->version_minor = cbs_data(&e)[1];
	if (!((h->version_major == 1 && h->version_minor <= 2) ||
	      (h->version_major == 2 && h->version_minor == 0)))
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"file version %u.%u is not supported (CTL/ITL 1.2, .sgn 1.0, signed firmware 1.1, .enc.sgn 2.0)",
				h->version_major, h->version_minor);
	return CTL_OK;
}

/* The header length element after the version: the header is exactly header_len bytes
 * (*hs); elements may not cross its end. */
static int parse_header_len(struct cbs *file, size_t total, struct ctl_header *h,
			    struct cbs *hs, struct ctl_err *err)
{
	struct cbs e;
	uint8_t tag;

	if (!cbs_get_tlv(file, &tag, &e))
		return ctl_fail(err, CTL_E_MALFORMED,
				"file is truncated at offset 5: no header length element");
	if (tag != HDR_LENGTH)
		return ctl_fail(err, CTL_E_MALFORMED,
				"header: expected header length (tag 2) at offset 5, found tag %u", tag);
	TRY(tlv_want_len(&e, "header length", tag, 2, err));
	h->header_len = tlv_u16(&e);
	if (h->header_len > total)
		return ctl_fail(err, CTL_E_MALFORMED,
				"header length %u runs past the end of the file (%zu bytes)",
				h->header_len, total);
	if (h->header_len < cbs_offset(file))
		return ctl_fail(err, CTL_E_MALFORMED, "header length %u is too small",
				h->header_len);
	if (!cbs_get_bytes(file, hs, h->header_len - cbs_offset(file)))
		return ctl_fail(err, CTL_E_INTERNAL, "header bounds");
	return CTL_OK;
}

/* The next header element into *tag, *e, padding counted and skipped on the way; *got is
 * false at the header's end. Padding ends the header: no element may follow it. */
static int header_next(struct cbs *hs, struct ctl_header *h, uint8_t *tag, struct cbs *e,
		       bool *got, struct ctl_err *err)
{
	*got = false;
	while (cbs_len(hs)) {
		uint8_t t;
		cbs_peek_u8(hs, &t);
		if (t == HDR_PADDING) {
			cbs_skip(hs, 1);
			h->pad_count++;
			continue;
		}
		if (h->pad_count)
			return ctl_fail(err, CTL_E_MALFORMED,
					"header: element tag %u at offset %zu follows the padding; header length %u does not match where the header ends",
					t, cbs_offset(hs), h->header_len);
		if (!cbs_get_tlv(hs, tag, e)) {
			size_t off = cbs_offset(hs);
			if (cbs_len(hs) < 3)
				return ctl_fail(err, CTL_E_MALFORMED,
						"header: element tag %u at offset %zu crosses the header end %u (header length does not match the elements)",
						t, off, h->header_len);
			return ctl_fail(err, CTL_E_MALFORMED,
					"header: element tag %u at offset %zu with length %u runs past the header end %u",
					t, off,
					(unsigned)((cbs_data(hs)[1] << 8) | cbs_data(hs)[2]),
					h->header_len);
		}
		*got = true;
		return CTL_OK;
	}
	return CTL_OK;
}

/* Header tags are known, and the version-specific ones in a file of their version. */
static int header_tag_allowed(const struct ctl_header *h, uint8_t tag, const struct cbs *e,
			      struct ctl_err *err)
{
	bool is_tlv = h->version_major == 1 && h->version_minor == 2;
	bool is_enc = h->version_major == 2;

	if (tag > HDR_TAG_MAX || tag == 0)
		return tlv_unknown_tag("header", tag, e, err);
	if (tag == HDR_SIGNER_VERSION && !is_tlv)
		return ctl_fail(err, CTL_E_MALFORMED,
				"header: signer version (tag 28) at offset %zu in a version %u.%u file",
				ELEM_OFF(e), h->version_major, h->version_minor);
	if ((tag == HDR_ENC_INFO || tag == HDR_CONTENT_HASH_ALG || tag == HDR_CONTENT_HASH) &&
	    !is_enc)
		return ctl_fail(err, CTL_E_MALFORMED,
				"header: encryption tag %u at offset %zu in a version %u.%u file",
				tag, ELEM_OFF(e), h->version_major, h->version_minor);
	return CTL_OK;
}

/* One header element (tag already checked and seen once) into *h. */
static int header_field(struct ctl_header *h, uint8_t tag, struct cbs *e, struct ctl_err *err)
{
	switch (tag) {
	case HDR_SIGNER_VERSION:
		TRY(tlv_want_len(e, "signer version", tag, 2, err));
		h->has_signer_version = true;
		h->signer_version_major = cbs_data(e)[0];
		h->signer_version_minor = cbs_data(e)[1];
		break;
	case HDR_VERSION:
	case HDR_LENGTH:
		break;
	case HDR_SIGNER_INFO:
		TRY(tlv_container(*e, "signer info (tag 3)", signer_info_tags,
				    sizeof(signer_info_tags), signer_info_elem, h, err));
		break;
	case HDR_SIG_INFO:
		TRY(tlv_container(*e, "signature info (tag 7)", sig_info_tags,
				    sizeof(sig_info_tags), sig_info_elem, h, err));
		break;
	case HDR_SIGNATURE:
		TRY(tlv_bytes(e, "signature", tag, true, &h->signature, err));
		h->sig_offset = ELEM_OFF(e);
		h->sig_elem_len = 3 + cbs_len(e);
		break;
	case HDR_FILE_NAME:
		TRY(tlv_string(e, "file name", tag, &h->file_name, err));
		break;
	case HDR_TIMESTAMP:
		TRY(tlv_want_len(e, "timestamp", tag, 4, err));
		h->timestamp = ((uint32_t)tlv_u16(e) << 16) | (uint32_t)((cbs_data(e)[2] << 8) | cbs_data(e)[3]);
		h->has_timestamp = true;
		break;
	case HDR_ENC_INFO:
		TRY(tlv_container(*e, "encryption info (tag 16)", enc_info_tags,
				    sizeof(enc_info_tags), enc_info_elem, &h->enc, err));
		h->has_enc = true;
		break;
	case HDR_CONTENT_HASH_ALG:
		TRY(tlv_want_len(e, "content hash algorithm", tag, 1, err));
		h->enc.content_hash_alg = tlv_u8(e);
		if (!ctl_hash_md(h->enc.content_hash_alg))
			return ctl_fail(err, CTL_E_UNSUPPORTED,
					"content hash algorithm %d at offset %zu is not supported",
					h->enc.content_hash_alg, ELEM_OFF(e));
		break;
	case HDR_CONTENT_HASH:
		TRY(tlv_bytes(e, "content hash", tag, true, &h->enc.content_hash, err));
		break;
	default:
		return tlv_unknown_tag("header", tag, e, err);
	}
	return CTL_OK;
}

/* After the last element: the required ones are there and the sizes agree. */
static int header_complete(const struct ctl_header *h, uint32_t seen, struct ctl_err *err)
{
	static const uint8_t req[] = {HDR_VERSION, HDR_LENGTH, HDR_SIGNER_INFO, HDR_SIG_INFO,
				    HDR_SIGNATURE, HDR_FILE_NAME, HDR_TIMESTAMP};
	/* Signed firmware (version 1.1) has no timestamp. */
	static const uint8_t req_fw[] = {HDR_VERSION, HDR_LENGTH, HDR_SIGNER_INFO, HDR_SIG_INFO,
				       HDR_SIGNATURE, HDR_FILE_NAME};
	static const uint8_t req_enc[] = {HDR_ENC_INFO, HDR_CONTENT_HASH_ALG, HDR_CONTENT_HASH};
	bool is_enc = h->version_major == 2;
	bool is_fw = h->version_major == 1 && h->version_minor == 1;

	if (is_fw)
		TRY(tlv_missing(seen, req_fw, sizeof(req_fw), "header", 0, err));
	else
		TRY(tlv_missing(seen, req, sizeof(req), "header", 0, err));
	if (is_enc)
		TRY(tlv_missing(seen, req_enc, sizeof(req_enc), "header", 0, err));
	if (h->signature.len != (size_t)(64u << h->modulus_code))
		return ctl_fail(err, CTL_E_MALFORMED,
				"signature (tag 12) at offset %zu is %zu bytes, but modulus code %d means %u",
				h->sig_offset, h->signature.len, h->modulus_code,
				64u << h->modulus_code);
	if (is_enc) {
		const EVP_MD *md = ctl_hash_md(h->enc.content_hash_alg);
		if ((size_t)EVP_MD_get_size(md) != h->enc.content_hash.len)
			return ctl_fail(err, CTL_E_MALFORMED,
					"content hash (tag 27) is %zu bytes, but %s hashes are %d",
					h->enc.content_hash.len, ctl_hash_name(h->enc.content_hash_alg),
					EVP_MD_get_size(md));
	}
	return CTL_OK;
}

static int parse_header(struct cbs *file, struct ctl_file *f, struct ctl_err *err)
{
	struct ctl_header *h = &f->hdr;
	struct cbs hs, e;
	uint32_t seen = (1u << HDR_VERSION) | (1u << HDR_LENGTH);
	uint8_t tag;
	bool got;
	size_t total = cbs_len(file);

	TRY(parse_version(file, h, err));
	TRY(parse_header_len(file, total, h, &hs, err));
	for (;;) {
		TRY(header_next(&hs, h, &tag, &e, &got, err));
		if (!got)
			break;
		TRY(header_tag_allowed(h, tag, &e, err));
		TRY(tlv_seen_once(&seen, tag, "header", &e, err));
		TRY(header_field(h, tag, &e, err));
	}
	return header_complete(h, seen, err);
}

/* One record field (tag already checked and seen once) into *r. */
static int record_field(struct ctl_record *r, uint8_t tag, struct cbs *e, struct ctl_err *err)
{
	switch (tag) {
	case REC_DNS_NAME:
		TRY(tlv_string_opt(e, "DNS name", tag, true, &r->dns_name, err));
		break;
	case REC_SUBJECT:
		TRY(tlv_string(e, "subject name", tag, &r->subject, err));
		break;
	case REC_ROLE:
		TRY(tlv_want_len(e, "role", tag, 2, err));
		r->role = tlv_u16(e);
		break;
	case REC_ISSUER:
		TRY(tlv_string(e, "issuer name", tag, &r->issuer, err));
		break;
	case REC_SERIAL:
		TRY(tlv_bytes(e, "serial number", tag, true, &r->serial, err));
		break;
	case REC_PUBKEY:
		TRY(tlv_bytes(e, "public key", tag, false, &r->pubkey, err));
		break;
	case REC_CERT_SIG:
		TRY(tlv_bytes(e, "certificate signature", tag, false, &r->cert_sig, err));
		break;
	case REC_CERT:
		TRY(tlv_bytes(e, "certificate", tag, false, &r->cert, err));
		break;
	case REC_IP:
		TRY(tlv_want_len(e, "IP address", tag, 4, err));
		memcpy(r->ip, cbs_data(e), 4);
		r->has_ip = true;
		break;
	case REC_CERT_HASH:
		TRY(tlv_bytes(e, "certificate hash", tag, false, &r->cert_hash, err));
		break;
	case REC_CERT_HASH_ALG:
		TRY(tlv_want_len(e, "certificate hash algorithm", tag, 1, err));
		r->cert_hash_alg = tlv_u8(e);
		break;
	}
	return CTL_OK;
}

/* The record length element: the record's fields into *rec, its length into *rec_len. */
static int record_len(struct cbs *body, const char *where, struct cbs *rec, uint16_t *rec_len,
		      struct ctl_err *err)
{
	struct cbs e;
	uint8_t tag;

	if (!cbs_get_tlv(body, &tag, &e))
		return ctl_fail(err, CTL_E_MALFORMED,
				"%s: truncated record length element (%zu bytes left)", where,
				cbs_len(body));
	if (tag != REC_LENGTH)
		return ctl_fail(err, CTL_E_MALFORMED,
				"%s: expected record length (tag 1), found tag %u", where, tag);
	TRY(tlv_want_len(&e, "record length", tag, 2, err));
	*rec_len = tlv_u16(&e);
	if (*rec_len < 5)
		return ctl_fail(err, CTL_E_MALFORMED, "%s: record length %u is too small", where,
				*rec_len);
	if (!cbs_get_bytes(body, rec, *rec_len - 5u))
		return ctl_fail(err, CTL_E_MALFORMED,
				"%s: record length %u runs past the end of the file (%zu bytes left)",
				where, *rec_len, cbs_len(body) + 5);
	return CTL_OK;
}

static int parse_record(struct cbs *body, struct ctl_record *r, struct ctl_err *err)
{
	/* Only the role is required: real SAST records may lack tag 8, and non-secure server
	 * records may hold just DNS name, role and IP (no subject, issuer, serial, key or
	 * certificate). A record without a certificate, issuer or serial is never a signer. */
	static const uint8_t req[] = {REC_ROLE};
	size_t start = cbs_offset(body);
	char where[64];
	struct cbs rec, e;
	uint16_t rec_len = 0;
	uint32_t seen = 1u << REC_LENGTH;
	uint8_t tag;

	snprintf(where, sizeof(where), "record at offset %zu", start);
	r->offset = start;
	TRY(record_len(body, where, &rec, &rec_len, err));
	while (cbs_len(&rec)) {
		size_t off = cbs_offset(&rec);
		if (!cbs_get_tlv(&rec, &tag, &e)) {
			uint8_t t = 0;
			cbs_peek_u8(&rec, &t);
			return ctl_fail(err, CTL_E_MALFORMED,
					"%s: field tag %u at offset %zu runs past the record end (record length %u does not match its fields)",
					where, t, off, rec_len);
		}
		if (tag < REC_DNS_NAME || tag > REC_TAG_MAX)
			return tlv_unknown_tag(where, tag, &e, err);
		TRY(tlv_seen_once(&seen, tag, where, &e, err));
		TRY(record_field(r, tag, &e, err));
	}
	return tlv_missing(seen, req, sizeof(req), "record", start, err);
}

static int parse_records(struct cbs *body, struct ctl_file *f, struct ctl_err *err)
{
	size_t cap = 0;

	if (!cbs_len(body))
		return ctl_fail(err, CTL_E_MALFORMED, "%s has no records after the header (offset %zu)",
				ctl_kind_name(f->kind), cbs_offset(body));
	while (cbs_len(body)) {
		if (f->nrecords == CTL_MAX_RECORDS)
			return ctl_fail(err, CTL_E_MALFORMED,
					"more than %d records (offset %zu); refusing the file",
					CTL_MAX_RECORDS, cbs_offset(body));
		if (f->nrecords == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct ctl_record *p = realloc(f->records, ncap * sizeof(*p));
			if (!p)
				return oom(err);
			f->records = p;
			cap = ncap;
		}
		memset(&f->records[f->nrecords], 0, sizeof(f->records[0]));
		f->records[f->nrecords].role = -1;
		f->nrecords++;
		TRY(parse_record(body, &f->records[f->nrecords - 1], err));
	}
	return CTL_OK;
}

int ctl_parse(const uint8_t *data, size_t len, struct ctl_file **out, struct ctl_err *err)
{
	struct ctl_file *f;
	struct cbs s;
	int rc;

	*out = NULL;
	if (len > CTL_MAX_FILE_SIZE)
		return ctl_fail(err, CTL_E_MALFORMED, "file is %zu bytes, more than the %u limit",
				len, CTL_MAX_FILE_SIZE);
	f = calloc(1, sizeof(*f));
	if (!f)
		return oom(err);
	if (!ctl_buf_set(&f->raw, data, len)) {
		free(f);
		return oom(err);
	}
	cbs_init(&s, f->raw.data, f->raw.len);
	rc = parse_header(&s, f, err);
	if (rc)
		goto fail;
	f->body_offset = f->hdr.header_len;
	if (f->hdr.version_major == 1 && f->hdr.version_minor == 2) {
		f->kind = strncmp(f->hdr.file_name, "ITL", 3) == 0 ? CTL_KIND_ITL : CTL_KIND_CTL;
		rc = parse_records(&s, f, err);
		if (rc)
			goto fail;
	} else if (f->hdr.version_major == 1 && f->hdr.version_minor == 1) {
		f->kind = CTL_KIND_FIRMWARE;
	} else if (f->hdr.version_major == 1) {
		f->kind = CTL_KIND_SGN;
	} else {
		f->kind = CTL_KIND_ENC_SGN;
		if (cbs_len(&s) == 0 || cbs_len(&s) % 16 != 0) {
			rc = ctl_fail(err, CTL_E_MALFORMED,
				      "encrypted body at offset %zu is %zu bytes, not a non-zero multiple of 16",
				      cbs_offset(&s), cbs_len(&s));
			goto fail;
		}
		if (f->hdr.enc.pad_count >= 16) {
			rc = ctl_fail(err, CTL_E_MALFORMED, "padding count (tag 20) %u is not below 16",
				      f->hdr.enc.pad_count);
			goto fail;
		}
	}
	*out = f;
	return CTL_OK;
fail:
	ctl_file_free(f);
	return rc;
}

int ctl_parse_file(const char *path, struct ctl_file **out, struct ctl_err *err)
{
	struct ctl_buf b = {0};
	int rc;

	*out = NULL;
	rc = ctl_read_file(path, CTL_MAX_FILE_SIZE, &b, err);
	if (rc)
		return rc;
	rc = ctl_parse(b.data, b.len, out, err);
	ctl_buf_clear(&b);
	if (rc)
		ctl_fail_prefix(err, "%s", path);
	return rc;
}

static void header_clear(struct ctl_header *h)
{
	free(h->signer_name);
	free(h->issuer_name);
	free(h->file_name);
	ctl_buf_clear(&h->signer_serial);
	ctl_buf_clear(&h->signature);
	ctl_buf_clear(&h->enc.iv);
	ctl_buf_clear(&h->enc.wrapped_key);
	ctl_buf_clear(&h->enc.content_hash);
}

void ctl_file_free(struct ctl_file *f)
{
	if (!f)
		return;
	header_clear(&f->hdr);
	for (size_t i = 0; i < f->nrecords; i++)
		ctl_record_clear(&f->records[i]);
	free(f->records);
	ctl_buf_clear(&f->raw);
	free(f);
}

int ctl_signed_bytes(const struct ctl_file *f, struct ctl_buf *out, struct ctl_err *err)
{
	struct cbs s, part;
	struct cbb b;
	uint8_t *p;
	size_t n;

	cbs_init(&s, f->raw.data, f->raw.len);
	cbb_init(&b);
	if (!cbs_get_bytes(&s, &part, f->hdr.sig_offset) || !cbb_add_bytes(&b, cbs_data(&part), cbs_len(&part)) ||
	    !cbs_skip(&s, f->hdr.sig_elem_len) || !cbb_add_bytes(&b, cbs_data(&s), cbs_len(&s)) ||
	    !cbb_finish(&b, &p, &n)) {
		cbb_cleanup(&b);
		return ctl_fail(err, CTL_E_INTERNAL, "cannot assemble the signed bytes");
	}
	ctl_buf_clear(out);
	out->data = p;
	out->len = n;
	return CTL_OK;
}

void ctl_body(const struct ctl_file *f, const uint8_t **data, size_t *len)
{
	struct cbs s;

	cbs_init(&s, f->raw.data, f->raw.len);
	if (!cbs_skip(&s, f->body_offset)) {
		*data = NULL;
		*len = 0;
		return;
	}
	*data = cbs_data(&s);
	*len = cbs_len(&s);
}
