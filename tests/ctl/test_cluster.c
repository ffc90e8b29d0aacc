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

/* The header lines of a case, each "; KEY: TEXT" (or "; quiet"):
 *   expect: ok | <substring of the one-line error>   (first line, always)
 *   code: N          the error's exit code (default: any)
 *   also: TEXT       a further substring of the error (repeatable)
 *   warns: TEXT      a loaded file's warnings and notes contain TEXT (repeatable)
 *   quiet            a loaded file gives no warning or note at all
 *   strict: ok | TEXT  loaded with --strict: fine, or refused (exit 9) with TEXT
 *   mode: ok | TEXT  cluster_check_mode for the file's mode: fine, or refused with TEXT */
#define MAX_HDR 8
struct case_hdr {
	char expect[512], strict[512], mode[512];
	char also[MAX_HDR][512], warns[MAX_HDR][512];
	size_t nalso, nwarns;
	int code;
	bool quiet;
};

static void read_hdr(const char *path, struct case_hdr *h)
{
	char line[600];
	FILE *fp = fopen(path, "r");

	memset(h, 0, sizeof(*h));
	h->code = -1;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *v;

		line[strcspn(line, "\r\n")] = 0;
		if (strncmp(line, "; ", 2))
			continue;
		v = strstr(line, ": ");
		if (!strcmp(line, "; quiet")) {
			h->quiet = true;
			continue;
		}
		if (!v)
			continue;
		*v = 0;
		v += 2;
		if (!strcmp(line + 2, "expect"))
			snprintf(h->expect, sizeof(h->expect), "%s", v);
		else if (!strcmp(line + 2, "strict"))
			snprintf(h->strict, sizeof(h->strict), "%s", v);
		else if (!strcmp(line + 2, "mode"))
			snprintf(h->mode, sizeof(h->mode), "%s", v);
		else if (!strcmp(line + 2, "code"))
			h->code = atoi(v);
		else if (!strcmp(line + 2, "also") && h->nalso < MAX_HDR)
			snprintf(h->also[h->nalso++], sizeof(h->also[0]), "%s", v);
		else if (!strcmp(line + 2, "warns") && h->nwarns < MAX_HDR)
			snprintf(h->warns[h->nwarns++], sizeof(h->warns[0]), "%s", v);
	}
	fclose(fp);
	if (!h->expect[0])
		fail_msg("%s: no '; expect:' line", path);
}

/* cluster_load_opts with warnings caught in *warned (caller frees). */
static int load(const char *path, bool strict, struct cluster **c, struct ctl_err *err,
		char **warned)
{
	size_t len = 0;
	FILE *w = open_memstream(warned, &len);
	struct cluster_load_opts lo = {.strict = strict, .warn = w};
	int rc;

	assert_non_null(w);
	rc = cluster_load_opts(path, &lo, c, err);
	fclose(w);
	return rc;
}

static void run_case(void **state)
{
	const char *path = *state;
	struct case_hdr h;
	struct cluster *c = NULL;
	struct ctl_err err = {0};
	char *warned = NULL;
	int rc;

	read_hdr(path, &h);
	rc = load(path, false, &c, &err, &warned);
	if (!strcmp(h.expect, "ok")) {
		if (rc != CTL_OK)
			fail_msg("%s: expected ok, got: %s", path, err.msg);
		assert_non_null(c);
		assert_true(c->noutputs >= 1);
		assert_true(c->hash_alg == CTL_HASH_SHA512 || c->hash_alg == CTL_HASH_SHA1);
		for (size_t i = 0; i < c->nservers; i++) {
			assert_non_null(c->servers[i].cert);
			assert_true(c->servers[i].role >= 0);
		}
		for (size_t i = 0; i < h.nwarns; i++)
			if (!strstr(warned, h.warns[i]))
				fail_msg("%s: no warning '%s' in:\n%s", path, h.warns[i], warned);
		if (h.quiet && *warned)
			fail_msg("%s: expected no warning, got:\n%s", path, warned);
		if (h.mode[0]) {
			rc = cluster_check_mode(c, c->mode, &err);
			if (!strcmp(h.mode, "ok") && rc != CTL_OK)
				fail_msg("%s: mode check refused: %s", path, err.msg);
			if (strcmp(h.mode, "ok") &&
			    (rc != CTL_E_POLICY || !strstr(err.msg, h.mode)))
				fail_msg("%s: mode check: want '%s', got %d '%s'", path, h.mode, rc,
					 err.msg);
		}
		cluster_free(c);
		free(warned);
		if (h.strict[0]) {
			c = NULL;
			rc = load(path, true, &c, &err, &warned);
			if (!strcmp(h.strict, "ok")) {
				if (rc != CTL_OK)
					fail_msg("%s: refused with --strict: %s", path, err.msg);
				cluster_free(c);
			} else {
				if (rc == CTL_OK)
					cluster_free(c);
				if (rc != CTL_E_POLICY || !strstr(err.msg, h.strict))
					fail_msg("%s: --strict: want exit 9 '%s', got %d '%s'", path,
						 h.strict, rc, err.msg);
				assert_null(c);
			}
			free(warned);
		}
		return;
	}
	free(warned);
	if (rc == CTL_OK) {
		cluster_free(c);
		fail_msg("%s: expected error '%s', got ok", path, h.expect);
	}
	assert_null(c);
	assert_int_equal(rc, err.code);
	if (!strstr(err.msg, h.expect))
		fail_msg("%s: expected '%s' in: %s", path, h.expect, err.msg);
	for (size_t i = 0; i < h.nalso; i++)
		if (!strstr(err.msg, h.also[i]))
			fail_msg("%s: expected also '%s' in: %s", path, h.also[i], err.msg);
	if (h.code >= 0 && rc != h.code)
		fail_msg("%s: exit code %d, expected %d: %s", path, rc, h.code, err.msg);
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
