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
	struct ctl_file *check = NULL;
	struct publish_result *res = NULL;
	struct audit_rec *intents = NULL;
	char detail[1024], id[AUDIT_ID_MAX];
	size_t used = 0, nok = 0;
	const char *unsynced_msg = NULL; /* every directory holds the new CTL, not all synced */
	int rc;

	rc = ctl_build_tlv(itl ? CTL_KIND_ITL : CTL_KIND_CTL, recs, n, signer, &bo, &out, err);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "signing the %s failed; nothing was written", what);
		audit_failure(o, signer, err->msg);
		return rc;
	}
	/* What we publish must be what phones will accept: parse it back and verify it
	 * against its own SAST record. */
	rc = ctl_parse(out.data, out.len, &check, err);
	if (rc == CTL_OK && check->kind != (itl ? CTL_KIND_ITL : CTL_KIND_CTL))
		rc = ctl_fail(err, CTL_E_INTERNAL, "it reads back as a %s", ctl_kind_name(check->kind));
	if (rc == CTL_OK)
		rc = ctl_verify_self(check, err);
	ctl_file_free(check);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "the signed %s does not verify; nothing was written", what);
		audit_failure(o, signer, err->msg);
		goto out;
	}

	/* Audit first, publish second: an intent record per directory (what goes where,
	 * with its SHA-256) before the first rename, an outcome record after. */
	if (!(res = calloc(o->ndirs ? o->ndirs : 1, sizeof(*res))) ||
	    !(intents = calloc(o->ndirs ? o->ndirs : 1, sizeof(*intents)))) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	audit_new_id(id);
	for (size_t i = 0; i < o->ndirs; i++) {
		intents[i] = (struct audit_rec){
			.operation = o->operation,
			.output = ctl_path_join(o->dirs[i], name, ""),
			.data = out.data,
			.len = out.len,
			.token_label = o->token_label,
			.token_serial = o->token_serial,
			.signer_cert = signer->cert,
			.result = "ok",
			.phase = "intent",
			.intent = id,
			.cluster = o->cluster,
		};
		if (!intents[i].output) {
			rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			goto out;
		}
	}
	rc = audit_append_batch(o->audit_log, intents, o->ndirs, err);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "the %s was signed but not published (no audit record)", what);
		goto out;
	}
	/* What the first directory is about to hold, so that a rerun after a kill between
	 * the rename and ctlrun_record still knows it as ctlsign's own. */
	if (o->ndirs && (rc = state_published_put(o->dirs[0], itl ? CTLRUN_ITL_PUBLISHING_NAME :
						  CTLRUN_PUBLISHING_NAME, out.data, out.len,
						  err)) != CTL_OK) {
		ctl_fail_prefix(err, "the %s was signed but not published (it cannot be recorded)", what);
		goto out;
	}
	rc = publish_all(o->dirs, o->ndirs, name, out.data, out.len, res);
	if (o->results)
		memcpy(o->results, res, o->ndirs * sizeof(*res));
	detail[0] = 0;
	for (size_t i = 0; i < o->ndirs; i++) {
		if (res[i].leftovers)
			fprintf(o->out, "removed    %zu temporary file%s left in %s by an interrupted run\n",
				res[i].leftovers, res[i].leftovers == 1 ? "" : "s", res[i].dir);
		if (res[i].rc == CTL_OK || res[i].unsynced) {
			nok++;
			fprintf(o->out, "%s  %s/%s%s%s%s\n", res[i].rc == CTL_OK ? "published" : "UNSYNCED ",
				res[i].dir, name, res[i].had_old ? " (previous kept as " : "",
				res[i].had_old ? name : "", res[i].had_old ? ".bak)" : "");
			if (res[i].unsynced && rc == CTL_E_IO && !unsynced_msg)
				unsynced_msg = res[i].msg;
		} else {
			int k;
			fprintf(o->out, "FAILED     %s: %s (the previous %s there is unchanged)\n",
				res[i].dir, res[i].msg, what);
			k = snprintf(detail + used, sizeof(detail) - used, "%s%s",
				     used ? " " : "the old file is still in: ", res[i].dir);
			if (k > 0 && used + (size_t)k < sizeof(detail))
				used += (size_t)k;
		}
	}
	{
		struct audit_rec a = {
			.operation = "publish",
			.phase = "outcome",
			.intent = id,
			.result = rc == CTL_OK ? "ok" : unsynced_msg ? "published-unsynced"
				  : rc == CTL_E_PARTIAL ? "partial" : "failed",
			.detail = used ? detail : unsynced_msg,
		};
		struct ctl_err aerr = {0};

		if (audit_append(o->audit_log, &a, &aerr) != CTL_OK) {
			if (rc == CTL_OK) {
				*err = aerr;
				ctl_fail_prefix(err, "the %s was published, but its outcome is not in the audit log", what);
				rc = aerr.code;
				goto out;
			}
			fprintf(stderr, "ctlsign: also: %s\n", aerr.msg);
		}
	}
	if (rc == CTL_E_POLICY) {
		for (size_t i = 0; i < o->ndirs; i++)
			if (res[i].rc == CTL_E_POLICY && strncmp(res[i].msg, "not written", 11)) {
				ctl_fail(err, rc, "%s", res[i].msg);
				break;
			}
		goto out;
	}
	if (unsynced_msg)
		ctl_fail(err, rc, "%s", unsynced_msg);
	else if (rc != CTL_OK)
		ctl_fail(err, rc, "published to %zu of %zu directories; fix the failed ones and run 'ctlsign %s' again",
			 nok, o->ndirs, itl ? "itl create" : "ctl update");
	ctlrun_record_file(res, o->ndirs, name, out.data, out.len, &rc, err);
out:
	if (intents)
		for (size_t i = 0; i < o->ndirs; i++)
			free((char *)intents[i].output);
	free(intents);
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
