/* test_rules.c - PIN sources, PIN policy, retry flags and the default-password rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token.h"

static const char *workdir;

/* spec, uri_style, expected kind (0 = error), expected value or fd */
static const struct {
	const char *spec;
	bool uri;
	int kind;
	const char *value;
	int fd;
} sources[] = {
	{"env:PIN", false, TOKEN_PIN_ENV, "PIN", 0},
	{"env:MY_PIN_2", false, TOKEN_PIN_ENV, "MY_PIN_2", 0},
	{"env:", false, 0, NULL, 0},
	{"env:A-B", false, 0, NULL, 0},
	{"file:/run/pin", false, TOKEN_PIN_FILE, "/run/pin", 0},
	{"file:rel/pin", false, TOKEN_PIN_FILE, "rel/pin", 0},
	{"file:", false, 0, NULL, 0},
	{"file:///run/pin", true, TOKEN_PIN_FILE, "/run/pin", 0},
	{"file://host/pin", true, 0, NULL, 0},
	{"/run/pin", true, TOKEN_PIN_FILE, "/run/pin", 0},
	{"/run/pin", false, 0, NULL, 0},
	{"fd:0", false, TOKEN_PIN_FD, NULL, 0},
	{"fd:7", false, TOKEN_PIN_FD, NULL, 7},
	{"fd:", false, 0, NULL, 0},
	{"fd:-1", false, 0, NULL, 0},
	{"fd:3x", false, 0, NULL, 0},
	{"fd:99999", false, 0, NULL, 0},
	{"Cisco123", false, 0, NULL, 0},
	{"pin:Cisco123", false, 0, NULL, 0},
	{"Str0ngPin99", false, 0, NULL, 0},
	{"env:Str0ng-Pin99", false, 0, NULL, 0},
	{"pin:Str0ngPin99", true, 0, NULL, 0},
	{"", true, 0, NULL, 0},
};

static void test_pin_sources(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		struct token_pin_source s;
		struct ctl_err err = {0};
		int rc = token_pin_source_parse(sources[i].spec, sources[i].uri, &s, &err);
		if (!sources[i].kind) {
			if (rc != CTL_E_USAGE)
				fail_msg("'%s' should be refused", sources[i].spec);
			/* The refused value is never echoed (it may be the PIN itself), and the
			 * message names the valid forms. */
			if (strlen(sources[i].spec) > 5 && strstr(err.msg, sources[i].spec))
				fail_msg("the message echoes '%s': %s", sources[i].spec, err.msg);
			assert_non_null(strstr(err.msg, "env:VARIABLE, file:PATH or fd:N"));
			assert_non_null(strstr(err.msg, "prompted"));
			continue;
		}
		if (rc != CTL_OK)
			fail_msg("'%s': %s", sources[i].spec, err.msg);
		assert_int_equal(s.kind, sources[i].kind);
		if (sources[i].value)
			assert_string_equal(s.value, sources[i].value);
		if (s.kind == TOKEN_PIN_FD)
			assert_int_equal(s.fd, sources[i].fd);
	}
}

static void rc_check(int rc, int want, mode_t mode)
{
	if (rc != want)
		fail_msg("PIN file mode %04o: rc %d, expected %d", (unsigned)mode, rc, want);
}

static void test_pin_read(void **state)
{
	char path[512], *pin = NULL;
	struct ctl_err err = {0};
	int fd, p[2];

	(void)state;
	setenv("CTL_TEST_PIN", "s3cret-PIN\n", 1);
	assert_int_equal(token_pin_read("env:CTL_TEST_PIN", false, NULL, &pin, &err), CTL_OK);
	assert_string_equal(pin, "s3cret-PIN");
	token_pin_free(pin);
	unsetenv("CTL_TEST_PIN");
	assert_int_equal(token_pin_read("env:CTL_TEST_PIN", false, NULL, &pin, &err), CTL_E_USAGE);

	snprintf(path, sizeof(path), "%s/pinfile", workdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12345678\r\nsecond line\n", 22), 22);
	close(fd);
	char spec[600];
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(token_pin_read(spec, false, NULL, &pin, &err), CTL_OK);
	assert_string_equal(pin, "12345678");
	token_pin_free(pin);
	assert_int_equal(token_pin_read(path, true, NULL, &pin, &err), CTL_OK); /* URI plain path */
	assert_string_equal(pin, "12345678");
	token_pin_free(pin);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "from-fd", 7), 7);
	close(p[1]);
	snprintf(spec, sizeof(spec), "fd:%d", p[0]);
	assert_int_equal(token_pin_read(spec, false, NULL, &pin, &err), CTL_OK);
	assert_string_equal(pin, "from-fd");
	token_pin_free(pin);
	close(p[0]);

	/* One line per read from the same descriptor: "--pin fd:3 --new-pin fd:3". */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "first-PIN\r\nsecond-PIN\nthird", 28), 28);
	close(p[1]);
	snprintf(spec, sizeof(spec), "fd:%d", p[0]);
	assert_int_equal(token_pin_read(spec, false, NULL, &pin, &err), CTL_OK);
	assert_string_equal(pin, "first-PIN");
	token_pin_free(pin);
	assert_int_equal(token_pin_read(spec, false, NULL, &pin, &err), CTL_OK);
	assert_string_equal(pin, "second-PIN");
	token_pin_free(pin);
	assert_int_equal(token_pin_read(spec, false, NULL, &pin, &err), CTL_OK);
	assert_string_equal(pin, "third");
	token_pin_free(pin);
	close(p[0]);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(token_pin_read(spec + 0, false, NULL, &pin, &err), CTL_E_IO); /* closed fd */
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(token_pin_read(spec, false, NULL, &pin, &err), CTL_E_USAGE); /* empty */
	assert_non_null(strstr(err.msg, "empty"));

	/* PIN file modes: others may neither read nor change it, its group may not change
	 * it; refused (a token rule) with the chmod that fixes it. Group-readable is fine. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12345678\n", 9), 9);
	close(fd);
	static const struct {
		mode_t mode;
		int rc;
	} modes[] = {{0600, CTL_OK}, {0400, CTL_OK}, {0640, CTL_OK}, {0644, CTL_E_POLICY},
		     {0604, CTL_E_POLICY}, {0602, CTL_E_POLICY}, {0620, CTL_E_POLICY},
		     {0660, CTL_E_POLICY}, {0666, CTL_E_POLICY}};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char chmod_msg[600];
		assert_int_equal(chmod(path, modes[i].mode), 0);
		for (int uri = 0; uri < 2; uri++) {
			err.msg[0] = 0;
			if (uri)
				rc_check(token_pin_read(path, true, NULL, &pin, &err), modes[i].rc,
					 modes[i].mode);
			else
				rc_check(token_pin_read(spec, false, NULL, &pin, &err), modes[i].rc,
					 modes[i].mode);
			if (modes[i].rc == CTL_OK) {
				assert_string_equal(pin, "12345678");
				token_pin_free(pin);
				continue;
			}
			assert_null(pin);
			snprintf(chmod_msg, sizeof(chmod_msg), "chmod 600 %s", path);
			if (!strstr(err.msg, chmod_msg))
				fail_msg("mode %04o: no '%s' in: %s", (unsigned)modes[i].mode,
					 chmod_msg, err.msg);
		}
	}
	assert_int_equal(chmod(path, 0600), 0);

	/* A URI's plain pin-source that names no file is not echoed either. */
	assert_int_equal(token_pin_read("Str0ngPin99", true, NULL, &pin, &err), CTL_E_IO);
	assert_null(strstr(err.msg, "Str0ngPin99"));
}

/* cur, new, factory, min_len, tok_min, tok_max, ok, message part */
static const struct {
	const char *cur, *new_pin, *factory;
	size_t min;
	unsigned long tmin, tmax;
	bool ok;
	const char *msg;
} policy[] = {
	{"Cisco123", "Str0ngPass", NULL, 0, 4, 255, true, NULL},
	{"Cisco123", "Cisco123", NULL, 0, 4, 255, false, "differ from the current"},
	{"Other999", "Cisco123", NULL, 0, 4, 255, false, "factory default"},
	{"Other999", "Cisco123", "Vendor99", 0, 4, 255, true, NULL},
	{"Other999", "Vendor99", "Vendor99", 0, 4, 255, false, "factory default"},
	{"Cisco123", "short", NULL, 0, 4, 255, false, "at least 8"},
	{"Cisco123", "1234567", NULL, 0, 4, 255, false, "at least 8"},
	/* Trivial PINs (issue 12 §13): one character repeated, a run up or down. */
	{"Cisco123", "12345678", NULL, 0, 4, 255, false, "too easy to guess (an ascending run)"},
	{"Cisco123", "87654321", NULL, 0, 4, 255, false, "too easy to guess (a descending run)"},
	{"Cisco123", "aaaaaaaa", NULL, 0, 4, 255, false, "(one character repeated)"},
	{"Cisco123", "00000000", NULL, 0, 4, 255, false, "(one character repeated)"},
	{"Cisco123", "abcdefghij", NULL, 0, 4, 255, false, "(an ascending run)"},
	{"Cisco123", "ZYXWVUTS", NULL, 0, 4, 255, false, "(a descending run)"},
	{"Cisco123", "12345679", NULL, 0, 4, 255, true, NULL},
	{"Cisco123", "aaaaaaab", NULL, 0, 4, 255, true, NULL},
	{"Cisco123", "24681357", NULL, 0, 4, 255, true, NULL},
	{"Cisco123", "12341234", NULL, 0, 4, 255, true, NULL},
	{"Cisco123", "12345678", NULL, 10, 4, 255, false, "at least 10"},
	{"Cisco123", "12345678", NULL, 6, 9, 255, false, "at least 9"},
	{"Cisco123", "123456789012", NULL, 0, 4, 10, false, "at most 10"},
	{"Cisco123", "1357924680", NULL, 0, 4, 10, true, NULL},
	{"Cisco123", "tab\there12", NULL, 0, 4, 0, false, "control characters"},
};

static void test_pin_policy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
		struct ctl_err err = {0};
		int rc = token_pin_policy(policy[i].cur, policy[i].new_pin, policy[i].factory,
					  policy[i].min, policy[i].tmin, policy[i].tmax, &err);
		if (policy[i].ok && rc != CTL_OK)
			fail_msg("case %zu: refused: %s", i, err.msg);
		if (!policy[i].ok && (rc != CTL_E_POLICY || !strstr(err.msg, policy[i].msg)))
			fail_msg("case %zu: want '%s', got %d '%s'", i, policy[i].msg, rc, err.msg);
	}
}

/* The token-aware policy: the label is refused (any case) and every message names the
 * token. */
static void test_pin_policy_label(void **state)
{
	static const struct {
		const char *new_pin;
		bool ok;
		const char *msg;
	} c[] = {
		{"SAST-ADN0001", false, "must not be the token's label"},
		{"sast-adn0001", false, "must not be the token's label"},
		{"SAST-ADN0002", true, NULL},
		{"Cisco123", false, "factory default"},
		{"short", false, "too short"},
		{"99999999", false, "too easy to guess"},
		{"Cur-PIN-42", false, "differ from the current"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ctl_err err = {0};
		int rc = token_pin_policy_for("SAST-ADN0001", "Cur-PIN-42", c[i].new_pin, NULL, 0, 4,
					      255, &err);
		if (c[i].ok) {
			if (rc != CTL_OK)
				fail_msg("'%s' refused: %s", c[i].new_pin, err.msg);
			continue;
		}
		if (rc != CTL_E_POLICY || !strstr(err.msg, c[i].msg))
			fail_msg("'%s': want '%s', got %d '%s'", c[i].new_pin, c[i].msg, rc, err.msg);
		if (!strstr(err.msg, "for token 'SAST-ADN0001'"))
			fail_msg("'%s': the message does not name the token: %s", c[i].new_pin,
				 err.msg);
	}
}

static void test_retry_flags(void **state)
{
	struct token_info ti = {.label = "SAST1", .serial = "42"};
	struct ctl_err err = {0};
	char buf[128];

	(void)state;
	ti.flags = TOKEN_F_INITIALIZED;
	assert_int_equal(token_check_retry_flags(&ti, false, &err), CTL_OK);
	ti.flags |= TOKEN_F_PIN_COUNT_LOW;
	assert_int_equal(token_check_retry_flags(&ti, false, &err), CTL_OK);
	ti.flags |= TOKEN_F_PIN_FINAL_TRY;
	assert_int_equal(token_check_retry_flags(&ti, false, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "--final-try"));
	assert_int_equal(token_check_retry_flags(&ti, true, &err), CTL_OK);
	ti.flags |= TOKEN_F_PIN_LOCKED;
	assert_int_equal(token_check_retry_flags(&ti, true, &err), CTL_E_TOKEN);
	/* What to do with a locked eToken in practice: a new token, then delete-token. */
	assert_non_null(strstr(err.msg, "token 'SAST1' (serial 42) is locked"));
	assert_non_null(strstr(err.msg, "--add-token"));
	assert_non_null(strstr(err.msg, "ctlsign ctl delete-token"));
	token_flags_text(ti.flags, buf, sizeof(buf));
	assert_string_equal(buf, "initialised, count-low, final-try, locked");
	token_flags_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	token_flags_text(TOKEN_F_INITIALIZED | TOKEN_F_PIN_TO_BE_CHANGED, buf, sizeof(buf));
	assert_string_equal(buf, "initialised, to-be-changed");
}

static void test_default_rule(void **state)
{
	struct token_info ti = {.label = "SAST1", .serial = "42", .flags = TOKEN_F_INITIALIZED};
	struct ctl_err err = {0};

	(void)state;
	assert_int_equal(token_check_not_default(&ti, "Str0ngPass", NULL, &err), CTL_OK);
	assert_int_equal(token_check_not_default(&ti, NULL, NULL, &err), CTL_OK);
	assert_int_equal(token_check_not_default(&ti, "Cisco123", NULL, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "ctlsign token passwd"));
	assert_int_equal(token_check_not_default(&ti, "Cisco123", "Other123", &err), CTL_OK);
	assert_int_equal(token_check_not_default(&ti, "Other123", "Other123", &err), CTL_E_POLICY);
	ti.flags |= TOKEN_F_PIN_TO_BE_CHANGED;
	memset(&err, 0, sizeof(err));
	assert_int_equal(token_check_not_default(&ti, "Str0ngPass", NULL, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "ctlsign token passwd"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_sources), cmocka_unit_test(test_pin_read),
		cmocka_unit_test(test_pin_policy), cmocka_unit_test(test_pin_policy_label),
		cmocka_unit_test(test_retry_flags),
		cmocka_unit_test(test_default_rule),
	};
	if (argc < 2)
		return 2;
	workdir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
