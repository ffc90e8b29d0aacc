/* test_uri.c - RFC 7512 parser against the cases in uri-cases.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_uri.h"

static const char *cases_path;

static void test_cases(void **state)
{
	FILE *f = fopen(cases_path, "r");
	char line[1024];
	int n = 0, bad = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *tab, *want;
		struct p11_uri u;
		struct ctl_err err = {0};
		int rc;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || !line[0])
			continue;
		tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = 0;
		want = tab + 1;
		rc = p11_uri_parse(line, &u, &err);
		n++;
		if (!strncmp(want, "error: ", 7)) {
			if (rc != CTL_E_USAGE || !strstr(err.msg, want + 7)) {
				fprintf(stderr, "case '%s': want error '%s', got rc %d '%s'\n", line,
					want + 7, rc, err.msg);
				bad++;
			}
			continue;
		}
		if (rc != CTL_OK) {
			fprintf(stderr, "case '%s': unexpected error %s\n", line, err.msg);
			bad++;
			continue;
		}
		char *got = p11_uri_dump(&u);
		if (!got || strcmp(got, want)) {
			fprintf(stderr, "case '%s': want '%s', got '%s'\n", line, want, got);
			bad++;
		}
		free(got);
		p11_uri_clear(&u);
	}
	fclose(f);
	assert_true(n >= 30);
	assert_int_equal(bad, 0);
}

static void test_values(void **state)
{
	struct p11_uri u;
	struct ctl_err err;

	(void)state;
	assert_int_equal(p11_uri_parse("pkcs11:token=SAST%201;id=%00%ff;object=s?pin-source=env:X",
				       &u, &err), CTL_OK);
	assert_string_equal(u.token, "SAST 1");
	assert_string_equal(u.object, "s");
	assert_string_equal(u.pin_source, "env:X");
	assert_true(u.has_id);
	assert_int_equal(u.id_len, 2);
	assert_int_equal(u.id[0], 0);
	assert_int_equal(u.id[1], 0xff);
	assert_null(u.serial);
	p11_uri_clear(&u);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_values),
	};
	if (argc < 2) {
		fprintf(stderr, "usage: test_uri CASES-FILE\n");
		return 2;
	}
	cases_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
