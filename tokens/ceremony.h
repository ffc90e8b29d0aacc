/*
 * ceremony.h - the insert-one-token-at-a-time ceremony of SPEC §4.2/§4.3 as a state
 * machine over token events, so that it can be driven by real tokens (token_wait_one /
 * token_wait_removed) or by a fake in tests.
 *
 * create: tokens are presented one at a time and added on the officer's word; the same
 *   token twice (same token serial or same certificate) counts once; at least two are
 *   needed; the token present when the officer finishes signs and must be one added.
 * update: first a token whose SAST record is in the current CTL must be presented (else
 *   it is refused and another asked for); then more tokens may be added; the token present
 *   at the end signs and must be in the current CTL (phones holding the current CTL accept
 *   only a CTL signed by one of its SASTs), so another is asked for if it is not.
 */
#ifndef CTL_CEREMONY_H
#define CTL_CEREMONY_H

#include <stdbool.h>
#include <stddef.h>

#include "token.h"

struct ceremony_ops {
	void *ctx;
	/* Waits until exactly one token is present and describes it. Two or more present:
	 * CTL_E_POLICY (the ceremony asks to remove one and waits again). */
	int (*wait_one)(void *ctx, struct token_info *out, struct ctl_err *err);
	int (*wait_removed)(void *ctx, const struct token_info *ti, struct ctl_err *err);
	/* A yes/no question: 1 yes, 0 no, negative: no answer (end of input). */
	int (*ask)(void *ctx, const char *question);
	/* One line of text for the officer. */
	void (*say)(void *ctx, const char *line);
	/* update: 1 if the token's certificate is a SAST record of the current CTL. */
	int (*is_known)(void *ctx, const struct token_info *ti);
};

enum ceremony_mode { CEREMONY_CREATE = 1, CEREMONY_UPDATE };

struct ceremony {
	int mode;
	const struct ceremony_ops *ops;
	size_t min_tokens;          /* create: 2 (the two-token rule) */
	bool authorize_only;        /* update: stop after the authorizing token (it signs) */
	struct token_info *added;   /* tokens added, in the order presented (owned copies) */
	size_t nadded;
	struct token_info signer;   /* the token present at the end (owned copy) */
	bool have_signer;
};

void ceremony_init(struct ceremony *c, int mode, const struct ceremony_ops *ops);
void ceremony_free(struct ceremony *c);

/* Runs the whole ceremony. On success the signer is present (inserted) and described in
 * c->signer. CTL_E_CANCELLED when the officer gives up or input ends. */
int ceremony_run(struct ceremony *c, struct ctl_err *err);

/* The rules, shared with the non-interactive path: */
/* 1 if ti is the same token as one already added (same serial or same certificate). */
bool ceremony_is_duplicate(const struct ceremony *c, const struct token_info *ti);
/* Adds a copy of ti; CTL_E_POLICY if it has no certificate. A duplicate is not added
 * (returns CTL_OK and sets *dup). */
int ceremony_add(struct ceremony *c, const struct token_info *ti, bool *dup, struct ctl_err *err);
/* Two-token rule: CTL_E_POLICY if fewer than min_tokens distinct tokens were added. */
int ceremony_check_count(const struct ceremony *c, struct ctl_err *err);

/* Copies a token_info (the certificate is shared by reference count). */
void ceremony_info_copy(struct token_info *dst, const struct token_info *src);
void ceremony_info_clear(struct token_info *ti);
/* "label 'L', serial S, certificate CN=..., SHA-1 ab12..." */
void ceremony_describe(const struct token_info *ti, char *buf, size_t n);

/* 1 if an RFC 7512 URI's token attributes (token, serial, manufacturer, model, slot-id)
 * all match ti; attributes about objects (object, id, type) and queries are ignored. */
bool ceremony_uri_matches(const char *uri, const struct token_info *ti);

#endif
