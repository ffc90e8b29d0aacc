/*
 * session.h - what `sign` and `encrypt` share: one token session (one login) giving a
 * signer, the check that phones trust that signer (its certificate is in the CTL with a
 * TFTP role), and the audit of what was signed.
 */
#ifndef CTL_SESSION_H
#define CTL_SESSION_H

#include <stdbool.h>

#include "audit.h"
#include "bulk.h"
#include "ctl.h"

struct token_module;
struct token;

struct session {
	struct token_module *mod;
	struct token *tok;
	const struct ctl_signer *signer; /* the token's */
	X509 *cert;                      /* the signer's certificate (not owned) */
	const char *label, *serial;      /* token label and serial (not owned) */
	const char *audit_log;           /* resolved path */
	bool audit_failed;               /* a batch could not be logged */
	struct ctl_err audit_err;
};

/* Opens the module (NULL: environment / p11-kit default) and the token (uri, pin as in
 * token_opts), and checks the audit log can be appended to. */
int session_open(struct session *s, const char *module, const char *uri, const char *pin,
		 bool final_try, const char *audit_log, struct ctl_err *err);
void session_close(struct session *s);

/* The signer's certificate must be in the CTL with a TFTP or CCM+TFTP role (same DER, or
 * same issuer and serial), and the CTL must be mixed mode: CTL_E_POLICY otherwise. */
int session_check_ctl(const char *ctl_path, X509 *cert, struct ctl_err *err);

/* Which CTL to check: explicit, else CTLFile.tlv in the first candidate directory that
 * has one. Returns NULL if none. Caller frees. */
char *session_find_ctl(const char *explicit_path, const char *const *dirs, size_t ndirs);

/* The bulk signer's audit (ctx = struct session *): an intent record per output before
 * the batch is renamed into place, one outcome record after (a failed outcome append is
 * kept in audit_failed / audit_err). */
int session_audit_intent(void *ctx, const struct bulk_done *d, size_t n, char *id,
			 struct ctl_err *err);
void session_audit_outcome(void *ctx, const char *id, const struct bulk_done *d, size_t n);
/* The same for stale .sgn files about to be removed (operation "prune"; the outcome
 * says how many were removed). */
int session_audit_intent_prune(void *ctx, const struct bulk_done *d, size_t n, char *id,
			       struct ctl_err *err);
void session_audit_outcome_prune(void *ctx, const char *id, const struct bulk_done *d, size_t n);
/* encrypt's two outputs: the .enc.sgn ("encrypt") and the minimal .sgn ("sign"). */
int session_audit_intent2(struct session *s, const struct bulk_done d[2], char *id,
			  struct ctl_err *err);
/* One audit line. */
int session_audit(struct session *s, const char *operation, const char *output,
		  const uint8_t *data, size_t len, const char *result, const char *detail,
		  struct ctl_err *err);

#endif
