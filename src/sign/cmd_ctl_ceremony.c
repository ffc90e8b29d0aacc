/* cmd_ctl_ceremony.c - the token ceremony of `ctlsign ctl create|update` on the officer's
 * terminal: the callbacks of tokens/ceremony.h (wait for a token to be inserted or pulled
 * out, ask, say) and the yes/no question. Terminal code, so it lives with the commands,
 * not in the officer library (officer/ never reads stdin). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_ctl.h"

struct tty_ctx {
	struct token_module *m;
	int timeout_ms;
	const struct ctl_file *cur;
};

/* While a token is being pulled out or pushed in, reading the slots can fail once
 * (seen with SoftHSM when a token directory moves): such a token error is retried a few
 * times before it ends the ceremony. */
#define TTY_WAIT_RETRIES 3

static int tty_wait_one(void *ctx, struct token_info *out, struct ctl_err *err)
{
	struct tty_ctx *t = ctx;
	int rc = CTL_E_TOKEN;

	for (int i = 0; i <= TTY_WAIT_RETRIES && rc == CTL_E_TOKEN; i++) {
		if (i)
			usleep(200 * 1000);
		rc = token_wait_one(t->m, t->timeout_ms, out, err);
	}
	return rc;
}

static int tty_wait_removed(void *ctx, const struct token_info *ti, struct ctl_err *err)
{
	struct tty_ctx *t = ctx;
	int rc = CTL_E_TOKEN;

	for (int i = 0; i <= TTY_WAIT_RETRIES && rc == CTL_E_TOKEN; i++) {
		if (i)
			usleep(200 * 1000);
		rc = token_wait_removed(t->m, ti, t->timeout_ms, err);
	}
	return rc;
}

int ctlcmd_ask_yes_no(const char *q)
{
	char line[64];

	fprintf(stderr, "%s [y/N] ", q);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return -1;
	for (char *p = line; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	line[strcspn(line, "\r\n")] = 0;
	return !strcmp(line, "y") || !strcmp(line, "yes");
}

int ctlcmd_confirm_publish(bool yes, const char *kind, const char *shown, size_t ndirs,
			   struct ctl_err *err)
{
	char q[128];

	if (yes)
		return CTL_OK;
	if (!isatty(STDIN_FILENO))
		return ctl_fail(err, CTL_E_USAGE, "no terminal to confirm on; check %s above and pass --yes",
				shown);
	snprintf(q, sizeof(q), "Sign this %s and publish it to %zu director%s?", kind, ndirs,
		 ndirs == 1 ? "y" : "ies");
	if (ctlcmd_ask_yes_no(q) != 1)
		return ctl_fail(err, CTL_E_CANCELLED, "not confirmed; nothing was signed or written");
	return CTL_OK;
}

static int tty_ask(void *ctx, const char *q)
{
	(void)ctx;
	return ctlcmd_ask_yes_no(q);
}

static void tty_say(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

static int tty_is_known(void *ctx, const struct token_info *ti)
{
	struct tty_ctx *t = ctx;
	return t->cur && ti->cert &&
	       ctlmake_find_sast(t->cur->records, t->cur->nrecords, ti->cert) >= 0;
}

int ctlcmd_ceremony_tty(struct ceremony *cer, struct token_module *m, int timeout_ms,
			const struct ctl_file *cur, struct ctl_err *err)
{
	struct tty_ctx t = {m, timeout_ms, cur};
	struct ceremony_ops ops = {
		.ctx = &t,
		.wait_one = tty_wait_one,
		.wait_removed = tty_wait_removed,
		.ask = tty_ask,
		.say = tty_say,
		.is_known = tty_is_known,
	};
	int rc;

	cer->ops = &ops;
	rc = ceremony_run(cer, err);
	cer->ops = NULL;
	return rc;
}
