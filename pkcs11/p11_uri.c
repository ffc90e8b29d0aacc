/* p11_uri.c - RFC 7512 parser over a byte cursor (see p11_uri.h). */
#include "p11_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"

#define URI_MAX 4096

/* Characters allowed unencoded in a value: RFC 7512 pk11-pchar (path: unreserved,
 * pk11-res-avail and '&') and pk11-qchar (query: unreserved, pk11-res-avail, '/', '?',
 * '|'). ';' ends a path attribute, '?' the path, '&' a query attribute. */
static bool allowed(uint8_t c, bool query)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c && strchr("-._~:[]@!$'()*+,=", c))
		return true;
	return query ? (c == '/' || c == '?' || c == '|') : c == '&';
}

/* Reads a value up to (not including) one of the stop characters, percent-decoding. */
static int get_value(struct cbs *s, const char *stops, bool query, unsigned char **out,
		     size_t *out_len, const char *name, struct ctl_err *err)
{
	unsigned char *v = malloc(cbs_len(s) + 1);
	size_t n = 0;
	uint8_t c;

	if (!v)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	while (cbs_peek_u8(s, &c) && !strchr(stops, c)) {
		cbs_skip(s, 1);
		if (c == '%') {
			uint8_t h, l;
			if (!cbs_get_u8(s, &h) || !cbs_get_u8(s, &l) || ctl_hex_digit(h) < 0 ||
			    ctl_hex_digit(l) < 0) {
				free(v);
				return ctl_fail(err, CTL_E_USAGE,
						"PKCS#11 URI: bad percent-encoding in '%s'", name);
			}
			c = (uint8_t)(ctl_hex_digit(h) << 4 | ctl_hex_digit(l));
		} else if (!allowed(c, query)) {
			free(v);
			return ctl_fail(err, CTL_E_USAGE,
					"PKCS#11 URI: character '%c' in '%s' must be percent-encoded",
					c, name);
		}
		v[n++] = c;
	}
	v[n] = 0;
	*out = v;
	*out_len = n;
	return CTL_OK;
}

struct attr {
	const char *name;
	size_t off;   /* offset of the char * field, or (size_t)-1 for special */
};

#define F(x) offsetof(struct p11_uri, x)
static const struct attr path_attrs[] = {
	{"token", F(token)},
	{"manufacturer", F(manufacturer)},
	{"serial", F(serial)},
	{"model", F(model)},
	{"library-manufacturer", F(lib_manufacturer)},
	{"library-description", F(lib_description)},
	{"library-version", F(lib_version)},
	{"slot-description", F(slot_description)},
	{"slot-manufacturer", F(slot_manufacturer)},
	{"object", F(object)},
	{"type", F(type)},
	{"id", (size_t)-1},
	{"slot-id", (size_t)-2},
	{NULL, 0},
};
static const struct attr query_attrs[] = {
	{"pin-source", F(pin_source)},
	{"module-name", F(module_name)},
	{"module-path", F(module_path)},
	{"pin-value", (size_t)-3},
	{NULL, 0},
};
#undef F

static int set_attr(struct p11_uri *u, const struct attr *a, unsigned char *v, size_t len,
		    struct ctl_err *err)
{
	if (a->off == (size_t)-1) {
		if (u->has_id)
			goto dup;
		u->has_id = true;
		u->id = v;
		u->id_len = len;
		return CTL_OK;
	}
	if (a->off == (size_t)-3) {
		OPENSSL_cleanse(v, len);
		free(v);
		return ctl_fail(err, CTL_E_USAGE,
				"PKCS#11 URI: pin-value is not accepted (a PIN must not be on a command "
				"line); use pin-source=file:PATH, or --pin env:VAR|file:PATH|fd:N");
	}
	if (memchr(v, 0, len)) {
		free(v);
		return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: '%s' contains a NUL byte", a->name);
	}
	if (a->off == (size_t)-2) {
		char *end;
		if (u->has_slot_id)
			goto dup;
		if (!len || v[0] < '0' || v[0] > '9' ||
		    (u->slot_id = strtoul((char *)v, &end, 10), *end)) {
			free(v);
			return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: slot-id must be a number");
		}
		u->has_slot_id = true;
		free(v);
		return CTL_OK;
	}
	char **field = (char **)((char *)u + a->off);
	if (*field)
		goto dup;
	if (!strcmp(a->name, "type") && strcmp((char *)v, "public") && strcmp((char *)v, "private") &&
	    strcmp((char *)v, "cert") && strcmp((char *)v, "secret-key") && strcmp((char *)v, "data")) {
		free(v);
		return ctl_fail(err, CTL_E_USAGE,
				"PKCS#11 URI: type must be public, private, cert, secret-key or data");
	}
	*field = (char *)v;
	return CTL_OK;
dup:
	free(v);
	return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: attribute '%s' given twice", a->name);
}

/* One "name=value" until a stop character. */
static int get_attr(struct cbs *s, struct p11_uri *u, const struct attr *table, bool query,
		    const char *stops, struct ctl_err *err)
{
	char name[40];
	size_t n = 0;
	uint8_t c;
	unsigned char *v = NULL;
	size_t vlen = 0;
	int rc;

	while (cbs_peek_u8(s, &c) && c != '=' && !strchr(stops, c)) {
		cbs_skip(s, 1);
		if (n + 1 >= sizeof(name) || !((c >= 'a' && c <= 'z') || c == '-' ||
					       (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
			return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: bad attribute name");
		name[n++] = (char)c;
	}
	name[n] = 0;
	if (!cbs_get_u8(s, &c) || c != '=' || n == 0)
		return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: expected name=value, got '%s'",
				n ? name : "(empty)");
	if ((rc = get_value(s, stops, query, &v, &vlen, name, err)) != CTL_OK)
		return rc;
	for (const struct attr *a = table; a->name; a++)
		if (!strcmp(a->name, name))
			return set_attr(u, a, v, vlen, err);
	free(v);
	if (!strncmp(name, "x-", 2))
		return CTL_OK; /* vendor-specific: ignored */
	return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: unknown %s attribute '%s'",
			query ? "query" : "path", name);
}

int p11_uri_parse(const char *str, struct p11_uri *u, struct ctl_err *err)
{
	struct cbs s, scheme;
	size_t len = strlen(str);
	uint8_t c;
	int rc;

	memset(u, 0, sizeof(*u));
	if (len > URI_MAX)
		return ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI longer than %d bytes", URI_MAX);
	cbs_init(&s, (const uint8_t *)str, len);
	if (!cbs_get_bytes(&s, &scheme, 7) || !cbs_mem_equal(&scheme, (const uint8_t *)"pkcs11:", 7))
		return ctl_fail(err, CTL_E_USAGE,
				"'%s' is not a PKCS#11 URI (expected pkcs11:token=LABEL;object=...)",
				str);
	/* path: attributes separated by ';', ended by '?' */
	while (cbs_peek_u8(&s, &c) && c != '?') {
		if ((rc = get_attr(&s, u, path_attrs, false, ";?", err)) != CTL_OK)
			goto fail;
		if (cbs_peek_u8(&s, &c) && c == ';') {
			cbs_skip(&s, 1);
			if (!cbs_peek_u8(&s, &c) || c == '?' || c == ';') {
				rc = ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: empty attribute after ';'");
				goto fail;
			}
		}
	}
	if (cbs_get_u8(&s, &c)) { /* '?' */
		if (!cbs_len(&s)) {
			rc = ctl_fail(err, CTL_E_USAGE, "PKCS#11 URI: empty query after '?'");
			goto fail;
		}
		while (cbs_len(&s)) {
			if ((rc = get_attr(&s, u, query_attrs, true, "&", err)) != CTL_OK)
				goto fail;
			if (cbs_peek_u8(&s, &c) && c == '&') {
				cbs_skip(&s, 1);
				if (!cbs_len(&s)) {
					rc = ctl_fail(err, CTL_E_USAGE,
						      "PKCS#11 URI: empty attribute after '&'");
					goto fail;
				}
			}
		}
	}
	return CTL_OK;
fail:
	p11_uri_clear(u);
	return rc;
}

void p11_uri_clear(struct p11_uri *u)
{
	char **fields[] = {&u->token, &u->manufacturer, &u->serial, &u->model,
			   &u->lib_manufacturer, &u->lib_description, &u->lib_version,
			   &u->slot_description, &u->slot_manufacturer, &u->object, &u->type,
			   &u->pin_source, &u->module_name, &u->module_path};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
	free(u->id);
	memset(u, 0, sizeof(*u));
}

static void dump_val(FILE *f, const unsigned char *v, size_t len, bool all_hex)
{
	for (size_t i = 0; i < len; i++) {
		if (!all_hex && ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
				 (v[i] >= '0' && v[i] <= '9') || strchr("-._~", v[i])) && v[i])
			fputc(v[i], f);
		else
			fprintf(f, "%%%02X", v[i]);
	}
}

char *p11_uri_dump(const struct p11_uri *u)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *sep = "";

	if (!f)
		return NULL;
	fputs("pkcs11:", f);
	for (const struct attr *a = path_attrs; a->name; a++) {
		if (a->off == (size_t)-1) {
			if (!u->has_id)
				continue;
			fprintf(f, "%sid=", sep);
			dump_val(f, u->id, u->id_len, true);
		} else if (a->off == (size_t)-2) {
			if (!u->has_slot_id)
				continue;
			fprintf(f, "%sslot-id=%lu", sep, u->slot_id);
		} else {
			const char *v = *(char *const *)((const char *)u + a->off);
			if (!v)
				continue;
			fprintf(f, "%s%s=", sep, a->name);
			dump_val(f, (const unsigned char *)v, strlen(v), false);
		}
		sep = ";";
	}
	sep = "?";
	for (const struct attr *a = query_attrs; a->name; a++) {
		if (a->off >= (size_t)-3)
			continue;
		const char *v = *(char *const *)((const char *)u + a->off);
		if (!v)
			continue;
		fprintf(f, "%s%s=", sep, a->name);
		dump_val(f, (const unsigned char *)v, strlen(v), false);
		sep = "&";
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void p11_uri_for_print(const char *uri, char *buf, size_t n)
{
	snprintf(buf, n, "%.*s", (int)strcspn(uri, "?"), uri);
}
