/* ceremony.c - see ceremony.h */
#include "ceremony.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ceremony_info_copy(struct token_info *dst, const struct token_info *src)
{
	*dst = *src;
	if (dst->cert)
		X509_up_ref(dst->cert);
}

void ceremony_info_clear(struct token_info *ti)
{
	X509_free(ti->cert);
	memset(ti, 0, sizeof(*ti));
}

void ceremony_init(struct ceremony *c, int mode, const struct ceremony_ops *ops)
{
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->ops = ops;
	c->min_tokens = mode == CEREMONY_CREATE ? 2 : 0;
}

void ceremony_free(struct ceremony *c)
{
	for (size_t i = 0; i < c->nadded; i++)
		ceremony_info_clear(&c->added[i]);
	free(c->added);
	c->added = NULL;
	c->nadded = 0;
	if (c->have_signer)
		ceremony_info_clear(&c->signer);
	c->have_signer = false;
}

static bool same_token(const struct token_info *a, const struct token_info *b)
{
	if (a->serial[0] && !strcmp(a->serial, b->serial))
		return true;
	if (a->cert && b->cert && !X509_cmp(a->cert, b->cert))
		return true;
	return a->cert_sha1[0] && !strcmp(a->cert_sha1, b->cert_sha1);
}

bool ceremony_is_duplicate(const struct ceremony *c, const struct token_info *ti)
{
	for (size_t i = 0; i < c->nadded; i++)
		if (same_token(&c->added[i], ti))
			return true;
	return false;
}

int ceremony_add(struct ceremony *c, const struct token_info *ti, bool *dup, struct ctl_err *err)
{
	struct token_info *v;

	*dup = false;
	if (!ti->cert)
		return ctl_fail(err, CTL_E_POLICY,
				"token '%s' (serial %s) holds no certificate; provision it first (ctlsign token provision)",
				ti->label, ti->serial);
	/* The default-password rule as far as it can be seen without a login: a token that
	 * says its PIN must be changed takes no part (the PIN itself is checked at login). */
	if (token_check_not_default(ti, NULL, NULL, err) != CTL_OK)
		return err->code;
	if (ceremony_is_duplicate(c, ti)) {
		*dup = true;
		return CTL_OK;
	}
	if (!(v = realloc(c->added, (c->nadded + 1) * sizeof(*v))))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	c->added = v;
	ceremony_info_copy(&v[c->nadded++], ti);
	return CTL_OK;
}

int ceremony_check_count(const struct ceremony *c, struct ctl_err *err)
{
	if (c->nadded < c->min_tokens)
		return ctl_fail(err, CTL_E_POLICY,
				"the CTL needs at least %zu different security tokens; %zu given (the same token twice counts once)",
				c->min_tokens, c->nadded);
	return CTL_OK;
}

void ceremony_describe(const struct token_info *ti, char *buf, size_t n)
{
	char *subject = ti->cert ? ctl_name_string(X509_get_subject_name(ti->cert)) : NULL;

	if (ti->cert)
		snprintf(buf, n, "label '%s', serial %s, certificate %s, SHA-1 %s", ti->label,
			 ti->serial, subject ? subject : "?", ti->cert_sha1);
	else
		snprintf(buf, n, "label '%s', serial %s, no certificate", ti->label, ti->serial);
	free(subject);
}

static void sayf(const struct ceremony *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sayf(const struct ceremony *c, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->ops->say(c->ops->ctx, line);
}

/* Waits for exactly one token, asking to remove extra ones. */
static int wait_one(struct ceremony *c, struct token_info *ti, struct ctl_err *err)
{
	for (;;) {
		int rc = c->ops->wait_one(c->ops->ctx, ti, err);

		if (rc != CTL_E_POLICY)
			return rc;
		sayf(c, "%s: present one token at a time; remove the other one.", err->msg);
	}
}

static bool was_added(const struct ceremony *c, const struct token_info *ti)
{
	return ceremony_is_duplicate(c, ti);
}

static int is_known(const struct ceremony *c, const struct token_info *ti)
{
	return c->ops->is_known && ti->cert && c->ops->is_known(c->ops->ctx, ti) == 1;
}

/* What the ceremony does with the token present after one step. */
enum step {
	STEP_NEXT,   /* go on to offer_finish */
	STEP_REMOVE, /* ask for the token's removal, then wait for the next */
	STEP_FINISH, /* it signs: the ceremony is done */
	STEP_CANCEL, /* the officer cancelled */
	STEP_FAIL,   /* an error (*rc) */
};

static void say_insert(struct ceremony *c, bool authorized)
{
	if (!authorized)
		sayf(c, "Insert a security token that is already in the current CTL.");
	else if (c->mode == CEREMONY_CREATE && !c->nadded)
		sayf(c, "Insert the first security token.");
	else
		sayf(c, "Insert the next security token.");
}

/* The token inserted: authorizes the update (first, for an update), or is added if it
 * can be and the officer agrees. */
static enum step judge_token(struct ceremony *c, struct token_info *ti, bool *authorized,
			     int *rc, struct ctl_err *err)
{
	bool dup;
	int ans;

	if (!*authorized) {
		if (!is_known(c, ti)) {
			sayf(c, "This token is not in the current CTL and cannot authorize an update.");
			return STEP_REMOVE;
		}
		*authorized = true;
		sayf(c, "The token is in the current CTL: update authorized.");
		return c->authorize_only ? STEP_FINISH : STEP_NEXT;
	}
	if (!ti->cert) {
		sayf(c, "This token holds no certificate and cannot be a SAST; provision it first.");
		return STEP_REMOVE;
	}
	if (is_known(c, ti)) {
		sayf(c, "This token is already in the current CTL.");
		return STEP_NEXT;
	}
	if (was_added(c, ti)) {
		sayf(c, "This token was already added; the same token counts once.");
		return STEP_NEXT;
	}
	ans = c->ops->ask(c->ops->ctx, "Add this token to the CTL?");
	if (ans < 0)
		return STEP_CANCEL;
	if (ans == 1) {
		if ((*rc = ceremony_add(c, ti, &dup, err)) != CTL_OK)
			return STEP_FAIL;
		sayf(c, "Added; %zu token%s so far.", c->nadded, c->nadded == 1 ? "" : "s");
	}
	return STEP_NEXT;
}

/* Enough tokens and one present that may sign: the officer may finish; else what is
 * still needed. */
static enum step offer_finish(struct ceremony *c, const struct token_info *ti)
{
	bool enough = c->nadded >= c->min_tokens;
	bool can_sign = c->mode == CEREMONY_CREATE ? was_added(c, ti) : is_known(c, ti);
	int ans;

	if (enough && can_sign) {
		ans = c->ops->ask(c->ops->ctx,
				  "Add another token? (no: finish and sign the CTL with this token)");
		if (ans < 0)
			return STEP_CANCEL;
		if (ans == 0)
			return STEP_FINISH;
	} else if (enough) {
		sayf(c, "To finish, insert a token %s: the CTL is signed by the token present at the end.",
		     c->mode == CEREMONY_CREATE ? "that was added" : "that is in the current CTL");
	} else {
		sayf(c, "%zu more token%s needed (two-token rule).", c->min_tokens - c->nadded,
		     c->min_tokens - c->nadded == 1 ? " is" : "s are");
	}
	return STEP_REMOVE;
}

int ceremony_run(struct ceremony *c, struct ctl_err *err)
{
	bool authorized = c->mode != CEREMONY_UPDATE;
	char desc[600];
	int rc;

	for (;;) {
		struct token_info ti = {0};
		enum step s;

		say_insert(c, authorized);
		if ((rc = wait_one(c, &ti, err)) != CTL_OK)
			return rc;
		ceremony_describe(&ti, desc, sizeof(desc));
		sayf(c, "Found token: %s", desc);
		s = judge_token(c, &ti, &authorized, &rc, err);
		if (s == STEP_NEXT)
			s = offer_finish(c, &ti);
		switch (s) {
		case STEP_FINISH:
			c->signer = ti;
			c->have_signer = true;
			return CTL_OK;
		case STEP_FAIL:
			ceremony_info_clear(&ti);
			return rc;
		case STEP_CANCEL:
			ceremony_info_clear(&ti);
			return ctl_fail(err, CTL_E_CANCELLED, "ceremony cancelled: nothing was signed or written");
		default:
			break;
		}
		sayf(c, "Remove the token.");
		rc = c->ops->wait_removed(c->ops->ctx, &ti, err);
		ceremony_info_clear(&ti);
		if (rc != CTL_OK)
			return rc;
	}
}

/* Percent-decodes s[0..n) into out (size cap); false if malformed or too long. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '%') {
			char hx[3];

			if (i + 2 >= n)
				return false;
			if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
				return false;
			hx[0] = s[i + 1];
			hx[1] = s[i + 2];
			hx[2] = 0;
			ch = (char)strtol(hx, NULL, 16);
			i += 2;
		}
		if (k + 1 >= cap)
			return false;
		out[k++] = ch;
	}
	out[k] = 0;
	return true;
}

bool ceremony_uri_matches(const char *uri, const struct token_info *ti)
{
	const char *p, *end;

	if (!uri || strncmp(uri, "pkcs11:", 7))
		return false;
	p = uri + 7;
	end = p + strcspn(p, "?");
	while (p < end) {
		size_t alen = strcspn(p, ";?");
		const char *eq = memchr(p, '=', alen);
		char val[128];

		if (p + alen > end)
			alen = (size_t)(end - p);
		if (eq) {
			size_t nlen = (size_t)(eq - p);

			if (!pct_decode(eq + 1, alen - nlen - 1, val, sizeof(val)))
				return false;
#define ATTR(name) (nlen == sizeof(name) - 1 && !strncmp(p, name, nlen))
			if (ATTR("token") && strcmp(val, ti->label))
				return false;
			if (ATTR("serial") && strcmp(val, ti->serial))
				return false;
			if (ATTR("manufacturer") && strcmp(val, ti->manufacturer))
				return false;
			if (ATTR("model") && strcmp(val, ti->model))
				return false;
			if (ATTR("slot-id")) {
				char *e;
				unsigned long id = strtoul(val, &e, 10);

				if (*e || id != ti->slot_id)
					return false;
			}
#undef ATTR
		}
		p += alen;
		if (p < end && *p == ';')
			p++;
	}
	return true;
}
