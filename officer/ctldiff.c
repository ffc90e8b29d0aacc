/* ctldiff.c - see ctldiff.h */
#include "ctldiff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "ctlmake.h"

#include <openssl/evp.h>

static bool buf_eq(const struct ctl_buf *a, const struct ctl_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static bool same_class(const struct ctl_record *a, const struct ctl_record *b)
{
	return (a->role == CTL_ROLE_SAST) == (b->role == CTL_ROLE_SAST);
}

static void ip_str(const struct ctl_record *r, char *buf, size_t n)
{
	if (r->has_ip)
		snprintf(buf, n, "%u.%u.%u.%u", r->ip[0], r->ip[1], r->ip[2], r->ip[3]);
	else
		snprintf(buf, n, "none");
}

static void add_what(char *what, size_t n, const char *text)
{
	size_t used = strlen(what);

	if (used && used + 2 < n) {
		strcat(what, "; ");
		used += 2;
	}
	if (used + 1 < n) { /* deliberately truncated to the space left */
		size_t len = strlen(text);

		if (len > n - used - 1)
			len = n - used - 1;
		memcpy(what + used, text, len);
		what[used + len] = 0;
	}
}

/* Fills e->what; returns false when nothing changed. */
static bool describe_change(const struct ctl_record *o, const struct ctl_record *nw, char *what,
			    size_t n)
{
	char a[32], b[32], t[600];

	what[0] = 0;
	if (!ctl_records_same_cert(o, nw))
		add_what(what, n, "certificate replaced (re-certified)");
	else if (o->cert.len && nw->cert.len && !buf_eq(&o->cert, &nw->cert))
		add_what(what, n, "certificate changed");
	if (!str_eq(o->dns_name, nw->dns_name))
{
		snprintf(t, sizeof(t), "host %s -> %s", o->dns_name ? o->dns_name : "none",
			 nw->dns_name ? nw->dns_name : "none");
		add_what(what, n, t);
	}
	if (o->has_ip != nw->has_ip || (o->has_ip && memcmp(o->ip, nw->ip, 4))) {
		ip_str(o, a, sizeof(a));
		ip_str(nw, b, sizeof(b));
		snprintf(t, sizeof(t), "ip %s -> %s", a, b);
		add_what(what, n, t);
	}
	if (o->role != nw->role) {
		const char *ra = ctl_role_name(o->role), *rb = ctl_role_name(nw->role);
		snprintf(t, sizeof(t), "role %s -> %s", ra ? ra : "?", rb ? rb : "?");
		add_what(what, n, t);
	}
	if (o->cert.len && !nw->cert.len)
		add_what(what, n, "certificate dropped (non-secure)");
	else if (!o->cert.len && nw->cert.len)
		add_what(what, n, "certificate listed (mixed)");
	if (!what[0] && (!str_eq(o->subject, nw->subject) || !buf_eq(&o->pubkey, &nw->pubkey) ||
			 !buf_eq(&o->cert_sig, &nw->cert_sig)))
		add_what(what, n, "record content changed");
	return what[0] != 0;
}

static int push(struct ctldiff *d, int kind, const struct ctl_record *o,
		const struct ctl_record *nw, struct ctl_err *err)
{
	struct ctldiff_entry *e = realloc(d->e, (d->n + 1) * sizeof(*e));

	if (!e)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	d->e = e;
	e = &d->e[d->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->old_rec = o;
	e->new_rec = nw;
	return CTL_OK;
}

int ctldiff_compute(const struct ctl_record *old_recs, size_t nold, int old_mode,
		    const struct ctl_record *new_recs, size_t nnew, int new_mode,
		    struct ctldiff *out, struct ctl_err *err)
{
	long *pair_of_new = NULL;  /* index of the old record paired with new i, or -1 */
	bool *old_used = NULL;
	struct ctl_cert_id *old_ids = NULL, *new_ids = NULL;
	int rc = CTL_OK;

	memset(out, 0, sizeof(*out));
	out->old_mode = old_mode;
	out->new_mode = new_mode;
	pair_of_new = calloc(nnew + 1, sizeof(*pair_of_new));
	old_used = calloc(nold + 1, sizeof(*old_used));
	if (!pair_of_new || !old_used ||
	    ctl_cert_ids_of_records(old_recs, nold, &old_ids) != CTL_OK ||
	    ctl_cert_ids_of_records(new_recs, nnew, &new_ids) != CTL_OK) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	/* 1: the same certificate (issuer + serial, ctl_cert_id_equal) in the same class. */
	for (size_t i = 0; i < nnew; i++) {
		pair_of_new[i] = -1;
		for (size_t j = 0; j < nold; j++)
			if (!old_used[j] && same_class(&new_recs[i], &old_recs[j]) &&
			    ctl_cert_id_equal(&new_ids[i], &old_ids[j])) {
				pair_of_new[i] = (long)j;
				old_used[j] = true;
				break;
			}
	}
	/* 2: a server with the same host name: re-certified. */
	for (size_t i = 0; i < nnew; i++) {
		if (pair_of_new[i] >= 0 || new_recs[i].role == CTL_ROLE_SAST || !new_recs[i].dns_name)
			continue;
		for (size_t j = 0; j < nold; j++)
			if (!old_used[j] && old_recs[j].role != CTL_ROLE_SAST && old_recs[j].dns_name &&
			    !strcasecmp(old_recs[j].dns_name, new_recs[i].dns_name)) {
				pair_of_new[i] = (long)j;
				old_used[j] = true;
				break;
			}
	}
	for (size_t j = 0; j < nold && rc == CTL_OK; j++)
		if (!old_used[j])
			rc = push(out, CTLDIFF_REMOVED, &old_recs[j], NULL, err);
	for (size_t i = 0; i < nnew && rc == CTL_OK; i++) {
		char what[256];

		if (pair_of_new[i] < 0) {
			rc = push(out, CTLDIFF_ADDED, NULL, &new_recs[i], err);
		} else if (describe_change(&old_recs[pair_of_new[i]], &new_recs[i], what,
					   sizeof(what))) {
			rc = push(out, CTLDIFF_CHANGED, &old_recs[pair_of_new[i]], &new_recs[i], err);
			if (rc == CTL_OK)
				snprintf(out->e[out->n - 1].what, sizeof(out->e[0].what), "%s", what);
		} else {
			out->unchanged++;
		}
	}
out:
	ctl_cert_ids_free(old_ids, nold);
	ctl_cert_ids_free(new_ids, nnew);
	free(pair_of_new);
	free(old_used);
	if (rc != CTL_OK)
		ctldiff_free(out);
	return rc;
}

void ctldiff_free(struct ctldiff *d)
{
	free(d->e);
	d->e = NULL;
	d->n = 0;
}

void ctldiff_set_digest(struct ctldiff *d, int old_hash, int new_hash)
{
	d->old_hash = old_hash;
	d->new_hash = new_hash;
}

static bool digest_changed(const struct ctldiff *d)
{
	return d->old_hash && d->new_hash && d->old_hash != d->new_hash;
}

bool ctldiff_is_empty(const struct ctldiff *d)
{
	return !d->n && d->old_mode == d->new_mode && !digest_changed(d);
}

size_t ctldiff_count(const struct ctldiff *d, int kind)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n; i++)
		k += d->e[i].kind == kind;
	return k;
}

void ctldiff_describe(const struct ctl_record *r, char *buf, size_t n)
{
	const char *role = ctl_role_name(r->role);
	char *sn = ctl_hex(r->serial.data, r->serial.len);
	char ip[32] = "";
	int k;

	if (r->has_ip)
		snprintf(ip, sizeof(ip), " ip %u.%u.%u.%u", r->ip[0], r->ip[1], r->ip[2], r->ip[3]);
	k = snprintf(buf, n, "%-8s %s serial %s%s%s%s", role ? role : "?",
		     r->subject ? r->subject : "?", sn ? sn : "?", r->dns_name ? " host " : "",
		     r->dns_name ? r->dns_name : "", ip);
	if (k > 0 && (size_t)k < n && r->role != CTL_ROLE_SAST && !r->cert.len)
		snprintf(buf + k, n - (size_t)k, " (no certificate)");
	free(sn);
}

void ctldiff_print(FILE *fp, const struct ctldiff *d)
{
	char desc[700];

	if (d->old_mode >= 0 && d->old_mode != d->new_mode)
		fprintf(fp, "  mode:    %s -> %s\n", cluster_mode_name(d->old_mode),
			cluster_mode_name(d->new_mode));
	if (digest_changed(d))
		fprintf(fp, "  digest:  %s -> %s (the signature's hash)\n", ctl_hash_name(d->old_hash),
			ctl_hash_name(d->new_hash));
	for (size_t i = 0; i < d->n; i++) {
		const struct ctldiff_entry *e = &d->e[i];

		switch (e->kind) {
		case CTLDIFF_ADDED:
			ctldiff_describe(e->new_rec, desc, sizeof(desc));
			fprintf(fp, "  + add     %s\n", desc);
			break;
		case CTLDIFF_REMOVED:
			ctldiff_describe(e->old_rec, desc, sizeof(desc));
			fprintf(fp, "  - remove  %s\n", desc);
			break;
		default:
			ctldiff_describe(e->new_rec, desc, sizeof(desc));
			fprintf(fp, "  ~ change  %s: %s\n", desc, e->what);
		}
	}
	fprintf(fp, "  %zu added, %zu removed, %zu changed, %zu unchanged\n",
		ctldiff_count(d, CTLDIFF_ADDED), ctldiff_count(d, CTLDIFF_REMOVED),
		ctldiff_count(d, CTLDIFF_CHANGED), d->unchanged);
}

static struct json_object *rec_json(const struct ctl_record *r)
{
	struct json_object *o = json_object_new_object();
	const char *role = ctl_role_name(r->role);
	char *sn = ctl_hex(r->serial.data, r->serial.len);

	/* The keys of `ctlverify show --json`'s records (schemas/ctl-diff.schema.json). */
	json_object_object_add(o, "role_id", json_object_new_int(r->role));
	json_object_object_add(o, "role", json_object_new_string(role ? role : "?"));
	if (r->subject)
		json_object_object_add(o, "subject", json_object_new_string(r->subject));
	if (sn)
		json_object_object_add(o, "serial", json_object_new_string(sn));
	if (r->dns_name)
		json_object_object_add(o, "dns_name", json_object_new_string(r->dns_name));
	if (r->has_ip) {
		char ip[16];

		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", r->ip[0], r->ip[1], r->ip[2], r->ip[3]);
		json_object_object_add(o, "ip", json_object_new_string(ip));
	}
	free(sn);
	return o;
}

struct json_object *ctldiff_json(const struct ctldiff *d)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	static const char *names[] = {"", "added", "removed", "changed"};

	if (d->old_mode >= 0)
		json_object_object_add(o, "old_mode",
				       json_object_new_string(cluster_mode_name(d->old_mode)));
	json_object_object_add(o, "new_mode", json_object_new_string(cluster_mode_name(d->new_mode)));
	if (d->old_hash)
		json_object_object_add(o, "old_digest", json_object_new_string(ctl_hash_name(d->old_hash)));
	if (d->new_hash)
		json_object_object_add(o, "new_digest", json_object_new_string(ctl_hash_name(d->new_hash)));
	json_object_object_add(o, "differs", json_object_new_boolean(!ctldiff_is_empty(d)));
	for (size_t i = 0; i < d->n; i++) {
		const struct ctldiff_entry *e = &d->e[i];
		struct json_object *x = rec_json(e->new_rec ? e->new_rec : e->old_rec);

		json_object_object_add(x, "change", json_object_new_string(names[e->kind]));
		if (e->kind == CTLDIFF_CHANGED)
			json_object_object_add(x, "what", json_object_new_string(e->what));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "changes", a);
	json_object_object_add(o, "unchanged", json_object_new_int64((int64_t)d->unchanged));
	return o;
}

/* SHA-256 of the record's certificate, 64 hex digits; "(no certificate)" without one. */
static void cert_sha256(const struct ctl_record *r, char out[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	if (!r->cert.len || !EVP_Digest(r->cert.data, r->cert.len, md, &ml, EVP_sha256(), NULL) ||
	    ml != 32) {
		snprintf(out, 65, "(no certificate)");
		return;
	}
	ctl_hex_to(md, ml, out);
}

static bool sast_is_new(const struct ctl_record *r, const struct ctl_record *old_recs,
			size_t nold)
{
	for (size_t j = 0; j < nold; j++)
		if (old_recs[j].role == CTL_ROLE_SAST && buf_eq(&old_recs[j].cert, &r->cert))
			return false;
	return true;
}

void ctldiff_print_sasts(FILE *fp, const struct ctl_record *new_recs, size_t nnew,
			 const struct ctl_record *old_recs, size_t nold)
{
	char fp256[65];

	fprintf(fp, "SAST records of the %sCTL (each of these tokens can sign the next one):\n",
		old_recs ? "new " : "");
	for (size_t i = 0; i < nnew; i++) {
		const struct ctl_record *r = &new_recs[i];

		if (r->role != CTL_ROLE_SAST)
			continue;
		cert_sha256(r, fp256);
		fprintf(fp, "  SAST  %s  SHA-256 %s%s\n", r->subject ? r->subject : "?", fp256,
			old_recs && sast_is_new(r, old_recs, nold) ? "  (new)" : "");
	}
}

struct json_object *ctldiff_sasts_json(const struct ctl_record *new_recs, size_t nnew,
				       const struct ctl_record *old_recs, size_t nold)
{
	struct json_object *a = json_object_new_array();
	char fp256[65];

	for (size_t i = 0; i < nnew; i++) {
		const struct ctl_record *r = &new_recs[i];
		struct json_object *o;

		if (r->role != CTL_ROLE_SAST)
			continue;
		o = json_object_new_object();
		cert_sha256(r, fp256);
		json_object_object_add(o, "subject", json_object_new_string(r->subject ? r->subject : "?"));
		json_object_object_add(o, "sha256", json_object_new_string(fp256));
		json_object_object_add(o, "new", json_object_new_boolean(sast_is_new(r, old_recs, nold)));
		json_object_array_add(a, o);
	}
	return a;
}
