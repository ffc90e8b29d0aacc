/*
 * token.h - security tokens as the rest of ctlsign sees them (SPEC §4.1).
 *
 * A token_module is one loaded PKCS#11 module; a token is one logged-in token with its
 * signing key and certificate, usable as a ctl_signer. The rules (default-password
 * rule, retry counters, PIN policy) are applied here, so no caller can skip them.
 * Everything reports through struct ctl_err with the codes of ctl.h (CTL_E_TOKEN for
 * token faults, CTL_E_POLICY for refusals by a rule, CTL_E_CANCELLED for timeouts).
 */
#ifndef CTL_TOKEN_H
#define CTL_TOKEN_H

#include <stdbool.h>

#include "ctl.h"

#define TOKEN_DEFAULT_FACTORY_PIN "Cisco123"
#define TOKEN_DEFAULT_MIN_PIN_LEN 8
#define TOKEN_MODULE_ENV "CTLSIGN_PKCS11_MODULE"

struct token_module;
struct token;

/* What a slot holds, readable without logging in. */
struct token_info {
	unsigned long slot_id;
	char label[33], manufacturer[33], model[17], serial[17]; /* trimmed, NUL-terminated */
	unsigned long flags;           /* CK_TOKEN_INFO flags (CKF_USER_PIN_*, ...) */
	X509 *cert;                    /* the first certificate on the token (owned), or NULL */
	char cert_sha1[41];            /* its SHA-1 fingerprint, hex, or "" */
};
void token_info_clear(struct token_info *ti);

/* path NULL: $CTLSIGN_PKCS11_MODULE, else p11-kit's proxy module. */
int token_module_open(const char *path, struct token_module **out, struct ctl_err *err);
void token_module_close(struct token_module *m);

/* Lists the slots that hold a token (fresh read each call). Free with token_infos_free. */
int token_module_list(struct token_module *m, struct token_info **out, size_t *n,
		      struct ctl_err *err);
void token_infos_free(struct token_info *v, size_t n);

struct token_opts {
	const char *uri;          /* RFC 7512 "pkcs11:token=...;object=...?pin-source=..." or NULL (the only token) */
	const char *pin;          /* "env:VAR", "file:PATH", "fd:N", NULL: URI pin-source, else no-echo prompt */
	bool final_try;           /* allow logging in when the token says FINAL_TRY */
	const char *factory_pin;  /* NULL: TOKEN_DEFAULT_FACTORY_PIN */
};

/* Selects the token, reads the PIN, checks the retry flags, logs in, finds the key pair
 * and certificate (the URI's object/id, else the only pair on the token) and applies the
 * default-password rule. The PIN is wiped before return. */
int token_open(struct token_module *m, const struct token_opts *o, struct token **out,
	       struct ctl_err *err);
void token_close(struct token *t);

/* The signer: RSA PKCS#1 v1.5 on the token. Callable from several threads at once
 * (each call uses its own PKCS#11 session). Token removal -> CTL_E_TOKEN with a message
 * saying the token was removed. */
const struct ctl_signer *token_signer(struct token *t);
X509 *token_cert(const struct token *t);            /* not owned by the caller */
const struct token_info *token_get_info(const struct token *t);

/* The default-password rule on its own: CTL_E_POLICY naming `ctlsign token passwd`
 * when the token reports CKF_USER_PIN_TO_BE_CHANGED or the PIN is the factory default. */
int token_check_not_default(const struct token_info *ti, const char *pin,
			    const char *factory_pin, struct ctl_err *err);

/* Insert/remove events: pcsc-lite for smart-card modules with readers, slot polling
 * otherwise. token_wait_one waits until exactly one token is present (two or more:
 * CTL_E_POLICY "remove one"), token_wait_removed until the given token is gone.
 * timeout_ms < 0 waits forever; expiry is CTL_E_CANCELLED. */
int token_wait_one(struct token_module *m, int timeout_ms, struct token_info *out,
		   struct ctl_err *err);
int token_wait_removed(struct token_module *m, const struct token_info *ti, int timeout_ms,
		       struct ctl_err *err);

#endif
