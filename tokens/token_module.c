/* token_module.c - loading the module, reading slots, picking a token by URI. */
#include "token_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int token_module_open(const char *path, struct token_module **out, struct ctl_err *err)
{
	struct token_module *m;
	int rc;

	*out = NULL;
	if (!path || !*path)
		path = getenv(TOKEN_MODULE_ENV);
	if (!path || !*path)
		path = P11_PROXY_MODULE;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	m->pcsc = -1;
	if ((rc = p11_module_load(path, &m->p, err)) != CTL_OK) {
		free(m);
		return rc;
	}
	*out = m;
	return CTL_OK;
}

void token_module_close(struct token_module *m)
{
	if (!m)
		return;
	p11_module_free(m->p);
	free(m);
}

void token_info_clear(struct token_info *ti)
{
	if (!ti)
		return;
	X509_free(ti->cert);
	memset(ti, 0, sizeof(*ti));
}

void token_infos_free(struct token_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		token_info_clear(&v[i]);
	free(v);
}

int token_read_info(struct token_module *m, CK_SLOT_ID slot, struct token_info *ti,
		    struct ctl_err *err)
{
	CK_TOKEN_INFO ck;
	int rc;

	memset(ti, 0, sizeof(*ti));
	if ((rc = p11_token_info(m->p, slot, &ck, err)) != CTL_OK)
		return rc;
	ti->slot_id = slot;
	p11_trim(ti->label, ck.label, sizeof(ck.label));
	p11_trim(ti->manufacturer, ck.manufacturerID, sizeof(ck.manufacturerID));
	p11_trim(ti->model, ck.model, sizeof(ck.model));
	p11_trim(ti->serial, ck.serialNumber, sizeof(ck.serialNumber));
	ti->flags = ck.flags;
	ti->min_pin_len = ck.ulMinPinLen;
	ti->max_pin_len = ck.ulMaxPinLen == CK_UNAVAILABLE_INFORMATION ? 0 : ck.ulMaxPinLen;
	if (ck.flags & CKF_TOKEN_INITIALIZED)
		ti->cert = p11_first_cert(m->p, slot);
	if (ti->cert) {
		unsigned char md[20];
		unsigned int mdlen = 0;
		if (X509_digest(ti->cert, EVP_sha1(), md, &mdlen) == 1 && mdlen == 20)
			ctl_hex_to(md, 20, ti->cert_sha1);
	}
	return CTL_OK;
}

int token_module_list(struct token_module *m, struct token_info **out, size_t *n,
		      struct ctl_err *err)
{
	CK_SLOT_ID *ids;
	size_t nids, cnt = 0;
	struct token_info *v;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = p11_present_slots(m->p, &ids, &nids, err)) != CTL_OK)
		return rc;
	v = calloc(nids ? nids : 1, sizeof(*v));
	if (!v) {
		free(ids);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < nids; i++) {
		struct ctl_err e;
		/* A token pulled between C_GetSlotList and C_GetTokenInfo is simply gone. */
		if (token_read_info(m, ids[i], &v[cnt], &e) == CTL_OK)
			cnt++;
	}
	free(ids);
	*out = v;
	*n = cnt;
	return CTL_OK;
}

static bool match(const char *want, const char *have)
{
	return !want || strcmp(want, have) == 0;
}

static bool uri_matches(const struct p11_uri *u, const struct token_info *ti)
{
	return !u || (match(u->token, ti->label) && match(u->manufacturer, ti->manufacturer) &&
		      match(u->model, ti->model) && match(u->serial, ti->serial) &&
		      (!u->has_slot_id || u->slot_id == ti->slot_id));
}

/* "SAST1 (serial 0123), SAST2 (serial 4567)" */
static void describe(const struct token_info *v, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && off < len; i++) {
		if (!(v[i].flags & CKF_TOKEN_INITIALIZED))
			continue;
		int w = snprintf(buf + off, len - off, "%s'%s' (serial %s)", off ? ", " : "",
				 v[i].label, v[i].serial);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* The same physical token may show as several slots (OpenSC: one per PIN of an
 * OpenPGP card); they share manufacturer, model and serial. */
bool token_same_physical(const struct token_info *a, const struct token_info *b)
{
	return a->serial[0] && !strcmp(a->serial, b->serial) &&
	       !strcmp(a->manufacturer, b->manufacturer) && !strcmp(a->model, b->model);
}

size_t token_count_physical(const struct token_info *v, size_t n, const size_t *idx, size_t nidx)
{
	size_t cnt = 0;

	for (size_t i = 0; i < nidx; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = token_same_physical(&v[idx[i]], &v[idx[j]]);
		cnt += !seen;
	}
	(void)n;
	return cnt;
}

int token_select_uri(struct token_module *m, const struct p11_uri *u, struct token_info *out,
		     struct ctl_err *err)
{
	struct token_info *v;
	size_t n, hits = 0, hit = 0, *idx = NULL;
	char present[300];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = token_module_list(m, &v, &n, err)) != CTL_OK)
		return rc;
	idx = calloc(n ? n : 1, sizeof(*idx));
	if (!idx) {
		token_infos_free(v, n);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if ((v[i].flags & CKF_TOKEN_INITIALIZED) && uri_matches(u, &v[i]))
			idx[hits++] = i;
	if (hits > 1 && token_count_physical(v, n, idx, hits) == 1) {
		/* One token with several slots: the slot with a certificate, if only one has. */
		size_t with_cert = 0;
		for (size_t i = 0; i < hits; i++)
			if (v[idx[i]].cert) {
				with_cert++;
				hit = idx[i];
			}
		if (with_cert == 1) {
			idx[0] = hit;
			hits = 1;
		}
	}
	if (hits == 1)
		hit = idx[0];
	describe(v, n, present, sizeof(present));
	if (hits == 1) {
		*out = v[hit];
		memset(&v[hit], 0, sizeof(v[hit]));
		rc = CTL_OK;
	} else if (hits == 0 && u) {
		rc = ctl_fail(err, CTL_E_TOKEN, "no token matches the PKCS#11 URI; tokens present: %s",
			      present);
	} else if (hits == 0) {
		rc = ctl_fail(err, CTL_E_TOKEN, "no token present (module %s): insert one",
			      m->p->path);
	} else if (u) {
		rc = ctl_fail(err, CTL_E_TOKEN,
			      "the PKCS#11 URI matches %zu tokens: %s; name one with token= or serial=",
			      hits, present);
	} else {
		rc = ctl_fail(err, CTL_E_TOKEN,
			      "%zu tokens present: %s; remove one or pick one with a PKCS#11 URI "
			      "(pkcs11:token=LABEL or pkcs11:serial=SERIAL)",
			      hits, present);
	}
	free(idx);
	token_infos_free(v, n);
	return rc;
}

int token_select(struct token_module *m, const char *uri, struct token_info *out,
		 struct ctl_err *err)
{
	struct p11_uri u;
	int rc;

	if (!uri)
		return token_select_uri(m, NULL, out, err);
	if ((rc = p11_uri_parse(uri, &u, err)) != CTL_OK)
		return rc;
	rc = token_select_uri(m, &u, out, err);
	p11_uri_clear(&u);
	return rc;
}
