/* test_cluster.c - cluster description files as data: tests/ctl/clusters/NAME.ini, whose
 * first line is "; expect: ok" or "; expect: <substring of the one-line error>". */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static void run_case(void **state)
{
	const char *path = *state;
	char first[512], *expect;
	struct cluster *c = NULL;
	struct ctl_err err = {0};
	FILE *fp = fopen(path, "r");
	int rc;

	assert_non_null(fp);
	assert_non_null(fgets(first, sizeof(first), fp));
	fclose(fp);
	first[strcspn(first, "\r\n")] = 0;
	expect = strstr(first, "expect: ");
	assert_non_null(expect);
	expect += 8;
	rc = cluster_load(path, &c, &err);
	if (!strcmp(expect, "ok")) {
		if (rc != CTL_OK)
			fail_msg("%s: expected ok, got: %s", path, err.msg);
		assert_non_null(c);
		assert_true(c->noutputs >= 1);
		assert_true(c->hash_alg == CTL_HASH_SHA512 || c->hash_alg == CTL_HASH_SHA1);
		for (size_t i = 0; i < c->nservers; i++) {
			assert_non_null(c->servers[i].cert);
			assert_true(c->servers[i].role >= 0);
		}
		cluster_free(c);
		return;
	}
	if (rc == CTL_OK) {
		cluster_free(c);
		fail_msg("%s: expected error '%s', got ok", path, expect);
	}
	assert_null(c);
	assert_int_equal(rc, err.code);
	if (!strstr(err.msg, expect))
		fail_msg("%s: expected '%s' in: %s", path, expect, err.msg);
	/* one line, naming the file */
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, path));
}

/* The parsed content of the full example. */
static void full_example(void **state)
{
	struct cluster *c = NULL;
	struct ctl_err err = {0};

	(void)state;
	assert_int_equal(cluster_load(CLUSTERS_DIR "/ok-full.ini", &c, &err), CTL_OK);
	assert_int_equal(c->mode, CLUSTER_MIXED);
	assert_int_equal(c->hash_alg, CTL_HASH_SHA512);
	assert_int_equal(c->noutputs, 2);
	assert_string_equal(c->outputs[0], CLUSTERS_DIR "/out1");
	assert_string_equal(c->outputs[1], CLUSTERS_DIR "/out2");
	assert_int_equal(c->nservers, 4);
	assert_string_equal(c->servers[0].name, "cucm1");
	assert_int_equal(c->servers[0].role, CTL_ROLE_CCM_TFTP);
	assert_true(c->servers[0].has_ip);
	assert_memory_equal(c->servers[0].ip, ((uint8_t[]){10, 0, 0, 10}), 4);
	assert_int_equal(c->servers[1].role, CTL_ROLE_CAPF);
	assert_false(c->servers[1].has_ip);
	assert_int_equal(c->servers[2].kind, CLUSTER_ALT_TFTP);
	assert_int_equal(c->servers[2].role, CTL_ROLE_TFTP);
	assert_int_equal(c->servers[3].kind, CLUSTER_FIREWALL);
	assert_int_equal(c->servers[3].role, CTL_ROLE_CCM);
	assert_string_equal(c->servers[3].host, "asa1.example.com");
	cluster_free(c);
}

static void missing_file(void **state)
{
	struct cluster *c = NULL;
	struct ctl_err err = {0};

	(void)state;
	assert_int_equal(cluster_load(CLUSTERS_DIR "/no-such.ini", &c, &err), CTL_E_IO);
	assert_null(c);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *d = opendir(CLUSTERS_DIR);
	struct dirent *e;
	char *names[256];
	struct CMUnitTest tests[260];
	size_t n = 0, k = 0;
	int rc;

	if (!d) {
		fprintf(stderr, "cannot open %s\n", CLUSTERS_DIR);
		return 1;
	}
	while ((e = readdir(d)) && n < 256) {
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".ini")) {
			size_t m = sizeof(CLUSTERS_DIR) + l + 1;
			names[n] = malloc(m);
			snprintf(names[n], m, "%s/%s", CLUSTERS_DIR, e->d_name);
			n++;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	if (n < 10) {
		fprintf(stderr, "expected the case files in %s\n", CLUSTERS_DIR);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&tests[k], 0, sizeof(tests[k]));
		tests[k].name = strrchr(names[i], '/') + 1;
		tests[k].test_func = run_case;
		tests[k].initial_state = names[i];
		k++;
	}
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(full_example);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(missing_file);
	rc = _cmocka_run_group_tests("cluster", tests, k, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
