/* show.c - what a file is, every header field and every record, readable or as JSON:
 * `ctlverify show` and `ctlsign ctl show` print the same document (one schema per kind of
 * file, schemas/KIND.schema.json). Nothing is verified here. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "show.h"
#include "tool.h"

/* Everything about one record that is not stored in it directly. */
struct rec_info {
	char *sha1, *sha256;
	const char *key_type;
	int key_bits;
	char not_before[32], not_after[32];
	bool has_validity, expired, not_yet_valid;
	char cert_error[sizeof(((struct ctl_err *)0)->msg)];
	size_t length;
};

#define FIRMWARE_DESC "signed firmware or other vendor-signed file"

static void iso_time(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, n, "invalid");
}

static void key_info(EVP_PKEY *pk, struct rec_info *ri)
{
	int id = EVP_PKEY_base_id(pk);

	ri->key_type = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : OBJ_nid2sn(id);
	ri->key_bits = EVP_PKEY_get_bits(pk);
}

static void rec_info_get(const struct ctl_file *f, size_t i, struct rec_info *ri)
{
	const struct ctl_record *r = &f->records[i];
	struct ctl_err err = {0};
	X509 *x;

	memset(ri, 0, sizeof(*ri));
	ri->length = (i + 1 < f->nrecords ? f->records[i + 1].offset : f->raw.len) - r->offset;
	if (r->cert.len) {
		x = ctl_record_x509(r, &err);
		if (!x) {
			snprintf(ri->cert_error, sizeof(ri->cert_error), "%s", err.msg);
		} else {
			EVP_PKEY *pk = X509_get0_pubkey(x);
			ri->sha1 = ctl_cert_fingerprint(x, CTL_HASH_SHA1);
			ri->sha256 = ctl_cert_fingerprint(x, CTL_HASH_SHA256);
			if (pk)
				key_info(pk, ri);
			ri->has_validity = true;
			iso_time(X509_get0_notBefore(x), ri->not_before, sizeof(ri->not_before));
			iso_time(X509_get0_notAfter(x), ri->not_after, sizeof(ri->not_after));
			ri->expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
			ri->not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(x)) > 0;
			X509_free(x);
		}
	}
	if (!ri->key_type && r->pubkey.len) {
		/* No certificate: decode the key field itself (PKCS#1 RSA only). */
		const uint8_t *p = r->pubkey.data;
		EVP_PKEY *pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)r->pubkey.len);
		if (pk) {
			key_info(pk, ri);
			EVP_PKEY_free(pk);
		} else if (r->pubkey.data[0] == 0x04) {
			ri->key_type = "EC";
			ri->key_bits = (int)((r->pubkey.len - 1) / 2 * 8);
		}
	}
	ERR_clear_error();
}

static void rec_info_clear(struct rec_info *ri)
{
	free(ri->sha1);
	free(ri->sha256);
}

static void time_str(uint32_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm))
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, n, "?");
}

/* A record's security mode (SPEC §4.2): mixed when any server (non-SAST) record carries a
 * certificate, non-secure when none does. */
static const char *security_mode(const struct ctl_file *f)
{
	for (size_t i = 0; i < f->nrecords; i++)
		if (f->records[i].role != CTL_ROLE_SAST && f->records[i].cert.len)
			return "mixed";
	return "non-secure";
}

/* A record's string field as shown: absent and empty are told apart. */
static const char *field_str(const char *s)
{
	return !s ? "(absent)" : !*s ? "(empty)" : s;
}

static void print_hex_field(FILE *fp, const char *label, const struct ctl_buf *b)
{
	char *h = ctl_hex(b->data, b->len);
	fprintf(fp, "  %-22s %s\n", label, h ? h : "?");
	free(h);
}

static void text_enc(FILE *fp, const struct ctl_enc_info *x)
{
	fprintf(fp, "  %-22s %u\n", "IV type", x->iv_type);
	print_hex_field(fp, "IV", &x->iv);
	fprintf(fp, "  %-22s %u\n", "padding count", x->pad_count);
	fprintf(fp, "  %-22s %u\n", "key type", x->key_type);
	fprintf(fp, "  %-22s %u\n", "key bits", x->key_bits);
	fprintf(fp, "  %-22s %u%s\n", "key algorithm", x->key_alg, x->key_alg == 1 ? " (AES-128)" : "");
	fprintf(fp, "  %-22s %zu bytes\n", "wrapped key", x->wrapped_key.len);
	fprintf(fp, "  %-22s %s (%d)\n", "content hash algorithm",
		ctl_hash_name(x->content_hash_alg), x->content_hash_alg);
	print_hex_field(fp, "content hash", &x->content_hash);
}

/* The "header:" block, one field a line. */
static void text_header(FILE *fp, const struct ctl_header *h)
{
	char ts[40];

	time_str(h->timestamp, ts, sizeof(ts));
	fprintf(fp, "header:\n");
	fprintf(fp, "  %-22s %u.%u\n", "version", h->version_major, h->version_minor);
	fprintf(fp, "  %-22s %u\n", "header length", h->header_len);
	if (h->has_signer_version)
		fprintf(fp, "  %-22s %u.%u\n", "signer version", h->signer_version_major,
			h->signer_version_minor);
	fprintf(fp, "  %-22s %s\n", "signer name", h->signer_name);
	fprintf(fp, "  %-22s %s\n", "issuer name", h->issuer_name);
	print_hex_field(fp, "signer serial", &h->signer_serial);
	fprintf(fp, "  %-22s %s (%d)\n", "hash algorithm", ctl_hash_name(h->hash_alg), h->hash_alg);
	fprintf(fp, "  %-22s %s (%d)\n", "signature algorithm", h->sig_alg == 0 ? "RSA" : "?",
		h->sig_alg);
	fprintf(fp, "  %-22s %u bits (code %d)\n", "modulus", 512u << h->modulus_code,
		h->modulus_code);
	fprintf(fp, "  %-22s %zu bytes at offset %zu\n", "signature", h->signature.len,
		h->sig_offset);
	fprintf(fp, "  %-22s %s\n", "file name", h->file_name);
	if (h->has_timestamp)
		fprintf(fp, "  %-22s %u (%s)\n", "timestamp", h->timestamp, ts);
	else
		fprintf(fp, "  %-22s none\n", "timestamp");
	if (h->has_enc)
		text_enc(fp, &h->enc);
	fprintf(fp, "  %-22s %u\n", "padding bytes", h->pad_count);
}

/* The certificate lines of a record's block. */
static void text_cert(FILE *fp, const struct ctl_record *r, const struct rec_info *ri)
{
	if (!r->cert.len) {
		fprintf(fp, "  %-22s none\n", "certificate");
	} else if (ri->cert_error[0]) {
		fprintf(fp, "  %-22s %zu bytes, cannot be decoded: %s\n", "certificate",
			r->cert.len, ri->cert_error);
	} else {
		fprintf(fp, "  %-22s %zu bytes\n", "certificate", r->cert.len);
		fprintf(fp, "  %-22s %s\n", "SHA-1 fingerprint", ri->sha1 ? ri->sha1 : "?");
		fprintf(fp, "  %-22s %s\n", "SHA-256 fingerprint", ri->sha256 ? ri->sha256 : "?");
		fprintf(fp, "  %-22s %s\n", "not before", ri->not_before);
		fprintf(fp, "  %-22s %s\n", "not after", ri->not_after);
		fprintf(fp, "  %-22s %s\n", "expired",
			ri->expired ? "YES" : ri->not_yet_valid ? "no (not yet valid)" : "no");
	}
}

/* The block of record i. */
static void text_record(FILE *fp, const struct ctl_file *f, size_t i)
{
	const struct ctl_record *r = &f->records[i];
	struct rec_info ri;
	char rb[32];

	rec_info_get(f, i, &ri);
	fprintf(fp, "record %zu (offset %zu, %zu bytes):\n", i + 1, r->offset, ri.length);
	fprintf(fp, "  %-22s %s (%d)\n", "role", ctl_role_label(r->role, rb, sizeof(rb)), r->role);
	fprintf(fp, "  %-22s %s\n", "subject", field_str(r->subject));
	fprintf(fp, "  %-22s %s\n", "issuer", field_str(r->issuer));
	if (r->serial.len)
		print_hex_field(fp, "serial", &r->serial);
	else
		fprintf(fp, "  %-22s (absent)\n", "serial");
	if (r->dns_name)
		fprintf(fp, "  %-22s %s\n", "DNS name", field_str(r->dns_name));
	if (r->has_ip)
		fprintf(fp, "  %-22s %u.%u.%u.%u\n", "IP address", r->ip[0], r->ip[1], r->ip[2],
			r->ip[3]);
	if (ri.key_type)
		fprintf(fp, "  %-22s %s %d bits\n", "key", ri.key_type, ri.key_bits);
	fprintf(fp, "  %-22s %zu bytes\n", "public key", r->pubkey.len);
	fprintf(fp, "  %-22s %zu bytes\n", "certificate signature", r->cert_sig.len);
	text_cert(fp, r, &ri);
	if (r->cert_hash.len)
		print_hex_field(fp, "certificate hash", &r->cert_hash);
	if (r->cert_hash_alg)
		fprintf(fp, "  %-22s %s (%d)\n", "cert hash algorithm",
			ctl_hash_name(r->cert_hash_alg), r->cert_hash_alg);
	rec_info_clear(&ri);
}

void show_text(FILE *fp, const char *path, const struct ctl_file *f)
{
	const struct ctl_header *h = &f->hdr;
	const uint8_t *body;
	size_t blen;

	ctl_body(f, &body, &blen);
	fprintf(fp, "%s: %s%s, version %u.%u, %zu bytes\n", path, ctl_kind_name(f->kind),
		f->kind == CTL_KIND_FIRMWARE ? " (" FIRMWARE_DESC ")" : "", h->version_major,
		h->version_minor, f->raw.len);
	text_header(fp, h);
	fprintf(fp, "body: %zu bytes at offset %zu%s\n", blen, f->body_offset,
		f->kind == CTL_KIND_ENC_SGN ? " (encrypted)" : "");
	if (f->kind != CTL_KIND_CTL && f->kind != CTL_KIND_ITL)
		return;
	if (f->kind == CTL_KIND_CTL)
		fprintf(fp, "security mode: %s\n", security_mode(f));
	fprintf(fp, "records: %zu\n", f->nrecords);
	for (size_t i = 0; i < f->nrecords; i++)
		text_record(fp, f, i);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_hex(struct json_object *o, const char *k, const struct ctl_buf *b)
{
	json_object_object_add(o, k, tool_json_hex(b->data, b->len));
}

static struct json_object *json_enc(const struct ctl_enc_info *x)
{
	struct json_object *e = json_object_new_object();

	add_int(e, "iv_type", x->iv_type);
	add_hex(e, "iv", &x->iv);
	add_int(e, "pad_count", x->pad_count);
	add_int(e, "key_type", x->key_type);
	add_int(e, "key_bits", x->key_bits);
	add_int(e, "key_alg", x->key_alg);
	add_hex(e, "wrapped_key", &x->wrapped_key);
	add_int(e, "content_hash_alg", x->content_hash_alg);
	add_str(e, "content_hash_name", ctl_hash_name(x->content_hash_alg));
	add_hex(e, "content_hash", &x->content_hash);
	return e;
}

/* The "header" object (keys in schema order). */
static struct json_object *json_header(const struct ctl_header *h)
{
	struct json_object *hd = json_object_new_object();
	char ts[40], v[16];

	snprintf(v, sizeof(v), "%u.%u", h->version_major, h->version_minor);
	add_str(hd, "version", v);
	add_int(hd, "header_length", h->header_len);
	if (h->has_signer_version) {
		snprintf(v, sizeof(v), "%u.%u", h->signer_version_major, h->signer_version_minor);
		add_str(hd, "signer_version", v);
	}
	add_str(hd, "signer_name", h->signer_name);
	add_str(hd, "issuer_name", h->issuer_name);
	add_hex(hd, "signer_serial", &h->signer_serial);
	add_int(hd, "hash_alg", h->hash_alg);
	add_str(hd, "hash", ctl_hash_name(h->hash_alg));
	add_int(hd, "sig_alg", h->sig_alg);
	add_int(hd, "modulus_code", h->modulus_code);
	add_int(hd, "modulus_bits", 512 << h->modulus_code);
	add_int(hd, "signature_offset", (int64_t)h->sig_offset);
	add_hex(hd, "signature", &h->signature);
	add_str(hd, "file_name", h->file_name);
	if (h->has_timestamp) {
		add_int(hd, "timestamp", h->timestamp);
		time_str(h->timestamp, ts, sizeof(ts));
		add_str(hd, "time", ts);
	} else {
		add_str(hd, "timestamp", NULL);
		add_str(hd, "time", NULL);
	}
	add_int(hd, "padding", h->pad_count);
	if (h->has_enc)
		json_object_object_add(hd, "encryption", json_enc(&h->enc));
	return hd;
}

/* The certificate members of a record object. */
static void json_cert(struct json_object *jr, const struct ctl_record *r,
		      const struct rec_info *ri)
{
	add_int(jr, "cert_length", (int64_t)r->cert.len);
	add_str(jr, "sha1", ri->sha1);
	add_str(jr, "sha256", ri->sha256);
	if (ri->cert_error[0])
		add_str(jr, "cert_error", ri->cert_error);
	if (ri->has_validity) {
		add_str(jr, "not_before", ri->not_before);
		add_str(jr, "not_after", ri->not_after);
		json_object_object_add(jr, "expired", json_object_new_boolean(ri->expired));
		json_object_object_add(jr, "not_yet_valid",
				       json_object_new_boolean(ri->not_yet_valid));
	}
}

/* The object of record i. */
static struct json_object *json_record(const struct ctl_file *f, size_t i)
{
	const struct ctl_record *r = &f->records[i];
	struct json_object *jr = json_object_new_object();
	struct rec_info ri;
	char rb[32], ip[16];

	rec_info_get(f, i, &ri);
	add_int(jr, "offset", (int64_t)r->offset);
	add_int(jr, "length", (int64_t)ri.length);
	add_int(jr, "role_id", r->role);
	add_str(jr, "role", ctl_role_label(r->role, rb, sizeof(rb)));
	add_str(jr, "subject", r->subject);
	add_str(jr, "issuer", r->issuer);
	if (r->serial.len)
		add_hex(jr, "serial", &r->serial);
	else
		add_str(jr, "serial", NULL);
	add_str(jr, "dns_name", r->dns_name);
	if (r->has_ip) {
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", r->ip[0], r->ip[1], r->ip[2], r->ip[3]);
		add_str(jr, "ip", ip);
	} else {
		add_str(jr, "ip", NULL);
	}
	add_str(jr, "key_type", ri.key_type);
	if (ri.key_type)
		add_int(jr, "key_bits", ri.key_bits);
	add_int(jr, "public_key_length", (int64_t)r->pubkey.len);
	add_int(jr, "cert_signature_length", (int64_t)r->cert_sig.len);
	json_cert(jr, r, &ri);
	if (r->cert_hash.len)
		add_hex(jr, "cert_hash", &r->cert_hash);
	if (r->cert_hash_alg)
		add_int(jr, "cert_hash_alg", r->cert_hash_alg);
	rec_info_clear(&ri);
	return jr;
}

struct json_object *show_json(const char *path, const struct ctl_file *f)
{
	const struct ctl_header *h = &f->hdr;
	struct json_object *o = json_object_new_object();
	const uint8_t *body;
	size_t blen;

	ctl_body(f, &body, &blen);
	add_str(o, "file", path);
	add_str(o, "kind", ctl_kind_name(f->kind));
	if (f->kind == CTL_KIND_FIRMWARE)
		add_str(o, "description", FIRMWARE_DESC);
	add_int(o, "size", (int64_t)f->raw.len);
	json_object_object_add(o, "header", json_header(h));
	add_int(o, "body_offset", (int64_t)f->body_offset);
	add_int(o, "body_length", (int64_t)blen);
	if (f->kind == CTL_KIND_CTL || f->kind == CTL_KIND_ITL) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < f->nrecords; i++)
			json_object_array_add(arr, json_record(f, i));
		if (f->kind == CTL_KIND_CTL)
			add_str(o, "mode", security_mode(f));
		json_object_object_add(o, "records", arr);
	}
	return o;
}
