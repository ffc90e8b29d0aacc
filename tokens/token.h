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
	unsigned long min_pin_len, max_pin_len; /* the token's ulMinPinLen / ulMaxPinLen */
};
void token_info_clear(struct token_info *ti);

/* path NULL: $CTLSIGN_PKCS11_MODULE, else p11-kit's proxy module. */
int token_module_open(const char *path, struct token_module **out, struct ctl_err *err);
void token_module_close(struct token_module *m);

/* Lists the slots that hold a token (fresh C_GetSlotList/C_GetTokenInfo each call;
 * uninitialised tokens are listed too, flags without TOKEN_F_INITIALIZED). SoftHSM reads
 * its token store only when loaded: token_wait_* reload the module when polling. Free
 * with token_infos_free. */
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
 * timeout_ms < 0 waits forever; expiry is CTL_E_CANCELLED. Several slots of one
 * physical token (same serial, e.g. OpenSC's two slots of an OpenPGP card) count once.
 * Polling reloads the module between polls, which is skipped while a struct token of
 * this module is open: close tokens before waiting. */
int token_wait_one(struct token_module *m, int timeout_ms, struct token_info *out,
		   struct ctl_err *err);
int token_wait_removed(struct token_module *m, const struct token_info *ti, int timeout_ms,
		       struct ctl_err *err);

/* The CK_TOKEN_INFO flags callers look at (same values as PKCS#11's CKF_*), so that
 * callers need no PKCS#11 header. */
#define TOKEN_F_INITIALIZED 0x00000400UL    /* CKF_TOKEN_INITIALIZED */
#define TOKEN_F_PIN_COUNT_LOW 0x00010000UL  /* CKF_USER_PIN_COUNT_LOW */
#define TOKEN_F_PIN_FINAL_TRY 0x00020000UL  /* CKF_USER_PIN_FINAL_TRY */
#define TOKEN_F_PIN_LOCKED 0x00040000UL     /* CKF_USER_PIN_LOCKED */
#define TOKEN_F_PIN_TO_BE_CHANGED 0x00080000UL /* CKF_USER_PIN_TO_BE_CHANGED */

/* ---- the pieces the ctlsign token commands use ---- */

/* The token's own rule on retry flags before a login: CKF_USER_PIN_LOCKED ->
 * CTL_E_TOKEN (the security officer must unblock it); CKF_USER_PIN_FINAL_TRY without
 * final_try -> CTL_E_POLICY (rerun with --final-try). */
int token_check_retry_flags(const struct token_info *ti, bool final_try, struct ctl_err *err);
/* "initialised, to-be-changed, count-low, final-try, locked" as applicable, or "none". */
void token_flags_text(unsigned long flags, char *buf, size_t len);

/* PIN sources: "env:VAR", "file:PATH", "fd:N"; with uri_style (an RFC 7512
 * pin-source) also a plain path and "file:///path". */
enum token_pin_kind { TOKEN_PIN_ENV = 1, TOKEN_PIN_FILE, TOKEN_PIN_FD };
struct token_pin_source {
	int kind;              /* enum token_pin_kind */
	const char *value;     /* points into the spec: variable name or path */
	int fd;
};
int token_pin_source_parse(const char *spec, bool uri_style, struct token_pin_source *out,
			   struct ctl_err *err);
/* Reads a PIN from spec (NULL: no-echo prompt on the terminal with `prompt`). The
 * first line, without its line end. Free with token_pin_free (wipes). */
int token_pin_read(const char *spec, bool uri_style, const char *prompt, char **pin,
		   struct ctl_err *err);
void token_pin_free(char *pin);

/* The new-PIN policy: differs from the current PIN and from the factory default,
 * at least max(min_len, token min) and at most the token max (0: no limit) long, not
 * trivial (one character repeated, an ascending or descending run such as 12345678 or
 * 87654321) and not the token's label (any case). CTL_E_POLICY saying which rule failed
 * and naming the token. token_pin_policy: the same without a label. */
int token_pin_policy_for(const char *label, const char *cur, const char *new_pin,
			 const char *factory_pin, size_t min_len, unsigned long tok_min,
			 unsigned long tok_max, struct ctl_err *err);
int token_pin_policy(const char *cur, const char *new_pin, const char *factory_pin,
		     size_t min_len, unsigned long tok_min, unsigned long tok_max,
		     struct ctl_err *err);

/* What `ctlsign token list` shows for one key/certificate pair. */
struct token_object {
	char *label;
	char *id_hex;
	bool has_private, has_public;
	const char *key_type;   /* "RSA", "EC", "?" */
	int key_bits;
	X509 *cert;             /* owned, or NULL */
};
/* Objects on the token of ti. login_opts non-NULL: log in first (retry flags checked,
 * default-password rule NOT applied) so that private objects show. */
int token_list_objects(struct token_module *m, const struct token_info *ti,
		       const struct token_opts *login_opts, struct token_object **out, size_t *n,
		       struct ctl_err *err);
void token_objects_free(struct token_object *v, size_t n);

/* Changes the user PIN (C_SetPIN). new_pin_src NULL: prompt twice. min_len 0: default. */
int token_passwd(struct token_module *m, const struct token_opts *o, const char *new_pin_src,
		 size_t min_len, struct ctl_err *err);

/* Labs/CI: RSA key pair generated on the token, self-signed certificate stored next to
 * it with the same CKA_ID and label. The default-password rule does not apply. */
struct token_provision_opts {
	unsigned bits;          /* 1024..4096, 0: 2048 */
	const char *subject;    /* "CN=SAST-1,O=Example Corp,OU=Voice" (certificate order) */
	unsigned years;         /* 0: 10 */
	const char *label;      /* NULL: the URI's object=, else "sast" */
	bool force;             /* replace objects with that label */
};
int token_provision(struct token_module *m, const struct token_opts *o,
		    const struct token_provision_opts *p, X509 **cert_out, struct ctl_err *err);

/* An existing RSA key and its certificate (PEM or DER files) stored on the token: the
 * key sensitive, not extractable, private, a token object, for signing only; the
 * certificate beside it with the same CKA_ID (SHA-1 of the public key) and label. A key
 * that does not belong to the certificate: CTL_E_POLICY before the token is touched.
 * The retry flags and the default-password rule apply. After creating the objects the
 * key's attributes are read back and a test signature is checked against the
 * certificate; on any failure what was created is removed again. */
struct token_import_opts {
	const char *key_path, *cert_path;
	const char *label;      /* NULL: the URI's object=, else the certificate's CN */
	bool force;             /* replace objects with that label */
};
struct token_import_result {
	char token_label[33], object_label[128];
	int bits;
	X509 *cert;             /* owned by the caller */
};
int token_import(struct token_module *m, const struct token_opts *o,
		 const struct token_import_opts *p, struct token_import_result *res,
		 struct ctl_err *err);

/* Token selection by URI (o->uri, NULL: the only initialised token): the slot's info.
 * No token / several: CTL_E_TOKEN listing what is present. */
int token_select(struct token_module *m, const char *uri, struct token_info *out,
		 struct ctl_err *err);

#endif
