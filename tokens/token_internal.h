/* token_internal.h - what the tokens/ files share; not for callers. */
#ifndef CTL_TOKEN_INTERNAL_H
#define CTL_TOKEN_INTERNAL_H

#include "p11.h"
#include "p11_uri.h"
#include "token.h"

struct token_module {
	struct p11_module *p;
	int pcsc;                 /* -1 unknown, 0 poll, 1 pcsc-lite events */
};

struct token {
	struct token_module *m;
	struct token_info info;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE login;  /* kept open: holds the login state for all sessions */
	CK_OBJECT_HANDLE key;
	struct p11_pool *pool;
	int key_bits;
	struct ctl_signer signer;
};

/* Fills ti from the slot (fresh C_GetTokenInfo, first certificate). */
int token_read_info(struct token_module *m, CK_SLOT_ID slot, struct token_info *ti,
		    struct ctl_err *err);
bool token_same_physical(const struct token_info *a, const struct token_info *b);
/* Distinct physical tokens among v[idx[0..nidx)]. */
size_t token_count_physical(const struct token_info *v, size_t n, const size_t *idx, size_t nidx);
/* Selects by parsed URI (NULL: the only initialised token). */
int token_select_uri(struct token_module *m, const struct p11_uri *u, struct token_info *out,
		     struct ctl_err *err);
/* The login part of token_open: retry flags, PIN, C_Login on a session kept in *login.
 * pin_out (optional) receives the PIN (caller frees with token_pin_free). */
int token_login(struct token_module *m, const struct token_info *ti, const struct token_opts *o,
		const struct p11_uri *u, bool rw, CK_SESSION_HANDLE *login, char **pin_out,
		struct ctl_err *err);
/* The PIN from o->pin, else the URI's pin-source, else a prompt "WHAT for token ...". */
int token_read_pin(const struct token_info *ti, const struct token_opts *o,
		   const struct p11_uri *u, const char *what, char **pin, struct ctl_err *err);
/* C_Login on a new session with this PIN; wrong PIN reported with the flags now. */
int token_login_pin(struct token_module *m, const struct token_info *ti, const char *pin,
		    bool rw, CK_SESSION_HANDLE *login, struct ctl_err *err);
void token_logout(struct token_module *m, CK_SESSION_HANDLE login);
/* Makes room for new objects labelled label on the logged-in session s of token ti:
 * none there is fine; existing key or certificate objects with that label are refused
 * (CTL_E_POLICY) unless force, then destroyed. */
int token_clear_label(struct token_module *m, CK_SESSION_HANDLE s, const struct token_info *ti,
		      const char *label, bool force, struct ctl_err *err);

/* What to do about a locked token, in practice: eTokens rarely have an SO PIN set, so a
 * locked SAST token is replaced, not unblocked. Follows "... is locked". */
#define TOKEN_LOCKED_ADVICE                                                                  \
	"only its SO (administrator) PIN can unblock it, which eTokens rarely have: in "     \
	"practice take a new token, add it with 'ctlsign ctl update --token OTHER "          \
	"--add-token NEW' signed by your other SAST token, then remove this one with "       \
	"'ctlsign ctl delete-token --token OTHER' and its certificate's serial"

#endif
