/* ctlmake.c - see ctlmake.h */
#include "ctlmake.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

void ctlmake_list_free(struct ctlmake_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ctl_record_clear(&l->recs[i]);
	free(l->recs);
	l->recs = NULL;
	l->n = 0;
}

static struct ctl_record *grow(struct ctlmake_list *l, struct ctl_err *err)
{
	struct ctl_record *r = realloc(l->recs, (l->n + 1) * sizeof(*r));

	if (!r) {
		ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		return NULL;
	}
	l->recs = r;
	memset(&r[l->n], 0, sizeof(*r));
	r[l->n].role = -1;
	return &r[l->n];
}

static int dup_str(char **dst, const char *src)
{
	if (!src)
		return 1;
	return (*dst = strdup(src)) != NULL;
}

static int dup_buf(struct ctl_buf *dst, const struct ctl_buf *src)
{
	if (!src->len)
		return 1;
	return ctl_buf_set(dst, src->data, src->len);
}

int ctlmake_append_copy(struct ctlmake_list *l, const struct ctl_record *r, struct ctl_err *err)
{
	struct ctl_record *d = grow(l, err);

	if (!d)
		return err->code;
	d->role = r->role;
	d->has_ip = r->has_ip;
	memcpy(d->ip, r->ip, 4);
	d->cert_hash_alg = r->cert_hash_alg;
	if (!dup_str(&d->dns_name, r->dns_name) || !dup_str(&d->subject, r->subject) ||
	    !dup_str(&d->issuer, r->issuer) || !dup_buf(&d->serial, &r->serial) ||
	    !dup_buf(&d->pubkey, &r->pubkey) || !dup_buf(&d->cert_sig, &r->cert_sig) ||
	    !dup_buf(&d->cert, &r->cert) || !dup_buf(&d->cert_hash, &r->cert_hash)) {
		ctl_record_clear(d);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	l->n++;
	return CTL_OK;
}

int ctlmake_append_sast(struct ctlmake_list *l, X509 *cert, struct ctl_err *err)
{
	struct ctl_record *d = grow(l, err);
	int rc;

	if (!d)
		return err->code;
	rc = ctl_record_from_cert(cert, CTL_ROLE_SAST, NULL, NULL, true, d, err);
	if (rc != CTL_OK) {
		ctl_record_clear(d);
		return rc;
	}
	l->n++;
	return CTL_OK;
}

bool ctlmake_role_itl_only(int role)
{
	return role == CTL_ROLE_TVS || role == CTL_ROLE_APP_SERVER;
}

static int append_server(struct ctlmake_list *l, const struct cluster_server *s, bool with_cert,
			 struct ctl_err *err)
{
	struct ctl_record *d = grow(l, err);
	int rc;

	if (!d)
		return err->code;
	rc = ctl_record_from_cert(s->cert, s->role, s->host, s->has_ip ? s->ip : NULL, with_cert,
				  d, err);
	if (rc != CTL_OK) {
		ctl_record_clear(d);
		return ctl_fail_prefix(err, "[%s %s]", cluster_kind_name(s->kind), s->name);
	}
	if (!with_cert) {
		/* Non-secure: the record names the server but carries no key material. */
		ctl_buf_clear(&d->pubkey);
		ctl_buf_clear(&d->cert_sig);
		ctl_buf_clear(&d->cert);
	}
	l->n++;
	return CTL_OK;
}

int ctlmake_append_servers(struct ctlmake_list *l, const struct cluster *c, int mode,
			   struct ctl_err *err)
{
	for (size_t i = 0; i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];
		int rc;

		if (ctlmake_role_itl_only(s->role))
			continue; /* TVS and application servers belong to the ITL */
		if ((rc = append_server(l, s, mode == CLUSTER_MIXED, err)) != CTL_OK)
			return rc;
	}
	return CTL_OK;
}

const struct cluster_server *ctlmake_itl_signer_server(const struct cluster *c, X509 *cert)
{
	for (size_t i = 0; cert && i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];
		struct ctl_record r;
		struct ctl_err ignored = {0};
		bool is;

		if (s->kind != CLUSTER_SERVER || !ctl_role_is_tftp(s->role))
			continue;
		memset(&r, 0, sizeof(r));
		if (ctl_record_from_cert(s->cert, s->role, s->host, NULL, true, &r, &ignored) != CTL_OK) {
			ctl_record_clear(&r);
			continue;
		}
		is = ctl_record_is_cert(&r, cert);
		ctl_record_clear(&r);
		if (is)
			return s;
	}
	return NULL;
}

int ctlmake_itl_records(struct ctlmake_list *l, const struct cluster *c, X509 *signer,
			struct ctl_err *err)
{
	int rc;

	if (!ctlmake_itl_signer_server(c, signer))
		return ctl_fail(err, CTL_E_POLICY,
				"%s: the signing certificate is not that of a TFTP or CCM+TFTP [server] of the cluster",
				c->path);
	/* The signer's own certificate as a SAST record: readers (phones, the independent
	 * implementation) look for an ITL's signer among its SAST records. */
	if ((rc = ctlmake_append_sast(l, signer, err)) != CTL_OK)
		return rc;
	for (size_t i = 0; i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];

		/* Alternate TFTP servers (another cluster's) and firewalls are CTL entries. */
		if (s->kind != CLUSTER_SERVER)
			continue;
		/* With certificates in either mode: phones without a CTL check their signed
		 * configuration files against the ITL's TFTP records. */
		if ((rc = append_server(l, s, true, err)) != CTL_OK)
			return rc;
	}
	return CTL_OK;
}

long ctlmake_find_sast(const struct ctl_record *recs, size_t n, X509 *cert)
{
	for (size_t i = 0; i < n; i++)
		if (recs[i].role == CTL_ROLE_SAST && ctl_record_is_cert(&recs[i], cert))
			return (long)i;
	return -1;
}

size_t ctlmake_count_role(const struct ctl_record *recs, size_t n, int role)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += recs[i].role == role;
	return k;
}

int ctlmake_mode_of(const struct ctl_record *recs, size_t n)
{
	size_t servers = 0, with_cert = 0;

	for (size_t i = 0; i < n; i++) {
		if (recs[i].role == CTL_ROLE_SAST)
			continue;
		servers++;
		with_cert += recs[i].cert.len > 0;
	}
	return servers && !with_cert ? CLUSTER_NONSECURE : CLUSTER_MIXED;
}

/* Selector without ':' and lowercased, if it looks like hex; else NULL. */
static char *hex_form(const char *sel)
{
	size_t n = strlen(sel), k = 0;
	char *h = malloc(n + 1);

	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (sel[i] == ':')
			continue;
		if (!isxdigit((unsigned char)sel[i])) {
			free(h);
			return NULL;
		}
		h[k++] = (char)tolower((unsigned char)sel[i]);
	}
	h[k] = 0;
	if (!k) {
		free(h);
		return NULL;
	}
	return h;
}

static bool hex_equal_digest(const char *hex, const struct ctl_buf *der, const EVP_MD *md)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	char *s;
	bool eq;

	if (!der->len || !EVP_Digest(der->data, der->len, d, &dl, md, NULL))
		return false;
	if (!(s = ctl_hex(d, dl)))
		return false;
	eq = !strcmp(s, hex);
	free(s);
	return eq;
}

static bool cn_equal(const char *subject, const char *sel)
{
	const char *p = subject;

	/* "CN=" at the start or after a ',' */
	while (p && *p) {
		if (!strncasecmp(p, "CN=", 3)) {
			size_t n = strcspn(p + 3, ",");
			if (strlen(sel) == n && !strncasecmp(p + 3, sel, n))
				return true;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

size_t ctlmake_select(const struct ctl_record *recs, size_t n, const char *selector,
		      size_t *idx, size_t max)
{
	char *hex = hex_form(selector);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ctl_record *r = &recs[i];
		bool m = false;

		if (hex) {
			char *sn = ctl_hex(r->serial.data, r->serial.len);
			const char *a = sn, *b = hex;

			/* leading zeros do not matter for a serial number */
			while (a && *a == '0' && a[1])
				a++;
			while (*b == '0' && b[1])
				b++;
			m = (sn && !strcmp(a, b)) || hex_equal_digest(hex, &r->cert, EVP_sha1()) ||
			    hex_equal_digest(hex, &r->cert, EVP_sha256());
			free(sn);
		}
		if (!m && r->subject)
			m = !strcasecmp(r->subject, selector) || cn_equal(r->subject, selector);
		if (m) {
			if (k < max)
				idx[k] = i;
			k++;
		}
	}
	free(hex);
	return k;
}
