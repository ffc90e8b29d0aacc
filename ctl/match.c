/* match.c - one rule for "this certificate is that record / that signer": issuer names
 * compared as parsed X.509 names, serial numbers compared as integers (see ctl.h). */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* --- parsing name strings --- */

/* Attribute type keywords accepted in any case. Anything else: an exact OpenSSL short or
 * long name, or a dotted OID. */
static const struct {
	const char *key;
	int nid;
} name_keys[] = {
	{"cn", NID_commonName},
	{"commonname", NID_commonName},
	{"c", NID_countryName},
	{"countryname", NID_countryName},
	{"l", NID_localityName},
	{"localityname", NID_localityName},
	{"st", NID_stateOrProvinceName},
	{"s", NID_stateOrProvinceName},
	{"stateorprovincename", NID_stateOrProvinceName},
	{"o", NID_organizationName},
	{"organizationname", NID_organizationName},
	{"ou", NID_organizationalUnitName},
	{"organizationalunitname", NID_organizationalUnitName},
	{"street", NID_streetAddress},
	{"streetaddress", NID_streetAddress},
	{"dc", NID_domainComponent},
	{"domaincomponent", NID_domainComponent},
	{"uid", NID_userId},
	{"userid", NID_userId},
	{"emailaddress", NID_pkcs9_emailAddress},
	{"email", NID_pkcs9_emailAddress},
	{"e", NID_pkcs9_emailAddress},
	{"serialnumber", NID_serialNumber},
	{"title", NID_title},
	{"sn", NID_surname},
	{"surname", NID_surname},
	{"gn", NID_givenName},
	{"givenname", NID_givenName},
	{"initials", NID_initials},
	{"generationqualifier", NID_generationQualifier},
	{"dnqualifier", NID_dnQualifier},
	{"pseudonym", NID_pseudonym},
	{"name", NID_name},
	{"postalcode", NID_postalCode},
	{"businesscategory", NID_businessCategory},
	{"description", NID_description},
};

static ASN1_OBJECT *key_object(const char *key)
{
	ASN1_OBJECT *o;

	for (size_t i = 0; i < sizeof(name_keys) / sizeof(name_keys[0]); i++)
		if (!strcasecmp(key, name_keys[i].key))
			return OBJ_nid2obj(name_keys[i].nid); /* static object: freeing is a no-op */
	if (key[0] >= '0' && key[0] <= '9') { /* a dotted OID: digits and single dots */
		for (const char *p = key; *p; p++)
			if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9' &&
							   p[-1] != '.'))
				return NULL;
	}
	o = OBJ_txt2obj(key, 0);
	ERR_clear_error();
	if (o && OBJ_obj2txt(NULL, 0, o, 1) > 64) { /* OpenSSL prints at most 79 characters */
		ASN1_OBJECT_free(o);
		o = NULL;
	}
	return o;
}

/* RFC 4514 keys are letters, digits and '-' (or a dotted OID); OpenSSL's short names,
 * which the writer prints, also use '_' and '/' (ad_timestamping, RSA-SHA512/224). */
static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '/';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_sep(char c)
{
	return c == ',' || c == ';' || c == '+';
}

/* One escape after a backslash: a hex pair is one byte, any other character is itself. */
static bool unescape(const char **p, uint8_t *out)
{
	const char *s = *p;
	int hi, lo;

	if (!*s)
		return false;
	hi = ctl_hex_digit(s[0]);
	lo = hi >= 0 ? ctl_hex_digit(s[1]) : -1;
	if (hi >= 0 && lo >= 0) {
		*out = (uint8_t)(hi << 4 | lo);
		*p = s + 2;
	} else {
		*out = (uint8_t)s[0];
		*p = s + 1;
	}
	return true;
}

static bool valid_utf8(const uint8_t *p, size_t n)
{
	while (n > 0) {
		unsigned long c;
		int k = UTF8_getc(p, (int)(n > 8 ? 8 : n), &c);

		if (k <= 0 || (size_t)k > n)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* A text string type (one X509_NAME_cmp converts to UTF-8) must convert: a broken one in
 * #HEX form is unparseable rather than a name that compares with nothing. */
static bool text_ok(const ASN1_STRING *s)
{
	unsigned char *u = NULL;
	int n;

	switch (ASN1_STRING_type(s)) {
	case V_ASN1_UTF8STRING: case V_ASN1_BMPSTRING: case V_ASN1_UNIVERSALSTRING:
	case V_ASN1_PRINTABLESTRING: case V_ASN1_T61STRING: case V_ASN1_IA5STRING:
	case V_ASN1_VISIBLESTRING: case V_ASN1_NUMERICSTRING:
		n = ASN1_STRING_to_UTF8(&u, s);
		OPENSSL_free(u);
		ERR_clear_error();
		return n >= 0;
	default:
		return true;
	}
}

/* A value that is just "#" is text: OpenSSL's printer leaves a one-character "#"
 * unescaped. */
static bool lone_hash(const char *p)
{
	for (p++; is_space(*p); p++)
		;
	return !*p || is_sep(*p);
}

/* A quoted value at *pp (on the opening quote) into buf (*n bytes); *pp past the closing
 * quote. false if unparseable. */
static bool quoted_value(const char **pp, uint8_t *buf, size_t *n)
{
	const char *p = *pp;

	for (p++; *p && *p != '"'; (*n)++) {
		if (*p == '\\') {
			p++;
			if (!unescape(&p, &buf[*n]))
				return false;
		} else {
			buf[*n] = (uint8_t)*p++;
		}
	}
	if (*p != '"')
		return false;
	*pp = p + 1;
	return true;
}

/* A #hex value at p: a DER string of a text type, added as it is; *pp set past it once
 * the hex digits and separator are read. As parse_value. */
static int hex_value(const char *p, const char **pp, ASN1_OBJECT *obj, X509_NAME *name, int set,
		     uint8_t *buf)
{
	const uint8_t *d = buf;
	size_t n = 0;
	ASN1_TYPE *t;
	int type, rc = -1;

	for (p++; ctl_hex_digit(p[0]) >= 0 && ctl_hex_digit(p[1]) >= 0; p += 2)
		buf[n++] = (uint8_t)(ctl_hex_digit(p[0]) << 4 | ctl_hex_digit(p[1]));
	while (is_space(*p))
		p++;
	if (!n || (*p && !is_sep(*p)))
		return -1;
	t = d2i_ASN1_TYPE(NULL, &d, (long)n);
	type = t ? t->type : V_ASN1_UNDEF;
	if (t && d == buf + n && type != V_ASN1_BOOLEAN && type != V_ASN1_NULL &&
	    type != V_ASN1_OBJECT && text_ok(t->value.asn1_string)) {
		const ASN1_STRING *s = t->value.asn1_string;
		rc = X509_NAME_add_entry_by_OBJ(name, obj, type, s->data, s->length, -1, set)
			     ? 0
			     : -2;
	}
	ASN1_TYPE_free(t);
	ERR_clear_error();
	*pp = p;
	return rc;
}

/* A plain value at *pp into buf (*n bytes, *keep without trailing spaces); *pp on the
 * separator or NUL. false if unparseable. */
static bool plain_value(const char **pp, uint8_t *buf, size_t *n, size_t *keep)
{
	const char *p = *pp;

	while (*p && !is_sep(*p)) {
		if (*p == '"')
			return false; /* a quote inside a plain value must be escaped */
		if (*p == '\\') {
			p++;
			if (!unescape(&p, &buf[*n]))
				return false;
			*keep = ++*n; /* an escaped space is part of the value */
		} else {
			buf[(*n)++] = (uint8_t)*p;
			if (!is_space(*p))
				*keep = *n;
			p++;
		}
	}
	*pp = p;
	return true;
}

/* Adds the value at *p (quoted, #hex or plain) for attribute obj; *p ends on the separator
 * or the terminating NUL. 0 on success, -1 if unparseable, -2 out of memory. */
static int parse_value(const char **pp, ASN1_OBJECT *obj, X509_NAME *name, int set, uint8_t *buf)
{
	const char *p = *pp;
	size_t n = 0, keep = 0; /* keep: length up to the last byte that is not trailing space */

	while (is_space(*p))
		p++;
	if (*p == '"') {
		if (!quoted_value(&p, buf, &n))
			return -1;
		keep = n;
	} else if (*p == '#' && !lone_hash(p)) {
		return hex_value(p, pp, obj, name, set, buf);
	} else if (!plain_value(&p, buf, &n, &keep)) {
		return -1;
	}
	while (is_space(*p))
		p++;
	if (*p && !is_sep(*p))
		return -1;
	if (!valid_utf8(buf, keep))
		return -1;
	*pp = p;
	if (!X509_NAME_add_entry_by_OBJ(name, obj, V_ASN1_UTF8STRING, buf, (int)keep, -1, set)) {
		ERR_clear_error();
		return -2;
	}
	return 0;
}

int ctl_name_parse(const char *s, X509_NAME **out)
{
	X509_NAME *name = NULL;
	uint8_t *buf = NULL;
	char *key = NULL;
	const char *p = s;
	int set = 0, rc = CTL_E_MALFORMED;

	*out = NULL;
	if (!s)
		return CTL_E_MALFORMED;
	buf = malloc(strlen(s) + 1);
	key = malloc(strlen(s) + 1);
	name = X509_NAME_new();
	if (!buf || !key || !name) {
		rc = CTL_E_INTERNAL;
		goto out;
	}
	for (;;) {
		ASN1_OBJECT *obj;
		size_t k = 0;
		int v;

		while (is_space(*p))
			p++;
		while (is_key_char(*p))
			key[k++] = *p++;
		key[k] = 0;
		while (is_space(*p))
			p++;
		if (!k || k > 64 || *p != '=')
			goto out;
		p++;
		if (!(obj = key_object(key)))
			goto out;
		v = parse_value(&p, obj, name, set, buf);
		ASN1_OBJECT_free(obj);
		if (v) {
			rc = v == -2 ? CTL_E_INTERNAL : CTL_E_MALFORMED;
			goto out;
		}
		if (!*p)
			break;
		set = *p == '+' ? -1 : 0; /* '+': the next value joins this RDN */
		p++;
	}
	*out = name;
	name = NULL;
	rc = CTL_OK;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	free(key);
	free(buf);
	return rc;
}

/* --- printing names --- */

/* The key the writer prints for obj: its OpenSSL short name when that is an RFC 4514 key
 * our reader maps back to obj (not "ad_timestamping", not "uid", which RFC 4514 and the
 * reader take as userId although OpenSSL names x500UniqueIdentifier so); else the OID. */
static bool short_name_ok(const ASN1_OBJECT *obj)
{
	const char *sn = OBJ_nid2sn(OBJ_obj2nid(obj));
	ASN1_OBJECT *back;
	bool ok;

	if (!sn || !*sn || !((sn[0] >= 'a' && sn[0] <= 'z') || (sn[0] >= 'A' && sn[0] <= 'Z')))
		return false;
	for (const char *p = sn; *p; p++)
		if (!is_key_char(*p) || *p == '_' || *p == '/' || *p == '.')
			return false;
	back = key_object(sn);
	ok = back && OBJ_cmp(back, obj) == 0;
	ASN1_OBJECT_free(back);
	return ok;
}

char *ctl_name_string(const X509_NAME *name)
{
	const unsigned long base = XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV & ~XN_FLAG_FN_MASK;
	BIO *bio;
	char *s = NULL, *p;
	long n;
	bool ok = true;

	if (!name)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return NULL;
	/* RFC 2253 escaping and separators, in certificate (not reversed) order, one entry at
	 * a time so that each gets the key its reader understands. */
	for (int i = 0; ok && i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		X509_NAME *one = X509_NAME_new();

		if (i > 0)
			ok = BIO_puts(bio, X509_NAME_ENTRY_set(e) ==
						   X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i - 1))
					       ? "+"
					       : ",") == 1;
		ok = ok && one && X509_NAME_add_entry(one, e, -1, 0) &&
		     X509_NAME_print_ex(bio, one, 0,
					base | (short_name_ok(X509_NAME_ENTRY_get_object(e))
							? XN_FLAG_FN_SN
							: XN_FLAG_FN_OID)) >= 0;
		X509_NAME_free(one);
	}
	n = BIO_get_mem_data(bio, &p);
	if (ok && n >= 0 && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = 0;
	}
	ERR_clear_error();
	BIO_free(bio);
	return s;
}

/* --- identities --- */

/* A copy of in for comparison: NumericString values become UTF8String (X509_NAME_cmp
 * canonicalises the other text types but not this one, and our writer prints it as text);
 * with reverse, the RDNs in reverse order (the values of a multi-valued RDN stay together). */
static X509_NAME *name_copy(const X509_NAME *in, bool reverse)
{
	X509_NAME *out = X509_NAME_new();
	int n = X509_NAME_entry_count(in), prev_rdn = -1;

	if (!out)
		return NULL;
	for (int k = 0; k < n; k++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(in, reverse ? n - 1 - k : k);
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
		int rdn = X509_NAME_ENTRY_set(e);
		int type = ASN1_STRING_type(d), len = ASN1_STRING_length(d), ok;
		const unsigned char *bytes = ASN1_STRING_get0_data(d);
		unsigned char *utf8 = NULL;

		if (type == V_ASN1_NUMERICSTRING) {
			/* transcoded, not retyped: a byte above 0x7f is one character, as the
			 * printer shows it, and the UTF8String must be valid UTF-8 */
			if ((len = ASN1_STRING_to_UTF8(&utf8, d)) < 0) {
				X509_NAME_free(out);
				ERR_clear_error();
				return NULL;
			}
			type = V_ASN1_UTF8STRING;
			bytes = utf8;
		}
		ok = X509_NAME_add_entry_by_OBJ(out, X509_NAME_ENTRY_get_object(e), type, bytes,
						len, -1, k > 0 && rdn == prev_rdn ? -1 : 0);
		OPENSSL_free(utf8);
		if (!ok) {
			X509_NAME_free(out);
			ERR_clear_error();
			return NULL;
		}
		prev_rdn = rdn;
	}
	return out;
}

void ctl_cert_id_clear(struct ctl_cert_id *id)
{
	if (!id)
		return;
	X509_NAME_free(id->name);
	X509_NAME_free(id->rev);
	BN_free(id->serial);
	memset(id, 0, sizeof(*id));
}

int ctl_cert_id_from_cert(X509 *cert, struct ctl_cert_id *id)
{
	const X509_NAME *iss = cert ? X509_get_issuer_name(cert) : NULL;
	const ASN1_INTEGER *sn = cert ? X509_get0_serialNumber(cert) : NULL;

	memset(id, 0, sizeof(*id));
	if (!iss || !sn || X509_NAME_entry_count(iss) == 0)
		return CTL_E_MALFORMED; /* an empty issuer names nothing */
	id->name = name_copy(iss, false);
	id->serial = ASN1_INTEGER_to_BN(sn, NULL);
	ERR_clear_error();
	if (!id->name || !id->serial) {
		ctl_cert_id_clear(id);
		return CTL_E_INTERNAL;
	}
	BN_set_negative(id->serial, 0); /* files carry the magnitude (see ctl_record_from_cert) */
	return CTL_OK;
}

int ctl_cert_id_from_fields(const char *issuer, const struct ctl_buf *serial,
			    struct ctl_cert_id *id)
{
	X509_NAME *parsed = NULL;
	int rc;

	memset(id, 0, sizeof(*id));
	if (!issuer || !serial || !serial->len || serial->len > INT32_MAX)
		return CTL_E_MALFORMED; /* a missing serial is not serial 0 */
	if ((rc = ctl_name_parse(issuer, &parsed)) != CTL_OK)
		return rc;
	if (X509_NAME_entry_count(parsed) == 0) {
		X509_NAME_free(parsed);
		return CTL_E_MALFORMED;
	}
	id->name = name_copy(parsed, false);
	if (X509_NAME_entry_count(parsed) > 1)
		id->rev = name_copy(parsed, true);
	id->serial = BN_bin2bn(serial->data, (int)serial->len, NULL);
	X509_NAME_free(parsed);
	if (!id->name || (X509_NAME_entry_count(id->name) > 1 && !id->rev) || !id->serial) {
		ctl_cert_id_clear(id);
		return CTL_E_INTERNAL;
	}
	return CTL_OK;
}

static bool name_eq(const X509_NAME *a, const X509_NAME *b)
{
	int c = X509_NAME_cmp(a, b);

	ERR_clear_error();
	return c == 0;
}

bool ctl_cert_id_equal(const struct ctl_cert_id *a, const struct ctl_cert_id *b)
{
	if (!a || !b || !a->name || !b->name || !a->serial || !b->serial)
		return false;
	if (BN_cmp(a->serial, b->serial) != 0)
		return false;
	return name_eq(a->name, b->name) || (a->rev && name_eq(a->rev, b->name)) ||
	       (b->rev && name_eq(a->name, b->rev));
}

/* --- the rule, in the forms the tools need --- */

/* a (then cleared) names the certificate that issuer and serial name. */
static bool id_is_fields(struct ctl_cert_id *a, const char *issuer, const struct ctl_buf *serial)
{
	struct ctl_cert_id b;
	bool eq = false;

	if (ctl_cert_id_from_fields(issuer, serial, &b) == CTL_OK) {
		eq = ctl_cert_id_equal(a, &b);
		ctl_cert_id_clear(&b);
	}
	ctl_cert_id_clear(a);
	return eq;
}

bool ctl_cert_is(X509 *cert, const char *issuer, const struct ctl_buf *serial)
{
	struct ctl_cert_id a;

	return ctl_cert_id_from_cert(cert, &a) == CTL_OK && id_is_fields(&a, issuer, serial);
}

bool ctl_record_is(const struct ctl_record *r, const char *issuer, const struct ctl_buf *serial)
{
	struct ctl_cert_id a;

	return r && ctl_cert_id_from_fields(r->issuer, &r->serial, &a) == CTL_OK &&
	       id_is_fields(&a, issuer, serial);
}

bool ctl_records_same_cert(const struct ctl_record *a, const struct ctl_record *b)
{
	return a && b && ctl_record_is(a, b->issuer, &b->serial);
}

bool ctl_record_is_cert(const struct ctl_record *r, X509 *cert)
{
	uint8_t *der = NULL;
	int n;
	bool same;

	if (!r || !cert || !ctl_cert_is(cert, r->issuer, &r->serial))
		return false;
	if (!r->cert.len)
		return true;
	n = i2d_X509(cert, &der);
	same = n > 0 && (size_t)n == r->cert.len && !memcmp(der, r->cert.data, r->cert.len);
	OPENSSL_free(der);
	ERR_clear_error();
	return same;
}

int ctl_cert_ids_of_records(const struct ctl_record *recs, size_t n, struct ctl_cert_id **out)
{
	struct ctl_cert_id *ids = calloc(n + 1, sizeof(*ids));

	*out = NULL;
	if (!ids)
		return CTL_E_INTERNAL;
	for (size_t i = 0; i < n; i++)
		if (ctl_cert_id_from_fields(recs[i].issuer, &recs[i].serial, &ids[i]) ==
		    CTL_E_INTERNAL) {
			ctl_cert_ids_free(ids, i);
			return CTL_E_INTERNAL;
		}
	*out = ids;
	return CTL_OK;
}

void ctl_cert_ids_free(struct ctl_cert_id *ids, size_t n)
{
	if (!ids)
		return;
	for (size_t i = 0; i < n; i++)
		ctl_cert_id_clear(&ids[i]);
	free(ids);
}
