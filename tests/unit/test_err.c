/* test_err.c - one-line errors: a message too long for struct ctl_err is cut and says so
 * ("..."), never ending on the ": " before the reason it lost (scripts/faults flags a
 * message that ends with ':'; a clone in a deep directory made one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

static char long_path[1500];

static int setup(void **state)
{
	(void)state;
	memset(long_path, 'd', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = 0;
	return 0;
}

static void test_fits(void **state)
{
	struct ctl_err err = {0};

	(void)state;
	/* two paths of 600 characters and the reason after them fit */
	assert_int_equal(ctl_fail(&err, CTL_E_IO, "cannot rename %.600s to %.600s: %s", long_path,
				  long_path, "Read-only file system"),
			 CTL_E_IO);
	assert_int_equal(err.code, CTL_E_IO);
	assert_non_null(strstr(err.msg, ": Read-only file system"));
}

static void test_cut_says_so(void **state)
{
	struct ctl_err err = {0};
	size_t n;

	(void)state;
	ctl_fail(&err, CTL_E_IO, "cannot rename %s to %s: %s", long_path, long_path, "EROFS");
	n = strlen(err.msg);
	assert_int_equal(n, sizeof(err.msg) - 1);
	assert_string_equal(err.msg + n - 3, "...");
	ctl_fail(&err, CTL_E_IO, "%s", "inner reason");
	ctl_fail_prefix(&err, "cannot write %s", long_path);
	assert_non_null(strstr(err.msg, ": inner reason"));
	ctl_fail(&err, CTL_E_IO, "%s", long_path);
	ctl_fail_prefix(&err, "cannot write %s", long_path);
	n = strlen(err.msg);
	assert_string_equal(err.msg + n - 3, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_cut_says_so),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
