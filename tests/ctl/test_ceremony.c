/* test_ceremony.c - the token ceremony driven by a scripted fake: which token is
 * inserted when, what the officer answers. Certificates are the test vectors'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony.h"

#define VEC CTL_TEST_DATA "/vectors/"

/* Script: events returned by wait_one, in order: a token index, TWO (two inserted), or
 * END (script ran out: the fake returns CTL_E_CANCELLED). Answers likewise. */
enum { TWO = -1, END = -2 };

struct fake {
	struct token_info tok[4];
	const int *events;
	const int *answers;
	size_t ev, an;
	int removed;          /* wait_removed calls */
	int two_seen;
	int known_mask;       /* bit i: token i is in the current CTL */
	char log[8192];
};

static int f_wait_one(void *ctx, struct token_info *out, struct ctl_err *err)
{
	struct fake *f = ctx;
	int e = f->events[f->ev];

	if (e == END)
		return ctl_fail(err, CTL_E_CANCELLED, "timed out waiting for a token");
	f->ev++;
	if (e == TWO) {
		f->two_seen++;
		return ctl_fail(err, CTL_E_POLICY, "2 tokens are inserted");
	}
	ceremony_info_copy(out, &f->tok[e]);
	return CTL_OK;
}

static int f_wait_removed(void *ctx, const struct token_info *ti, struct ctl_err *err)
{
	struct fake *f = ctx;
	(void)ti;
	(void)err;
	f->removed++;
	return CTL_OK;
}

static int f_ask(void *ctx, const char *q)
{
	struct fake *f = ctx;
	int a = f->answers[f->an];

	strncat(f->log, "? ", sizeof(f->log) - strlen(f->log) - 1);
	strncat(f->log, q, sizeof(f->log) - strlen(f->log) - 1);
	strncat(f->log, "\n", sizeof(f->log) - strlen(f->log) - 1);
	if (a == END)
		return -1;
	f->an++;
	return a;
}

static void f_say(void *ctx, const char *line)
{
	struct fake *f = ctx;
	strncat(f->log, line, sizeof(f->log) - strlen(f->log) - 1);
	strncat(f->log, "\n", sizeof(f->log) - strlen(f->log) - 1);
}

static int f_known(void *ctx, const struct token_info *ti)
{
	struct fake *f = ctx;
	for (int i = 0; i < 4; i++)
		if ((f->known_mask & (1 << i)) && f->tok[i].cert && ti->cert &&
		    !X509_cmp(f->tok[i].cert, ti->cert))
			return 1;
	return 0;
}

static void set_tok(struct token_info *t, const char *label, const char *serial, const char *crt)
{
	struct ctl_err err = {0};

	memset(t, 0, sizeof(*t));
	snprintf(t->label, sizeof(t->label), "%s", label);
	snprintf(t->serial, sizeof(t->serial), "%s", serial);
	if (crt) {
		char *fp;
		t->cert = ctl_cert_load(crt, &err);
		assert_non_null(t->cert);
		fp = ctl_cert_fingerprint(t->cert, CTL_HASH_SHA1);
		assert_non_null(fp);
		snprintf(t->cert_sha1, sizeof(t->cert_sha1), "%s", fp);
		free(fp);
	}
}

/* tokens: 0 = sast1, 1 = sast2, 2 = ccm cert on another serial, 3 = no certificate */
static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	set_tok(&f->tok[0], "SAST-1", "1111", VEC "sast1.crt");
	set_tok(&f->tok[1], "SAST-2", "2222", VEC "sast2.crt");
	set_tok(&f->tok[2], "SAST-3", "3333", VEC "ccm.crt");
	set_tok(&f->tok[3], "EMPTY", "4444", NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	for (int i = 0; i < 4; i++)
		ceremony_info_clear(&f->tok[i]);
	free(f);
	return 0;
}

static struct ceremony_ops ops_for(struct fake *f)
{
	struct ceremony_ops o = {f, f_wait_one, f_wait_removed, f_ask, f_say, f_known};
	return o;
}

static int run(struct fake *f, int mode, const int *ev, const int *ans, struct ceremony *c,
	       struct ctl_err *err)
{
	static struct ceremony_ops o;

	o = ops_for(f);
	f->events = ev;
	f->answers = ans;
	ceremony_init(c, mode, &o);
	return ceremony_run(c, err);
}

static void create_two_tokens(void **state)
{
	struct fake *f = *state;
	/* insert 0: add? yes; (1 < 2: no finish question) remove; insert 1: add? yes;
	 * another? no -> signer 1 */
	const int ev[] = {0, 1, END}, ans[] = {1, 1, 0, END};
	struct ceremony c;
	struct ctl_err err = {0};

	assert_int_equal(run(f, CEREMONY_CREATE, ev, ans, &c, &err), CTL_OK);
	assert_int_equal(c.nadded, 2);
	assert_string_equal(c.added[0].serial, "1111");
	assert_string_equal(c.added[1].serial, "2222");
	assert_true(c.have_signer);
	assert_string_equal(c.signer.serial, "2222");
	assert_int_equal(f->removed, 1); /* the signer stays inserted */
	assert_non_null(strstr(f->log, "Insert the first security token"));
	assert_non_null(strstr(f->log, "SHA-1 "));
	assert_non_null(strstr(f->log, f->tok[0].cert_sha1));
	assert_non_null(strstr(f->log, "1 more token is needed"));
	ceremony_free(&c);
}

static void create_same_token_twice_counts_once(void **state)
{
	struct fake *f = *state;
	/* 0 yes, 0 again (dup: not asked to add; can sign but not enough), 1 yes, finish */
	const int ev[] = {0, 0, 1, END}, ans[] = {1, 1, 0, END};
	struct ceremony c;
	struct ctl_err err = {0};

	assert_int_equal(run(f, CEREMONY_CREATE, ev, ans, &c, &err), CTL_OK);
	assert_int_equal(c.nadded, 2);
	assert_non_null(strstr(f->log, "counts once"));
	ceremony_free(&c);
}

static void create_same_serial_other_cert_counts_once(void **state)
{
	struct fake *f = *state;
	struct token_info t = {0};
	struct ceremony c;
	struct ctl_err err = {0};
	bool dup;

	ceremony_init(&c, CEREMONY_CREATE, NULL);
	assert_int_equal(ceremony_add(&c, &f->tok[0], &dup, &err), CTL_OK);
	assert_false(dup);
	ceremony_info_copy(&t, &f->tok[1]);
	snprintf(t.serial, sizeof(t.serial), "1111"); /* same token serial, other certificate */
	assert_int_equal(ceremony_add(&c, &t, &dup, &err), CTL_OK);
	assert_true(dup);
	assert_int_equal(ceremony_check_count(&c, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "at least 2"));
	ceremony_info_clear(&t);
	ceremony_free(&c);
}

static void create_two_inserted_at_once(void **state)
{
	struct fake *f = *state;
	const int ev[] = {TWO, TWO, 0, 1, END}, ans[] = {1, 1, 0, END};
	struct ceremony c;
	struct ctl_err err = {0};

	assert_int_equal(run(f, CEREMONY_CREATE, ev, ans, &c, &err), CTL_OK);
	assert_int_equal(f->two_seen, 2);
	assert_non_null(strstr(f->log, "remove the other one"));
	assert_int_equal(c.nadded, 2);
	ceremony_free(&c);
}

static void create_declined_and_no_cert(void **state)
{
	struct fake *f = *state;
	/* 3 (no cert: refused, removed), 0 no (declined), 0 yes, 1 yes, another? yes,
	 * 2 yes, another? no: signer 2, three tokens */
	const int ev[] = {3, 0, 0, 1, 2, END}, ans[] = {0, 1, 1, 1, 1, 0, END};
	struct ceremony c;
	struct ctl_err err = {0};

	assert_int_equal(run(f, CEREMONY_CREATE, ev, ans, &c, &err), CTL_OK);
	assert_non_null(strstr(f->log, "holds no certificate"));
	assert_int_equal(c.nadded, 3);
	assert_string_equal(c.signer.serial, "3333");
	ceremony_free(&c);
}

static void create_finish_needs_added_token(void **state)
{
	struct fake *f = *state;
	/* 0 yes, 1 yes, another? yes; 2 declined -> cannot sign with it: asked to insert an
	 * added one; 0 again (already added) -> another? no: signer 0 */
	const int ev[] = {0, 1, 2, 0, END}, ans[] = {1, 1, 1, 0, 0, END};
	struct ceremony c;
	struct ctl_err err = {0};

	assert_int_equal(run(f, CEREMONY_CREATE, ev, ans, &c, &err), CTL_OK);
	assert_non_null(strstr(f->log, "insert a token that was added"));
	assert_int_equal(c.nadded, 2);
	assert_string_equal(c.signer.serial, "1111");
	ceremony_free(&c);
}

static void create_timeout_and_eof(void **state)
{
	struct fake *f = *state;
	const int ev1[] = {0, END}, ans1[] = {1, END};
	const int ev2[] = {0, END}, ans2[] = {END};
	struct ceremony c;
	struct ctl_err err = {0};

	assert_int_equal(run(f, CEREMONY_CREATE, ev1, ans1, &c, &err), CTL_E_CANCELLED);
	ceremony_free(&c);
	f->ev = f->an = 0;
	assert_int_equal(run(f, CEREMONY_CREATE, ev2, ans2, &c, &err), CTL_E_CANCELLED);
	assert_non_null(strstr(err.msg, "nothing was signed"));
	ceremony_free(&c);
}

static void update_needs_known_token_first(void **state)
{
	struct fake *f = *state;
	/* known: 0 and 1. Insert 2 (unknown: refused), 0 (authorizes), add another? yes;
	 * 2: add? yes; it cannot sign -> asked for a known one; 1 (known) another? no */
	const int ev[] = {2, 0, 2, 1, END}, ans[] = {1, 1, 0, END};
	struct ceremony c;
	struct ctl_err err = {0};

	f->known_mask = 3;
	assert_int_equal(run(f, CEREMONY_UPDATE, ev, ans, &c, &err), CTL_OK);
	assert_non_null(strstr(f->log, "not in the current CTL and cannot authorize"));
	assert_non_null(strstr(f->log, "update authorized"));
	assert_non_null(strstr(f->log, "that is in the current CTL"));
	assert_int_equal(c.nadded, 1);
	assert_string_equal(c.added[0].serial, "3333");
	assert_string_equal(c.signer.serial, "2222");
	ceremony_free(&c);
}

static void update_authorize_only(void **state)
{
	struct fake *f = *state;
	const int ev[] = {0, END}, ans[] = {END};
	struct ceremony c;
	struct ctl_err err = {0};

	f->known_mask = 1;
	f->events = ev;
	f->answers = ans;
	{
		static struct ceremony_ops o;
		o = ops_for(f);
		ceremony_init(&c, CEREMONY_UPDATE, &o);
	}
	c.authorize_only = true;
	assert_int_equal(ceremony_run(&c, &err), CTL_OK);
	assert_string_equal(c.signer.serial, "1111");
	assert_int_equal(c.nadded, 0);
	ceremony_free(&c);
}

static void token_asking_for_pin_change_takes_no_part(void **state)
{
	struct fake *f = *state;
	struct ceremony c;
	struct ctl_err err = {0};
	bool dup;

	ceremony_init(&c, CEREMONY_CREATE, NULL);
	f->tok[1].flags |= TOKEN_F_PIN_TO_BE_CHANGED;
	assert_int_equal(ceremony_add(&c, &f->tok[0], &dup, &err), CTL_OK);
	assert_int_equal(ceremony_add(&c, &f->tok[1], &dup, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "ctlsign token passwd"));
	assert_int_equal(ceremony_check_count(&c, &err), CTL_E_POLICY); /* only one was added */
	ceremony_free(&c);
}

static void uri_matching(void **state)
{
	struct fake *f = *state;
	struct token_info *t = &f->tok[0];

	t->slot_id = 7;
	snprintf(t->manufacturer, sizeof(t->manufacturer), "SoftHSM project");
	assert_true(ceremony_uri_matches("pkcs11:token=SAST-1", t));
	assert_true(ceremony_uri_matches("pkcs11:token=SAST-1;serial=1111?pin-source=file:/x", t));
	assert_true(ceremony_uri_matches("pkcs11:manufacturer=SoftHSM%20project;slot-id=7", t));
	assert_true(ceremony_uri_matches("pkcs11:token=SAST%2d1;object=sast;type=private", t));
	assert_false(ceremony_uri_matches("pkcs11:token=SAST-2", t));
	assert_false(ceremony_uri_matches("pkcs11:serial=1112", t));
	assert_false(ceremony_uri_matches("pkcs11:slot-id=8", t));
	assert_false(ceremony_uri_matches("pkcs11:token=SAST%2", t));
	assert_false(ceremony_uri_matches("token=SAST-1", t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_two_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(create_same_token_twice_counts_once, setup, teardown),
		cmocka_unit_test_setup_teardown(create_same_serial_other_cert_counts_once, setup, teardown),
		cmocka_unit_test_setup_teardown(create_two_inserted_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(create_declined_and_no_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(create_finish_needs_added_token, setup, teardown),
		cmocka_unit_test_setup_teardown(create_timeout_and_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(update_needs_known_token_first, setup, teardown),
		cmocka_unit_test_setup_teardown(update_authorize_only, setup, teardown),
		cmocka_unit_test_setup_teardown(uri_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(token_asking_for_pin_change_takes_no_part, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
