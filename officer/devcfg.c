/* devcfg.c - see devcfg.h */
#include "devcfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "bytes.h"

bool devcfg_mac_from_name(const char *name, char mac[13])
{
	if (strncmp(name, "SEP", 3) != 0 || strlen(name) != 3 + 12 + 8 ||
	    strcmp(name + 15, ".cnf.xml") != 0)
		return false;
	for (int i = 0; i < 12; i++) {
		unsigned char c = (unsigned char)name[3 + i];
		if (!isxdigit(c))
			return false;
		mac[i] = (char)toupper(c);
	}
	mac[12] = 0;
	return true;
}

/* ---- a small XML scanner: enough to find the root and its direct children ---- */

static bool starts_with(const struct cbs *s, const char *pat)
{
	struct cbs t = *s, p;
	size_t n = strlen(pat);

	return cbs_get_bytes(&t, &p, n) && cbs_mem_equal(&p, (const uint8_t *)pat, n);
}

/* Moves s just past the next occurrence of pat; 0 if there is none. */
static int skip_past(struct cbs *s, const char *pat)
{
	while (cbs_len(s)) {
		if (starts_with(s, pat))
			return cbs_skip(s, strlen(pat));
		cbs_skip(s, 1);
	}
	return 0;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads an element name into name (truncated to size-1; too long names never match). */
static void get_name(struct cbs *s, char *name, size_t size)
{
	size_t n = 0;
	uint8_t c;

	while (cbs_peek_u8(s, &c) && !is_space(c) && c != '/' && c != '>') {
		if (n + 1 < size)
			name[n++] = (char)c;
		cbs_skip(s, 1);
	}
	name[n] = 0;
}

/* Skips the rest of a start tag (attributes, quoted values) through '>'. Sets *empty for
 * "/>". 0 if the tag does not end. */
static int end_of_tag(struct cbs *s, bool *empty)
{
	uint8_t c, q = 0, prev = 0;

	while (cbs_get_u8(s, &c)) {
		if (q) {
			if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == '>') {
			*empty = prev == '/';
			return 1;
		}
		prev = c;
	}
	return 0;
}

struct xml_child {
	const char *name;
	size_t start, end; /* offsets of "<name" .. after the end tag; end == 0: not found */
};

/* Where xml_scan is: nesting depth, the wanted child open at depth 1, whether the root
 * has closed. */
struct xml_scan {
	struct cbs s;
	int depth;
	struct xml_child *open;
	bool closed;
	char *root;
	size_t root_size;
	struct xml_child *want;
	size_t nwant;
};

/* A closing tag (the cursor at "</"). 0 if malformed or closing nothing. */
static int scan_close_tag(struct xml_scan *x)
{
	char name[64];

	cbs_skip(&x->s, 2);
	get_name(&x->s, name, sizeof(name));
	if (!skip_past(&x->s, ">") || x->depth == 0)
		return 0;
	x->depth--;
	if (x->depth == 1 && x->open) {
		x->open->end = cbs_offset(&x->s);
		x->open = NULL;
	}
	if (x->depth == 0)
		x->closed = true;
	return 1;
}

/* An opening (or empty-element) tag starting at offset at (the cursor at "<"): the root's
 * name, or a wanted direct child of the root. 0 if malformed or a second root. */
static int scan_open_tag(struct xml_scan *x, size_t at)
{
	char name[64];
	bool empty = false;

	cbs_skip(&x->s, 1);
	get_name(&x->s, name, sizeof(name));
	if (!name[0] || !end_of_tag(&x->s, &empty))
		return 0;
	if (x->depth == 0) {
		if (x->root[0])
			return 0; /* a second root */
		snprintf(x->root, x->root_size, "%s", name);
	} else if (x->depth == 1) {
		for (size_t i = 0; i < x->nwant; i++) {
			if (x->want[i].end || strcmp(x->want[i].name, name) != 0)
				continue;
			x->want[i].start = at;
			if (empty)
				x->want[i].end = cbs_offset(&x->s);
			else
				x->open = &x->want[i];
			break;
		}
	}
	if (!empty)
		x->depth++;
	else if (x->depth == 0)
		x->closed = true;
	return 1;
}

/* Something starting with "<" other than an element's tag: a declaration, comment, CDATA
 * or doctype, skipped. -1 if it is a tag, 0 if malformed. */
static int scan_skip_markup(struct xml_scan *x)
{
	if (starts_with(&x->s, "<?"))
		return skip_past(&x->s, "?>") ? 1 : 0;
	if (starts_with(&x->s, "<!--"))
		return skip_past(&x->s, "-->") ? 1 : 0;
	if (starts_with(&x->s, "<![CDATA["))
		return x->depth == 0 || !skip_past(&x->s, "]]>") ? 0 : 1;
	if (starts_with(&x->s, "<!"))
		return skip_past(&x->s, ">") ? 1 : 0;
	return -1;
}

/* Scans xml: the root element name into root (empty if none) and the first direct child
 * of the root for each wanted name. 0 on a structural problem. */
static int xml_scan(const uint8_t *xml, size_t len, char *root, size_t root_size,
		    struct xml_child *want, size_t nwant)
{
	struct xml_scan x = {.root = root, .root_size = root_size, .want = want, .nwant = nwant};
	uint8_t c;

	cbs_init(&x.s, xml, len);
	root[0] = 0;
	if (starts_with(&x.s, "\xEF\xBB\xBF"))
		cbs_skip(&x.s, 3);
	while (cbs_len(&x.s)) {
		size_t at = cbs_offset(&x.s);
		int k;

		if (!cbs_peek_u8(&x.s, &c))
			return 0;
		if (c != '<') {
			if (x.depth == 0 && !is_space(c))
				return 0; /* text outside the root: not XML */
			cbs_skip(&x.s, 1);
			continue;
		}
		if ((k = scan_skip_markup(&x)) >= 0) {
			if (!k)
				return 0;
		} else if (starts_with(&x.s, "</")) {
			if (!scan_close_tag(&x))
				return 0;
		} else if (!scan_open_tag(&x, at)) {
			return 0;
		}
	}
	return x.closed; /* else the root never closed */
}

int devcfg_check_device(const uint8_t *xml, size_t len, struct ctl_err *err)
{
	char root[64];

	if (!xml_scan(xml, len, root, sizeof(root), NULL, 0))
		return ctl_fail(err, CTL_E_MALFORMED,
				"not a well-formed XML device configuration; encryption needs a <device> configuration");
	if (strcmp(root, "device") != 0)
		return ctl_fail(err, CTL_E_MALFORMED,
				"the root element is <%.40s>, not <device>: only device configurations can be encrypted",
				root);
	return CTL_OK;
}

static void add_cstr(struct cbb *b, const char *s)
{
	cbb_add_bytes(b, s, strlen(s));
}

static const char *const boot_elements[] = {
	"ipAddressMode", "loadInformation", "capfAuthMode", "capfList",
};
#define NBOOT (sizeof(boot_elements) / sizeof(boot_elements[0]))

int devcfg_minimal(const uint8_t *xml, size_t len, X509 *device_cert, struct ctl_buf *out,
		   struct ctl_err *err)
{
	struct xml_child want[NBOOT];
	char root[64], hex[33];
	uint8_t md[EVP_MAX_MD_SIZE], *der = NULL, *p;
	unsigned mdlen = 0;
	int derlen, rc;
	struct cbb b;
	size_t olen;

	if ((rc = devcfg_check_device(xml, len, err)) != CTL_OK)
		return rc;
	memset(want, 0, sizeof(want));
	for (size_t i = 0; i < NBOOT; i++)
		want[i].name = boot_elements[i];
	if (!xml_scan(xml, len, root, sizeof(root), want, NBOOT))
		return ctl_fail(err, CTL_E_MALFORMED, "not a well-formed XML device configuration");

	derlen = i2d_X509(device_cert, &der);
	if (derlen <= 0 || !EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_md5(), NULL) ||
	    mdlen != 16) {
		OPENSSL_free(der);
		return ctl_fail(err, CTL_E_INTERNAL, "cannot hash the device certificate (MD5)");
	}
	OPENSSL_free(der);
	ctl_hex_to(md, 16, hex);

	cbb_init(&b);
	add_cstr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<device>\n");
	add_cstr(&b, "  <fullConfig>false</fullConfig>\n");
	for (size_t i = 0; i < NBOOT; i++) {
		struct cbs s, el;
		if (!want[i].end)
			continue;
		cbs_init(&s, xml, len);
		if (!cbs_skip(&s, want[i].start) ||
		    !cbs_get_bytes(&s, &el, want[i].end - want[i].start)) {
			cbb_cleanup(&b);
			return ctl_fail(err, CTL_E_INTERNAL, "device configuration scan out of range");
		}
		add_cstr(&b, "  ");
		cbb_add_bytes(&b, cbs_data(&el), cbs_len(&el));
		cbb_add_u8(&b, '\n');
	}
	add_cstr(&b, "  <certHash>");
	add_cstr(&b, hex);
	add_cstr(&b, "</certHash>\n  <encrConfig>true</encrConfig>\n</device>\n");
	if (!cbb_finish(&b, &p, &olen))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	ctl_buf_clear(out);
	out->data = p;
	out->len = olen;
	return CTL_OK;
}

int devcfg_check_cert(X509 *cert, const char *what, struct ctl_err *err)
{
	EVP_PKEY *k = X509_get0_pubkey(cert);

	if (!k)
		return ctl_fail(err, CTL_E_MALFORMED, "%s: cannot read the public key", what);
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"%s has an EC key: encrypted configs need the phone's RSA certificate (the AES key is wrapped with RSA PKCS#1 v1.5)",
				what);
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"%s does not have an RSA key: encrypted configs need the phone's RSA certificate",
				what);
	return CTL_OK;
}

X509 *devcfg_find_cert(const char *dir, const char *mac, bool *missing, struct ctl_err *err)
{
	static const char *const pre[] = {"SEP", ""};
	static const char *const ext[] = {".pem", ".crt", ".der"};
	char lower[13];
	const char *macs[2] = {mac, lower};
	char path[4096];
	struct stat sb;

	if (missing)
		*missing = false;
	for (int i = 0; i < 12 && mac[i]; i++)
		lower[i] = (char)tolower((unsigned char)mac[i]);
	lower[12] = 0;
	for (int m = 0; m < 2; m++)
		for (int p = 0; p < 2; p++)
			for (int e = 0; e < 3; e++) {
				int n = snprintf(path, sizeof(path), "%s/%s%s%s", dir, pre[p], macs[m], ext[e]);
				if (n < 0 || (size_t)n >= sizeof(path))
					return ctl_fail(err, CTL_E_USAGE, "device certificate directory path too long"), NULL;
				if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode))
					return ctl_cert_load(path, err);
			}
	if (missing)
		*missing = true;
	ctl_fail(err, CTL_E_IO,
		 "no certificate for phone %s in %s (expected SEP%s.pem, .crt or .der)", mac, dir, mac);
	return NULL;
}

/* "SEP" and exactly 12 hex digits in s (case-insensitive), upper case into mac. */
static bool mac_in(const unsigned char *s, size_t n, char mac[13])
{
	for (size_t i = 0; i + 15 <= n; i++) {
		size_t k;

		if (toupper(s[i]) != 'S' || toupper(s[i + 1]) != 'E' || toupper(s[i + 2]) != 'P')
			continue;
		for (k = 0; k < 12 && isxdigit(s[i + 3 + k]); k++)
			mac[k] = (char)toupper(s[i + 3 + k]);
		if (k == 12 && (i + 15 == n || !isxdigit(s[i + 15]))) {
			mac[12] = 0;
			return true;
		}
	}
	return false;
}

bool devcfg_cert_mac(X509 *cert, char mac[13])
{
	X509_NAME *subj = X509_get_subject_name(cert);
	int i = -1;

	while (subj && (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0) {
		ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		unsigned char *u = NULL;
		int n = v ? ASN1_STRING_to_UTF8(&u, v) : -1;
		bool found = n > 0 && mac_in(u, (size_t)n, mac);

		OPENSSL_free(u);
		if (found)
			return true;
	}
	return false;
}

int devcfg_check_cert_mac(X509 *cert, const char *mac, struct ctl_err *err)
{
	char named[13];

	if (!devcfg_cert_mac(cert, named) || strcmp(named, mac) == 0)
		return CTL_OK;
	return ctl_fail(err, CTL_E_POLICY,
			"the device certificate's subject names phone SEP%s, not SEP%s (this file's phone): refused, the config stays in the clear; give SEP%s's own certificate",
			named, mac, mac);
}

int devcfg_cert_validity(X509 *cert, time_t now)
{
	time_t t = now ? now : time(NULL);

	if (X509_cmp_time(X509_get0_notAfter(cert), &t) < 0)
		return 1;
	if (X509_cmp_time(X509_get0_notBefore(cert), &t) > 0)
		return -1;
	return 0;
}
