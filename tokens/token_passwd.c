/* token_passwd.c - changing the user PIN (SPEC §4.1). */
#include "token_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW_PIN_TRIES 3

/* The new PIN: from src (automation: the policy refuses at once), else asked on the
 * terminal and confirmed. At the terminal a PIN the policy refuses, or a confirmation
 * that differs, asks again (the reason shown above the next prompt), NEW_PIN_TRIES
 * times in all: then the policy's refusal (CTL_E_POLICY), or for differing
 * confirmations CTL_E_CANCELLED. The policy runs before any login: a refused new PIN
 * costs no PIN try. */
static int read_new_pin(const struct token_info *ti, const struct token_opts *o,
			const char *src, const char *cur, size_t min_len, char **out,
			struct ctl_err *err)
{
	char prompt[700], why[sizeof(err->msg)] = "", *again = NULL;
	int rc = CTL_OK;

	*out = NULL;
	if (src) {
		if ((rc = token_pin_read(src, false, NULL, out, err)) != CTL_OK)
			return rc;
		rc = token_pin_policy_for(ti->label, cur, *out, o->factory_pin, min_len,
					  ti->min_pin_len, ti->max_pin_len, err);
		goto done;
	}
	for (int attempt = 1; attempt <= NEW_PIN_TRIES; attempt++) {
		if (why[0])
			snprintf(prompt, sizeof(prompt), "%s; try again (%d of %d)\nnew PIN for token '%s': ",
				 why, attempt, NEW_PIN_TRIES, ti->label);
		else
			snprintf(prompt, sizeof(prompt), "new PIN for token '%s': ", ti->label);
		if ((rc = token_pin_read(NULL, false, prompt, out, err)) != CTL_OK)
			return rc;
		rc = token_pin_policy_for(ti->label, cur, *out, o->factory_pin, min_len,
					  ti->min_pin_len, ti->max_pin_len, err);
		if (rc != CTL_OK) {
			snprintf(why, sizeof(why), "%s", err->msg);
			token_pin_free(*out);
			*out = NULL;
			continue;
		}
		snprintf(prompt, sizeof(prompt), "new PIN for token '%s' again: ", ti->label);
		if ((rc = token_pin_read(NULL, false, prompt, &again, err)) != CTL_OK)
			goto done;
		if (strcmp(*out, again) == 0) {
			token_pin_free(again);
			return CTL_OK;
		}
		token_pin_free(again);
		again = NULL;
		token_pin_free(*out);
		*out = NULL;
		snprintf(why, sizeof(why), "the two new PINs for token '%s' differ", ti->label);
		rc = ctl_fail(err, CTL_E_CANCELLED,
			      "the two new PINs for token '%s' differed %d times; nothing changed",
			      ti->label, NEW_PIN_TRIES);
	}
	return rc;
done:
	if (rc != CTL_OK) {
		token_pin_free(*out);
		*out = NULL;
	}
	return rc;
}

int token_passwd(struct token_module *m, const struct token_opts *o, const char *new_pin_src,
		 size_t min_len, struct ctl_err *err)
{
	struct p11_uri u, *up = NULL;
	struct token_info ti;
	char *cur = NULL, *new_pin = NULL;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv;
	int rc;

	memset(&ti, 0, sizeof(ti));
	if (o->uri) {
		if ((rc = p11_uri_parse(o->uri, &u, err)) != CTL_OK)
			return rc;
		up = &u;
	}
	if ((rc = token_select_uri(m, up, &ti, err)) != CTL_OK)
		goto out;
	if ((rc = token_check_retry_flags(&ti, o->final_try, err)) != CTL_OK)
		goto out;
	if ((rc = token_read_pin(&ti, o, up, "current PIN", &cur, err)) != CTL_OK)
		goto out;
	/* The policy before the login: a refused new PIN costs no try. */
	if ((rc = read_new_pin(&ti, o, new_pin_src, cur, min_len, &new_pin, err)) != CTL_OK)
		goto out;
	if ((rc = token_login_pin(m, &ti, cur, true, &s, err)) != CTL_OK)
		goto out;
	rv = m->p->fl->C_SetPIN(s, (CK_UTF8CHAR *)cur, (CK_ULONG)strlen(cur),
				(CK_UTF8CHAR *)new_pin, (CK_ULONG)strlen(new_pin));
	if (rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE)
		rc = ctl_fail(err, CTL_E_POLICY, "token '%s' refuses the new PIN (%s); nothing changed",
			      ti.label, p11_rv_name(rv));
	else if (rv == CKR_PIN_INCORRECT)
		rc = ctl_fail(err, CTL_E_TOKEN, "wrong current PIN for token '%s'", ti.label);
	else if (p11_rv_removed(rv))
		rc = ctl_fail(err, CTL_E_TOKEN, "token '%s' was removed; the PIN may not have changed",
			      ti.label);
	else if (rv != CKR_OK)
		rc = ctl_fail(err, CTL_E_TOKEN, "token '%s' could not change the PIN: %s", ti.label,
			      p11_rv_name(rv));
out:
	token_logout(m, s);
	token_pin_free(cur);
	token_pin_free(new_pin);
	token_info_clear(&ti);
	if (up)
		p11_uri_clear(up);
	return rc;
}
