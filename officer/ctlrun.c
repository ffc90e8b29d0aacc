/* ctlrun.c - see ctlrun.h */
#include "ctlrun.h"

#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "audit.h"
#include "ctldiff.h"
#include "publish.h"
#include "state.h"

static void audit_failure(const struct ctlrun_opts *o, const struct ctl_signer *signer,
			  const char *msg)
{
	struct audit_rec a = {
		.operation = o->operation,
		.token_label = o->token_label,
		.token_serial = o->token_serial,
		.signer_cert = signer->cert,
		.result = msg,
		.cluster = o->cluster,
	};
	struct ctl_err aerr = {0};

	if (audit_append(o->audit_log, &a, &aerr) != CTL_OK)
		fprintf(stderr, "ctlsign: also: %s\n", aerr.msg);
}

void ctlrun_record(const struct publish_result *res, size_t n, const uint8_t *data, size_t len,
		   int *rc, struct ctl_err *err)
{
	ctlrun_record_file(res, n, CTLRUN_FILE_NAME, data, len, rc, err);
}

void ctlrun_record_file(const struct publish_result *res, size_t n, const char *name,
			const uint8_t *data, size_t len, int *rc, struct ctl_err *err)
{
	bool itl = !strcmp(name, CTLRUN_ITL_FILE_NAME);
	const char *what = itl ? "ITL" : "CTL";
	const char *then = itl ? "ctlsign does not know it as its own" :
			   "the next update will need --trust-current with that hash";
	struct ctl_err rerr = {0};
	char hex[65] = "?";

	for (size_t i = 0; i < n; i++) {
		if ((res[i].rc != CTL_OK && !res[i].unsynced) || state_published_put(res[i].dir, name, data, len,
							       &rerr) == CTL_OK)
			continue;
		state_sha256_hex(data, len, hex);
		if (*rc == CTL_OK) {
			*rc = ctl_fail(err, CTL_E_IO, "the %s (SHA-256 %s) is published in %s but not recorded, so %s: %s",
				       what, hex, res[i].dir, then, rerr.msg);
		} else {
			fprintf(stderr, "ctlsign: also: the %s (SHA-256 %s) is published in %s but not recorded, so %s: %s\n",
				what, hex, res[i].dir, then, rerr.msg);
		}
		return;
	}
}

/* The signed file read back as phones would read it: parsed and verified against its
 * own SAST record. */
static int check_signed(const struct ctl_buf *out, bool itl, struct ctl_err *err)
{
	struct ctl_file *check = NULL;
	int rc;

	rc = ctl_parse(out->data, out->len, &check, err);
	if (rc == CTL_OK && check->kind != (itl ? CTL_KIND_ITL : CTL_KIND_CTL))
		rc = ctl_fail(err, CTL_E_INTERNAL, "it reads back as a %s", ctl_kind_name(check->kind));
	if (rc == CTL_OK)
		rc = ctl_verify_self(check, err);
	ctl_file_free(check);
	return rc;
}

/* One intent record per directory (what goes where), all with the same intent id. */
static int fill_intents(struct audit_rec *intents, const struct ctlrun_opts *o,
			const struct ctl_signer *signer, const char *name,
			const struct ctl_buf *out, const char *id, struct ctl_err *err)
{
	for (size_t i = 0; i < o->ndirs; i++) {
		intents[i] = (struct audit_rec){
			.operation = o->operation,
			.output = ctl_path_join(o->dirs[i], name, ""),
			.data = out->data,
			.len = out->len,
			.token_label = o->token_label,
			.token_serial = o->token_serial,
			.signer_cert = signer->cert,
			.result = "ok",
			.phase = "intent",
			.intent = id,
			.cluster = o->cluster,
		};
		if (!intents[i].output)
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	return CTL_OK;
}

/* What publish_all did, directory by directory. */
struct tally {
	char detail[1024];	 /* the directories that still hold the old file */
	size_t used, nok;
	const char *unsynced_msg; /* every directory holds the new file, not all synced */
};

static void report_results(const struct ctlrun_opts *o, const struct publish_result *res,
			   int rc, const char *name, const char *what, struct tally *t)
{
	t->detail[0] = 0;
	for (size_t i = 0; i < o->ndirs; i++) {
		if (res[i].leftovers)
			fprintf(o->out, "removed    %zu temporary file%s left in %s by an interrupted run\n",
				res[i].leftovers, res[i].leftovers == 1 ? "" : "s", res[i].dir);
		if (res[i].rc == CTL_OK || res[i].unsynced) {
			t->nok++;
			fprintf(o->out, "%s  %s/%s%s%s%s\n", res[i].rc == CTL_OK ? "published" : "UNSYNCED ",
				res[i].dir, name, res[i].had_old ? " (previous kept as " : "",
				res[i].had_old ? name : "", res[i].had_old ? ".bak)" : "");
			if (res[i].unsynced && rc == CTL_E_IO && !t->unsynced_msg)
				t->unsynced_msg = res[i].msg;
		} else {
			int k;
			fprintf(o->out, "FAILED     %s: %s (the previous %s there is unchanged)\n",
				res[i].dir, res[i].msg, what);
			k = snprintf(t->detail + t->used, sizeof(t->detail) - t->used, "%s%s",
				     t->used ? " " : "the old file is still in: ", res[i].dir);
			if (k > 0 && t->used + (size_t)k < sizeof(t->detail))
				t->used += (size_t)k;
		}
	}
}

/* The outcome record of the publish. Its failure is the run's error only when the
 * publish itself succeeded (then returned); otherwise it is mentioned and CTL_OK returned. */
static int audit_outcome(const struct ctlrun_opts *o, const char *id, int rc,
			 const struct tally *t, const char *what, struct ctl_err *err)
{
	struct audit_rec a = {
		.operation = "publish",
		.phase = "outcome",
		.intent = id,
		.result = rc == CTL_OK ? "ok" : t->unsynced_msg ? "published-unsynced"
			  : rc == CTL_E_PARTIAL ? "partial" : "failed",
		.detail = t->used ? t->detail : t->unsynced_msg,
	};
	struct ctl_err aerr = {0};

	if (audit_append(o->audit_log, &a, &aerr) == CTL_OK)
		return CTL_OK;
	if (rc == CTL_OK) {
		*err = aerr;
		ctl_fail_prefix(err, "the %s was published, but its outcome is not in the audit log", what);
		return aerr.code;
	}
	fprintf(stderr, "ctlsign: also: %s\n", aerr.msg);
	return CTL_OK;
}

/* The run's error after a publish that did not fully succeed. */
static void publish_error(const struct ctlrun_opts *o, const struct publish_result *res, int rc,
			  const struct tally *t, bool itl, struct ctl_err *err)
{
	if (rc == CTL_E_POLICY) {
		for (size_t i = 0; i < o->ndirs; i++)
			if (res[i].rc == CTL_E_POLICY && strncmp(res[i].msg, "not written", 11)) {
				ctl_fail(err, rc, "%s", res[i].msg);
				break;
			}
	} else if (t->unsynced_msg) {
		ctl_fail(err, rc, "%s", t->unsynced_msg);
	} else if (rc != CTL_OK) {
		ctl_fail(err, rc, "published to %zu of %zu directories; fix the failed ones and run 'ctlsign %s' again",
			 t->nok, o->ndirs, itl ? "itl create" : "ctl update");
	}
}

/* Audit first, publish second: an intent record per directory (what goes where, with
 * its SHA-256) before the first rename. Returns CTL_OK once publish_all ran (its result
 * in *prc), else the error that kept it from running. */
static int publish_audited(const struct ctlrun_opts *o, const struct ctl_signer *signer,
			   const struct ctl_buf *out, const char *id, struct publish_result *res,
			   int *prc, struct ctl_err *err)
{
	bool itl = o->kind == CTL_KIND_ITL;
	const char *name = itl ? CTLRUN_ITL_FILE_NAME : CTLRUN_FILE_NAME;
	const char *what = itl ? "ITL" : "CTL";
	struct audit_rec *intents = calloc(o->ndirs ? o->ndirs : 1, sizeof(*intents));
	int rc;

	if (!intents)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if ((rc = fill_intents(intents, o, signer, name, out, id, err)) != CTL_OK)
		goto out;
	rc = audit_append_batch(o->audit_log, intents, o->ndirs, err);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "the %s was signed but not published (no audit record)", what);
		goto out;
	}
	/* What the first directory is about to hold, so that a rerun after a kill between
	 * the rename and ctlrun_record still knows it as ctlsign's own. */
	if (o->ndirs && (rc = state_published_put(o->dirs[0], itl ? CTLRUN_ITL_PUBLISHING_NAME :
						  CTLRUN_PUBLISHING_NAME, out->data, out->len,
						  err)) != CTL_OK) {
		ctl_fail_prefix(err, "the %s was signed but not published (it cannot be recorded)", what);
		goto out;
	}
	*prc = publish_all(o->dirs, o->ndirs, name, out->data, out->len, res);
out:
	for (size_t i = 0; i < o->ndirs; i++)
		free((char *)intents[i].output);
	free(intents);
	return rc;
}

int ctlrun_finish(const struct ctl_record *recs, size_t n, const struct ctl_signer *signer,
		  const struct ctlrun_opts *o, struct ctl_err *err)
{
	bool itl = o->kind == CTL_KIND_ITL;
	const char *name = itl ? CTLRUN_ITL_FILE_NAME : CTLRUN_FILE_NAME;
	const char *what = itl ? "ITL" : "CTL";
	struct ctl_build_opts bo = {
		.hash_alg = o->hash_alg,
		.file_name = name,
		.signer_version_minor = -1,
	};
	struct ctl_buf out = {0};
	struct publish_result *res = NULL;
	struct tally t = {0};
	char id[AUDIT_ID_MAX];
	int rc, arc;

	rc = ctl_build_tlv(itl ? CTL_KIND_ITL : CTL_KIND_CTL, recs, n, signer, &bo, &out, err);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "signing the %s failed; nothing was written", what);
		audit_failure(o, signer, err->msg);
		return rc;
	}
	/* What we publish must be what phones will accept. */
	if ((rc = check_signed(&out, itl, err)) != CTL_OK) {
		ctl_fail_prefix(err, "the signed %s does not verify; nothing was written", what);
		audit_failure(o, signer, err->msg);
		goto out;
	}
	if (!(res = calloc(o->ndirs ? o->ndirs : 1, sizeof(*res)))) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	audit_new_id(id);
	if ((arc = publish_audited(o, signer, &out, id, res, &rc, err)) != CTL_OK) {
		rc = arc;
		goto out;
	}
	if (o->results)
		memcpy(o->results, res, o->ndirs * sizeof(*res));
	report_results(o, res, rc, name, what, &t);
	/* The outcome record after the publish. */
	if ((arc = audit_outcome(o, id, rc, &t, what, err)) != CTL_OK) {
		rc = arc;
		goto out;
	}
	publish_error(o, res, rc, &t, itl, err);
	if (rc != CTL_E_POLICY)
		ctlrun_record_file(res, o->ndirs, name, out.data, out.len, &rc, err);
out:
	free(res);
	ctl_buf_clear(&out);
	return rc;
}

/* The cluster entry a record stands for: same kind of entry, role and host. */
static const struct cluster_server *server_of(const struct cluster *c, const struct ctl_record *r,
					      int kind)
{
	for (size_t i = 0; r && r->dns_name && i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];

		if (s->kind == kind && s->role == r->role && !strcasecmp(s->host, r->dns_name))
			return s;
	}
	return NULL;
}

void ctlrun_print_next(FILE *fp, const struct cluster *c, const struct ctlrun_next *n)
{
	const struct ctldiff *d = n ? n->diff : NULL;
	bool any = false;

	fprintf(fp, "\nNext steps (the new CTL takes effect only after these):\n");
	for (size_t i = 0; n && n->res && i < n->nres; i++)
		if (n->res[i].rc != CTL_OK)
			fprintf(fp, "  - NOT DONE: %s still holds the previous CTL (publishing there failed); phones that load their CTL from it keep getting the old one: fix it and run 'ctlsign ctl update' again, which copies the new CTL there\n",
				n->res[i].dir);
	for (size_t i = 0; i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];
		const char *what = NULL;

		/* An alternate TFTP server belongs to another cluster and a firewall runs no
		 * CallManager service: nothing of theirs is restarted from here. */
		if (s->kind != CLUSTER_SERVER)
			continue;
		switch (s->role) {
		case CTL_ROLE_CCM: what = "Cisco CallManager"; break;
		case CTL_ROLE_CCM_TFTP: what = "Cisco CallManager and Cisco TFTP"; break;
		case CTL_ROLE_TFTP: what = "Cisco TFTP"; break;
		default: break;
		}
		if (!what)
			continue;
		fprintf(fp, "  - restart the %s service%s on %s (%s)\n", what,
			s->role == CTL_ROLE_CCM_TFTP ? "s" : "", s->name, s->host);
		any = true;
	}
	if (!any)
		fprintf(fp, "  - restart the Cisco CallManager and Cisco TFTP services on every node\n");
	for (size_t i = 0; d && i < d->n; i++) {
		const struct ctl_record *r = d->e[i].new_rec;
		const struct cluster_server *s;

		if (!r || d->e[i].kind == CTLDIFF_REMOVED)
			continue;
		if (r->role == CTL_ROLE_CAPF) {
			s = server_of(c, r, CLUSTER_SERVER);
			fprintf(fp, "  - restart the Cisco Certificate Authority Proxy Function (CAPF) service on %s (%s): its certificate in the CTL changed\n",
				s ? s->name : r->dns_name ? r->dns_name : "the CAPF server",
				s ? s->host : r->subject ? r->subject : "?");
		} else if ((s = server_of(c, r, CLUSTER_FIREWALL))) {
			fprintf(fp, "  - import the new CTL on the ASA firewall %s (%s): its record changed\n",
				s->name, s->host);
		}
	}
	if (n && n->replaced)
		fprintf(fp, "  - then erase the CTL on every phone (Settings > Security > CTL > Erase, or a factory reset): phones holding the old CTL refuse this one, which none of their SAST tokens signed\n");
	else
		fprintf(fp, "  - then reset all devices (phones) so that they download the new CTL\n");
}
