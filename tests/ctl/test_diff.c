/* test_diff.c - what an update changes: records added, removed, changed, and the mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "ctldiff.h"
#include "ctlmake.h"

#define VEC CTL_TEST_DATA "/vectors/"

struct fx {
	struct cluster *c;
	X509 *s1, *s2, *ccm, *tftp2;
	struct ctlmake_list a, b;
	struct ctldiff d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_err err = {0};

	assert_int_equal(cluster_load(CLUSTERS_DIR "/ok-full.ini", &f->c, &err), CTL_OK);
	assert_non_null(f->s1 = ctl_cert_load(VEC "sast1.crt", &err));
	assert_non_null(f->s2 = ctl_cert_load(VEC "sast2.crt", &err));
	assert_non_null(f->ccm = ctl_cert_load(VEC "ccm.crt", &err));
	assert_non_null(f->tftp2 = ctl_cert_load(VEC "tftp2.crt", &err));
	assert_int_equal(ctlmake_append_sast(&f->a, f->s1, &err), CTL_OK);
	assert_int_equal(ctlmake_append_sast(&f->a, f->s2, &err), CTL_OK);
	assert_int_equal(ctlmake_append_servers(&f->a, f->c, CLUSTER_MIXED, &err), CTL_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctldiff_free(&f->d);
	ctlmake_list_free(&f->a);
	ctlmake_list_free(&f->b);
	cluster_free(f->c);
	X509_free(f->s1);
	X509_free(f->s2);
	X509_free(f->ccm);
	X509_free(f->tftp2);
	free(f);
	return 0;
}

static void copy_all(struct ctlmake_list *dst, const struct ctlmake_list *src)
{
	struct ctl_err err = {0};
	for (size_t i = 0; i < src->n; i++)
		assert_int_equal(ctlmake_append_copy(dst, &src->recs[i], &err), CTL_OK);
}

static void create_is_all_added(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};

	assert_int_equal(ctldiff_compute(NULL, 0, -1, f->a.recs, f->a.n, CLUSTER_MIXED, &f->d, &err),
			 CTL_OK);
	assert_int_equal(ctldiff_count(&f->d, CTLDIFF_ADDED), 6);
	assert_int_equal(f->d.n, 6);
	assert_int_equal(f->d.unchanged, 0);
}

static void identical_is_unchanged(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};

	copy_all(&f->b, &f->a);
	assert_int_equal(ctldiff_compute(f->a.recs, f->a.n, CLUSTER_MIXED, f->b.recs, f->b.n,
					 CLUSTER_MIXED, &f->d, &err), CTL_OK);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->d.unchanged, 6);
	assert_int_equal(ctlmake_mode_of(f->b.recs, f->b.n), CLUSTER_MIXED);
}

static void nonsecure_drops_certificates(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};

	assert_int_equal(ctlmake_append_sast(&f->b, f->s1, &err), CTL_OK);
	assert_int_equal(ctlmake_append_sast(&f->b, f->s2, &err), CTL_OK);
	assert_int_equal(ctlmake_append_servers(&f->b, f->c, CLUSTER_NONSECURE, &err), CTL_OK);
	for (size_t i = 0; i < f->b.n; i++) {
		const struct ctl_record *r = &f->b.recs[i];
		if (r->role == CTL_ROLE_SAST) {
			assert_true(r->cert.len > 0);
		} else {
			assert_int_equal(r->cert.len, 0);
			assert_int_equal(r->pubkey.len, 0);
			assert_int_equal(r->cert_sig.len, 0);
			assert_non_null(r->subject);
			assert_true(r->serial.len > 0);
		}
	}
	assert_int_equal(ctlmake_mode_of(f->b.recs, f->b.n), CLUSTER_NONSECURE);
	assert_int_equal(ctldiff_compute(f->a.recs, f->a.n, CLUSTER_MIXED, f->b.recs, f->b.n,
					 CLUSTER_NONSECURE, &f->d, &err), CTL_OK);
	assert_int_equal(ctldiff_count(&f->d, CTLDIFF_CHANGED), 4);
	assert_int_equal(f->d.unchanged, 2);
	assert_non_null(strstr(f->d.e[0].what, "certificate dropped"));
	{
		char buf[4096];
		FILE *fp = fmemopen(buf, sizeof(buf), "w");
		ctldiff_print(fp, &f->d);
		fclose(fp);
		assert_non_null(strstr(buf, "mode:    mixed -> non-secure"));
	}
}

static void renamed_recertified_removed_added(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};

	copy_all(&f->b, &f->a);
	/* record 2 (cucm1): renamed and re-addressed */
	free(f->b.recs[2].dns_name);
	f->b.recs[2].dns_name = strdup("cucm1-new.example.com");
	f->b.recs[2].ip[3] = 99;
	/* record 3 (capf): re-certified: same host, another certificate */
	ctl_record_clear(&f->b.recs[3]);
	assert_int_equal(ctl_record_from_cert(f->s1, CTL_ROLE_CAPF, "capf.example.com", NULL,
					      true, &f->b.recs[3], &err), CTL_OK);
	/* record 5 (firewall) removed, a SAST removed (index 1) */
	ctl_record_clear(&f->b.recs[5]);
	f->b.n = 5;
	ctl_record_clear(&f->b.recs[1]);
	memmove(&f->b.recs[1], &f->b.recs[2], 3 * sizeof(f->b.recs[0]));
	f->b.n = 4;
	/* and a new one */
	assert_int_equal(ctlmake_append_sast(&f->b, f->ccm, &err), CTL_OK);
	assert_int_equal(ctldiff_compute(f->a.recs, f->a.n, CLUSTER_MIXED, f->b.recs, f->b.n,
					 CLUSTER_MIXED, &f->d, &err), CTL_OK);
	assert_int_equal(ctldiff_count(&f->d, CTLDIFF_REMOVED), 2);
	assert_int_equal(ctldiff_count(&f->d, CTLDIFF_ADDED), 1);
	assert_int_equal(ctldiff_count(&f->d, CTLDIFF_CHANGED), 2);
	assert_int_equal(f->d.unchanged, 2);
	for (size_t i = 0; i < f->d.n; i++) {
		const struct ctldiff_entry *e = &f->d.e[i];
		if (e->kind != CTLDIFF_CHANGED)
			continue;
		if (e->new_rec->role == CTL_ROLE_CAPF) {
			assert_non_null(strstr(e->what, "re-certified"));
		} else {
			assert_non_null(strstr(e->what, "host cucm1.example.com -> cucm1-new.example.com"));
			assert_non_null(strstr(e->what, "ip 10.0.0.10 -> 10.0.0.99"));
		}
	}
	{
		struct json_object *j = ctldiff_json(&f->d);
		assert_non_null(strstr(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), "\"change\":\"removed\""));
		json_object_put(j);
	}
}

static void select_records(void **state)
{
	struct fx *f = *state;
	size_t idx[4];
	char *fp = ctl_cert_fingerprint(f->s2, CTL_HASH_SHA1);
	char *sn = ctl_hex(f->a.recs[1].serial.data, f->a.recs[1].serial.len);

	assert_int_equal(ctlmake_select(f->a.recs, f->a.n, fp, idx, 4), 1);
	assert_int_equal(idx[0], 1);
	assert_int_equal(ctlmake_select(f->a.recs, f->a.n, sn, idx, 4), 1);
	assert_int_equal(idx[0], 1);
	assert_int_equal(ctlmake_select(f->a.recs, f->a.n, f->a.recs[0].subject, idx, 4), 1);
	assert_int_equal(idx[0], 0);
	assert_int_equal(ctlmake_select(f->a.recs, f->a.n, "no-such-thing", idx, 4), 0);
	assert_true(ctlmake_find_sast(f->a.recs, f->a.n, f->s2) == 1);
	assert_true(ctlmake_find_sast(f->a.recs, f->a.n, f->ccm) == -1); /* CCM record, not SAST */
	free(fp);
	free(sn);
}

/* The plan lists every SAST of the result with its certificate's SHA-256, the unchanged
 * ones too: a SAST that a plain diff counts as "unchanged" (one an attacker slipped into
 * the current CTL) is visible; the new ones are marked. */
static void every_sast_listed(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct json_object *j;
	char buf[8192], *fp1, *fp2, line[200];
	FILE *fp;

	copy_all(&f->b, &f->a);                          /* s1, s2 and the servers */
	ctlmake_list_free(&f->a);
	assert_int_equal(ctlmake_append_sast(&f->a, f->s1, &err), CTL_OK); /* the old: s1 only */
	assert_int_equal(ctlmake_append_servers(&f->a, f->c, CLUSTER_MIXED, &err), CTL_OK);
	assert_non_null(fp1 = ctl_cert_fingerprint(f->s1, CTL_HASH_SHA256));
	assert_non_null(fp2 = ctl_cert_fingerprint(f->s2, CTL_HASH_SHA256));
	assert_non_null(fp = fmemopen(buf, sizeof(buf), "w"));
	ctldiff_print_sasts(fp, f->b.recs, f->b.n, f->a.recs, f->a.n);
	fclose(fp);
	snprintf(line, sizeof(line), "SHA-256 %s\n", fp1);   /* kept: not marked */
	assert_non_null(strstr(buf, line));
	snprintf(line, sizeof(line), "SHA-256 %s  (new)\n", fp2);
	assert_non_null(strstr(buf, line));
	assert_non_null(j = ctldiff_sasts_json(f->b.recs, f->b.n, f->a.recs, f->a.n));
	assert_int_equal(json_object_array_length(j), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(j, 0), "sha256")), fp1);
	assert_false(json_object_get_boolean(json_object_object_get(json_object_array_get_idx(j, 0), "new")));
	assert_true(json_object_get_boolean(json_object_object_get(json_object_array_get_idx(j, 1), "new")));
	json_object_put(j);
	free(fp1);
	free(fp2);
}

/* The current CTL written by another tool: issuers in RFC 4514 order (reversed), serials
 * with a leading zero byte. The same certificates: nothing changed, and the tokens' SAST
 * records are found (the one rule of ctl/match.c). */
static void other_name_form_is_unchanged(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};

	copy_all(&f->b, &f->a);
	for (size_t i = 0; i < f->b.n; i++) {
		struct ctl_record *r = &f->b.recs[i];
		X509_NAME *n = NULL;
		char out[512] = "";
		uint8_t padded[64] = {0};

		assert_int_equal(ctl_name_parse(r->issuer, &n), CTL_OK);
		for (int k = X509_NAME_entry_count(n) - 1; k >= 0; k--) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, k);
			const ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s=%.*s",
				 out[0] ? ", " : "",
				 OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))),
				 ASN1_STRING_length(d), (const char *)ASN1_STRING_get0_data(d));
		}
		X509_NAME_free(n);
		assert_non_null(strchr(out, ' '));
		free(r->issuer);
		assert_non_null(r->issuer = strdup(out));
		assert_true(r->serial.len < sizeof(padded));
		memcpy(padded + 1, r->serial.data, r->serial.len);
		assert_true(ctl_buf_set(&r->serial, padded, r->serial.len + 1));
	}
	assert_string_equal(f->b.recs[0].issuer, "OU=Voice, O=Example Corp, CN=SAST-ADN0001");
	assert_int_equal(ctldiff_compute(f->b.recs, f->b.n, CLUSTER_MIXED, f->a.recs, f->a.n,
					 CLUSTER_MIXED, &f->d, &err), CTL_OK);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->d.unchanged, 6);
	assert_int_equal(ctlmake_find_sast(f->b.recs, f->b.n, f->s1), 0);
	assert_int_equal(ctlmake_find_sast(f->b.recs, f->b.n, f->s2), 1);
	assert_int_equal(ctlmake_find_sast(f->b.recs, f->b.n, f->ccm), -1);
}

/* A digest change is a change (issue 12, item 5): the same records signed with SHA-1
 * instead of SHA-512 are not "up to date". */
static void digest_change_is_a_change(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	char *text = NULL;
	size_t tn = 0;
	FILE *mf;

	copy_all(&f->b, &f->a);
	assert_int_equal(ctldiff_compute(f->a.recs, f->a.n, CLUSTER_MIXED, f->b.recs, f->b.n,
					 CLUSTER_MIXED, &f->d, &err), CTL_OK);
	ctldiff_set_digest(&f->d, CTL_HASH_SHA512, CTL_HASH_SHA512);
	assert_true(ctldiff_is_empty(&f->d));
	ctldiff_set_digest(&f->d, CTL_HASH_SHA512, CTL_HASH_SHA1);
	assert_false(ctldiff_is_empty(&f->d));
	assert_non_null(mf = open_memstream(&text, &tn));
	ctldiff_print(mf, &f->d);
	fclose(mf);
	assert_non_null(strstr(text, "digest:  sha512 -> sha1"));
	free(text);
	{
		struct json_object *j = ctldiff_json(&f->d), *v;

		assert_true(json_object_object_get_ex(j, "differs", &v));
		assert_true(json_object_get_boolean(v));
		assert_true(json_object_object_get_ex(j, "new_digest", &v));
		assert_string_equal(json_object_get_string(v), "sha1");
		json_object_put(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_is_all_added, setup, teardown),
		cmocka_unit_test_setup_teardown(identical_is_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(other_name_form_is_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(nonsecure_drops_certificates, setup, teardown),
		cmocka_unit_test_setup_teardown(renamed_recertified_removed_added, setup, teardown),
		cmocka_unit_test_setup_teardown(select_records, setup, teardown),
		cmocka_unit_test_setup_teardown(every_sast_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(digest_change_is_a_change, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
