/* test_ctlrun.c - sign, check, audit and publish a CTL with a software signer (the
 * vectors' sast1 key), and the faults: a signer that fails as a pulled token does, a
 * directory that cannot be written, a file system that is "full" (RLIMIT_FSIZE). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "cluster.h"
#include "ctldiff.h"
#include "ctlmake.h"
#include "ctlrun.h"
#include "publish.h"
#include "state.h"

#define VEC CTL_TEST_DATA "/vectors/"

struct fx {
	char root[256], d1[300], d2[300], log[300], state[300];
	char *dirs[2];
	struct cluster *c;
	struct ctlmake_list recs;
	EVP_PKEY *key;
	X509 *cert;
	struct ctl_signer signer;
	struct ctlrun_opts o;
	FILE *out;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_err err = {0};
	X509 *s2;

	snprintf(f->root, sizeof(f->root), "%s/ctlrun.XXXXXX", TEST_TMP);
	mkdir(TEST_TMP, 0700);
	assert_non_null(mkdtemp(f->root));
	snprintf(f->d1, sizeof(f->d1), "%s/tftp1", f->root);
	snprintf(f->d2, sizeof(f->d2), "%s/tftp2", f->root);
	snprintf(f->log, sizeof(f->log), "%s/audit.log", f->root);
	/* ctlsign's own record of what it published: inside the fixture, never $HOME */
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	assert_int_equal(setenv(STATE_ENV, f->state, 1), 0);
	assert_int_equal(mkdir(f->d1, 0755), 0);
	assert_int_equal(mkdir(f->d2, 0755), 0);
	f->dirs[0] = f->d1;
	f->dirs[1] = f->d2;
	assert_int_equal(cluster_load(CLUSTERS_DIR "/ok-full.ini", &f->c, &err), CTL_OK);
	assert_non_null(f->key = ctl_pkey_load(VEC "sast1.key", &err));
	assert_non_null(f->cert = ctl_cert_load(VEC "sast1.crt", &err));
	assert_non_null(s2 = ctl_cert_load(VEC "sast2.crt", &err));
	assert_int_equal(ctlmake_append_sast(&f->recs, f->cert, &err), CTL_OK);
	assert_int_equal(ctlmake_append_sast(&f->recs, s2, &err), CTL_OK);
	X509_free(s2);
	assert_int_equal(ctlmake_append_servers(&f->recs, f->c, CLUSTER_MIXED, &err), CTL_OK);
	ctl_signer_from_pkey(&f->signer, f->key, f->cert);
	f->out = fopen("/dev/null", "w");
	f->o = (struct ctlrun_opts){
		.dirs = f->dirs, .ndirs = 2, .hash_alg = CTL_HASH_SHA512, .audit_log = f->log,
		.operation = "ctl-create", .token_label = "SAST-1", .token_serial = "1111",
		.out = f->out,
	};
	*state = f;
	return 0;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			char p[1024];
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			rm_rf(p);
		}
		closedir(d);
		chmod(path, 0700);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->root);
	ctlmake_list_free(&f->recs);
	cluster_free(f->c);
	EVP_PKEY_free(f->key);
	X509_free(f->cert);
	fclose(f->out);
	free(f);
	return 0;
}

/* Names in dir other than the expected ones: temp files left behind, etc. */
static size_t count_other(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "CTLFile.tlv") && strcmp(e->d_name, "CTLFile.tlv.bak") &&
		    strcmp(e->d_name, "CTLFile.tlv.bak.1") && strcmp(e->d_name, "CTLFile.tlv.bak.2"))
			n++;
	closedir(d);
	return n;
}

static void read_all(const char *path, struct ctl_buf *b)
{
	struct ctl_err err = {0};
	assert_int_equal(ctl_read_file(path, CTL_MAX_FILE_SIZE, b, &err), CTL_OK);
}

static size_t lines_with(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, needle) != NULL;
	fclose(fp);
	return n;
}

/* The state directory's record for dir is what dir/CTLFile.tlv holds. */
static void assert_recorded(const char *dir)
{
	struct ctl_err err = {0};
	struct ctl_buf b = {0};
	char path[400], hex[65], rec[65];
	bool found = false;

	snprintf(path, sizeof(path), "%s/CTLFile.tlv", dir);
	read_all(path, &b);
	assert_true(state_sha256_hex(b.data, b.len, hex));
	assert_int_equal(state_published_get(dir, "CTLFile.tlv", &found, rec, NULL, &err), CTL_OK);
	assert_true(found);
	assert_string_equal(rec, hex);
	ctl_buf_clear(&b);
}

static void publish_two_dirs(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct ctl_file *p = NULL;
	struct ctl_buf a = {0}, b = {0};
	char path[400];

	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_OK);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	read_all(path, &a);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d2);
	read_all(path, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(ctl_parse(a.data, a.len, &p, &err), CTL_OK);
	assert_int_equal(p->kind, CTL_KIND_CTL);
	assert_int_equal(p->hdr.version_major, 1);
	assert_int_equal(p->hdr.version_minor, 2);
	assert_true(p->hdr.has_signer_version);
	assert_int_equal(p->hdr.signer_version_major, 1);
	assert_int_equal(p->hdr.signer_version_minor, 0);
	assert_int_equal(p->hdr.hash_alg, CTL_HASH_SHA512);
	assert_int_equal(p->hdr.header_len % 4, 0);
	assert_string_equal(p->hdr.file_name, "CTLFile.tlv");
	assert_int_equal(p->nrecords, 6);
	assert_int_equal(p->records[0].role, CTL_ROLE_SAST);
	assert_int_equal(p->records[2].role, CTL_ROLE_CCM_TFTP);
	assert_string_equal(p->records[2].dns_name, "cucm1.example.com");
	assert_true(p->records[2].has_ip);
	assert_true(p->records[2].cert.len > 0);
	assert_int_equal(ctl_verify_self(p, &err), CTL_OK);
	assert_int_equal(ctl_verify_cert(p, f->cert, &err), CTL_OK);
	ctl_file_free(p);
	assert_int_equal(count_other(f->d1), 0);
	assert_int_equal(count_other(f->d2), 0);
	/* audit first: an intent per directory (absolute path, hash), then the outcome */
	assert_int_equal(lines_with(f->log, "\"phase\":\"intent\""), 2);
	assert_int_equal(lines_with(f->log, "\"operation\":\"ctl-create\""), 2);
	assert_int_equal(lines_with(f->log, "\"token_serial\":\"1111\""), 2);
	snprintf(path, sizeof(path), "\"output\":\"%s/CTLFile.tlv\"", f->d2);
	assert_int_equal(lines_with(f->log, path), 1);
	assert_int_equal(lines_with(f->log, "\"phase\":\"outcome\""), 1);
	assert_int_equal(lines_with(f->log, "\"operation\":\"publish\",\"phase\":\"outcome\""), 1);
	assert_int_equal(lines_with(f->log, "\"result\":\"ok\""), 3);
	/* each directory's CTL is recorded as what ctlsign published there */
	assert_recorded(f->d1);
	assert_recorded(f->d2);

	/* Again: the first file becomes the .bak. */
	f->o.operation = "ctl-update";
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_OK);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv.bak", f->d1);
	read_all(path, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(lines_with(f->log, "\"result\":\"ok\""), 6);

	/* Temp files a killed run left inside ctl_write_atomic are cleaned up; others stay. */
	{
		const char *names[] = {"CTLFile.tlv.tmp.Ab12Cd", "CTLFile.tlv.bak.tmp.zzzzzz",
				       "CTLFile.tlv.tmp.toolongname", "other.tmp.Ab12Cd"};
		for (int i = 0; i < 4; i++) {
			FILE *fp;
			snprintf(path, sizeof(path), "%s/%s", f->d1, names[i]);
			assert_non_null(fp = fopen(path, "w"));
			fclose(fp);
		}
		assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err),
				 CTL_OK);
		assert_int_equal(count_other(f->d1), 2);
		snprintf(path, sizeof(path), "%s/%s", f->d1, names[2]);
		assert_int_equal(unlink(path), 0);
		snprintf(path, sizeof(path), "%s/%s", f->d1, names[3]);
		assert_int_equal(unlink(path), 0);
	}
	ctl_buf_clear(&a);
	ctl_buf_clear(&b);
}

/* A signer that fails as a token pulled out during signing does (token.h contract). */
static int pulled_token(void *ctx, int hash_alg, const uint8_t *digest, size_t digest_len,
			struct cbb *sig, struct ctl_err *err)
{
	(void)ctx; (void)hash_alg; (void)digest; (void)digest_len; (void)sig;
	return ctl_fail(err, CTL_E_TOKEN, "the token was removed during signing");
}

static void token_removed_during_signing(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct ctl_signer bad = {f->cert, pulled_token, NULL};
	struct ctl_buf a = {0}, b = {0};
	char path[400];

	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_OK);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	read_all(path, &a);
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &bad, &f->o, &err), CTL_E_TOKEN);
	assert_non_null(strstr(err.msg, "removed"));
	assert_non_null(strstr(err.msg, "nothing was written"));
	read_all(path, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(count_other(f->d1), 0);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv.bak", f->d1);
	assert_int_equal(access(path, F_OK), -1); /* nothing was published the second time */
	assert_int_equal(lines_with(f->log, "removed during signing"), 1);
	ctl_buf_clear(&a);
	ctl_buf_clear(&b);
}

/* A signature by another key than the certificate's: the self-check refuses it. */
static void wrong_key_never_published(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct ctl_signer bad;
	EVP_PKEY *other = ctl_pkey_load(VEC "sast2.key", &err);
	char path[400];

	assert_non_null(other);
	ctl_signer_from_pkey(&bad, other, f->cert);
	assert_int_not_equal(ctlrun_finish(f->recs.recs, f->recs.n, &bad, &f->o, &err), CTL_OK);
	assert_non_null(strstr(err.msg, "nothing was written"));
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_other(f->d1), 0);
	EVP_PKEY_free(other);
}

/* The second directory cannot take the file: reported, the first one done, the old
 * file left in place in the second. As root permissions do not stop writes, the
 * "unwritable" directory is then a directory that was moved away; and a regular file
 * where the directories should be. A directory where CTLFile.tlv.bak should be is a
 * planted file (attack 4): refused before anything is written anywhere. */
static void one_directory_fails(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct ctl_buf a = {0}, b = {0}, a1 = {0};
	char path[400], bak[420], moved[420], p1[400];

	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_OK);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d2);
	read_all(path, &a);
	snprintf(p1, sizeof(p1), "%s/CTLFile.tlv", f->d1);
	read_all(p1, &a1);
	snprintf(bak, sizeof(bak), "%s/CTLFile.tlv.bak", f->d2);
	assert_int_equal(mkdir(bak, 0755), 0);
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err),
			 CTL_E_POLICY);
	assert_non_null(strstr(err.msg, bak));
	read_all(p1, &b); /* the first directory untouched too */
	assert_int_equal(a1.len, b.len);
	assert_memory_equal(a1.data, b.data, b.len);
	ctl_buf_clear(&b);
	assert_int_equal(rmdir(bak), 0);

	snprintf(moved, sizeof(moved), "%s/moved", f->root);
	if (geteuid() != 0)
		assert_int_equal(chmod(f->d2, 0555), 0);
	else
		assert_int_equal(rename(f->d2, moved), 0);
	{
		struct publish_result res[2];
		struct ctlrun_next nx = {.res = res, .nres = 2};
		char *text = NULL, want[600];
		size_t tn = 0;
		FILE *mf;

		f->o.results = res;
		assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err),
				 CTL_E_PARTIAL);
		f->o.results = NULL;
		/* the truth, in the audit log and in the next steps (issue 12, item 11) */
		snprintf(want, sizeof(want), "\"detail\":\"the old file is still in: %s\"", f->d2);
		assert_int_equal(lines_with(f->log, want), 1);
		assert_non_null(mf = open_memstream(&text, &tn));
		ctlrun_print_next(mf, f->c, &nx);
		fclose(mf);
		snprintf(want, sizeof(want), "NOT DONE: %s still holds the previous CTL", f->d2);
		assert_non_null(strstr(text, want));
		snprintf(want, sizeof(want), "NOT DONE: %s ", f->d1);
		assert_null(strstr(text, want));
		free(text);
	}
	assert_non_null(strstr(err.msg, "published to 1 of 2 directories"));
	assert_int_equal(lines_with(f->log, "\"result\":\"partial\""), 1);
	if (geteuid() == 0)
		assert_int_equal(rename(moved, f->d2), 0);
	read_all(path, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	chmod(f->d2, 0755);
	assert_int_equal(count_other(f->d2), 0);
	assert_int_equal(count_other(f->d1), 0);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv.bak", f->d1);
	assert_int_equal(access(path, F_OK), 0);
	/* the record follows each directory: the new CTL in d1, the old one in d2 */
	assert_recorded(f->d1);
	assert_recorded(f->d2);

	/* Both fail: a file where the directories should be. */
	f->o.ndirs = 1;
	f->dirs[0] = path; /* a regular file */
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_E_IO);
	assert_non_null(strstr(err.msg, "published to 0 of 1"));
	ctl_buf_clear(&a);
	ctl_buf_clear(&a1);
	ctl_buf_clear(&b);
}

/* "Disk full": a file size limit smaller than a CTL (the write fails with EFBIG). */
static void disk_full(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct ctl_buf a = {0}, b = {0};
	struct rlimit old, lim;
	char path[400];
	int rc;

	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_OK);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	read_all(path, &a);
	assert_true(a.len > 2048);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 2048;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, CTL_E_IO);
	read_all(path, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(count_other(f->d1), 0);
	assert_int_equal(count_other(f->d2), 0);
	ctl_buf_clear(&a);
	ctl_buf_clear(&b);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[400];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

static void lock_busy_and_stale(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct publish_lock *l1 = NULL, *l2 = NULL;
	char path[400], pid[32];
	struct ctl_buf b = {0};

	assert_int_equal(publish_lock(f->dirs, 2, 0, NULL, &l1, &err), CTL_OK);
	/* the PID is in the lock file from the moment it exists */
	snprintf(path, sizeof(path), "%s/%s", f->d2, PUBLISH_LOCK_NAME);
	read_all(path, &b);
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	assert_int_equal(b.len, strlen(pid));
	assert_memory_equal(b.data, pid, b.len);
	ctl_buf_clear(&b);
	/* a second holder (another open file description) waits, then gives up naming us */
	assert_int_equal(publish_lock(&f->dirs[1], 1, 1, NULL, &l2, &err), CTL_E_CANCELLED);
	snprintf(pid, sizeof(pid), "pid %ld: ", (long)getpid());
	assert_non_null(strstr(err.msg, pid));
	assert_non_null(strstr(err.msg, "test_ctlrun")); /* its command line */
	assert_null(strstr(err.msg, "pid 0"));
	assert_null(l2);
	publish_unlock(l1);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/%s", f->d1, PUBLISH_LOCK_NAME);
	assert_int_equal(access(path, F_OK), -1);
	/* a lock file left by a run that died: taken over, our PID in it */
	put_file(f->d1, PUBLISH_LOCK_NAME, "999999\n");
	assert_int_equal(publish_lock(f->dirs, 1, 0, NULL, &l1, &err), CTL_OK);
	read_all(path, &b);
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	assert_memory_equal(b.data, pid, strlen(pid));
	ctl_buf_clear(&b);
	publish_unlock(l1);
	assert_int_equal(count_other(f->d1), 0);
	/* one directory named twice (another path): locked once, no waiting for ourselves */
	{
		char other[420], *two[2] = {f->d1, other};
		snprintf(other, sizeof(other), "%s/../tftp1/.", f->d1);
		assert_int_equal(publish_lock(two, 2, 0, NULL, &l1, &err), CTL_OK);
		publish_unlock(l1);
		assert_int_equal(count_other(f->d1), 0);
	}
}

/* Attack 4: a lock file, CTLFile.tlv or .bak that is not a regular file is refused
 * (CTL_E_POLICY, naming it), in any directory, before the first is locked or written. */
static void planted_files_refused(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct publish_lock *l = NULL;
	static const char *const names[] = {"CTLFile.tlv", "CTLFile.tlv.bak", NULL};
	struct publish_result res[2];
	char path[400], secret[400];
	struct ctl_buf b = {0};

	snprintf(secret, sizeof(secret), "%s/secret", f->root);
	put_file(f->root, "secret", "the secret\n");
	chmod(secret, 0600);

	/* lock files: a symlink, a FIFO, a directory */
	snprintf(path, sizeof(path), "%s/%s", f->d2, PUBLISH_LOCK_NAME);
	assert_int_equal(symlink(secret, path), 0);
	assert_int_equal(publish_lock(f->dirs, 2, 0, names, &l, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_null(l);
	assert_int_equal(count_other(f->d1), 0); /* the first directory was not locked */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(publish_lock(f->dirs, 2, 0, names, &l, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "FIFO"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(publish_lock(f->dirs, 2, 0, names, &l, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "directory"));
	assert_int_equal(rmdir(path), 0);

	/* CTLFile.tlv in the second directory: refused once all locks are taken, and the
	 * locks are given back */
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d2);
	assert_int_equal(symlink(secret, path), 0);
	assert_int_equal(publish_lock(f->dirs, 2, 0, names, &l, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(count_other(f->d1), 0);
	/* publish_all refuses it too, before writing the first directory */
	assert_int_equal(publish_all(f->dirs, 2, "CTLFile.tlv", (const uint8_t *)"x", 1, res),
			 CTL_E_POLICY);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	assert_int_equal(access(path, F_OK), -1);
	/* and ctlrun_finish: nothing published, the secret copied nowhere */
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err),
			 CTL_E_POLICY);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv.bak", f->d2);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(lines_with(f->log, "\"result\":\"failed\""), 1);

	/* a .bak that is a symlink: refused the same way */
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d2);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv.bak", f->d1);
	assert_int_equal(symlink(secret, path), 0);
	assert_int_equal(publish_lock(f->dirs, 2, 0, names, &l, &err), CTL_E_POLICY);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(unlink(path), 0);
	/* the previous CTL is read without following links, also by publish_read */
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	assert_int_equal(symlink(secret, path), 0);
	assert_int_equal(publish_read(f->d1, "CTLFile.tlv", 1 << 20, &b, NULL, &err), CTL_E_POLICY);
	assert_null(b.data);
	assert_int_equal(unlink(path), 0);
}

/* Audit first, publish second: the intent cannot be written, so nothing is published. */
static void unaudited_never_published(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	char path[400];

	assert_int_equal(mkdir(f->log, 0700), 0); /* a directory where the log should be */
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_E_IO);
	assert_non_null(strstr(err.msg, "not published"));
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_other(f->d1), 0);
	assert_int_equal(count_other(f->d2), 0);
}

static void append_n(const char *log, int n)
{
	struct ctl_err err = {0};

	for (int i = 0; i < n; i++) {
		char detail[32];
		struct audit_rec a = {.operation = "sign", .output = "rel/out.sgn", .result = "ok",
				      .detail = detail};
		snprintf(detail, sizeof(detail), "record %d", i);
		assert_int_equal(audit_append(log, &a, &err), CTL_OK);
	}
}

/* Rewrites log with line `line` (1-based) replaced by repl, or deleted (repl NULL). */
static void rewrite_line(const char *log, long line, const char *repl)
{
	char buf[65536], *p = buf, *end;
	size_t n;
	long no = 1;
	FILE *fp = fopen(log, "r");

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	assert_non_null(fp = fopen(log, "w"));
	while (*p) {
		end = strchr(p, '\n');
		assert_non_null(end);
		if (no == line) {
			if (repl)
				fprintf(fp, "%s\n", repl);
		} else {
			fwrite(p, 1, (size_t)(end - p + 1), fp);
		}
		p = end + 1;
		no++;
	}
	fclose(fp);
}

static void audit_chain(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct audit_verify v;
	char line[4096], cwd[300];
	FILE *fp;

	append_n(f->log, 5);
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.lines, 5);
	assert_int_equal(v.first_bad, 0);
	assert_int_equal(v.unchained, 0);
	/* outputs are absolute */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(line, sizeof(line), "\"output\":\"%s/rel/out.sgn\"", cwd);
	assert_int_equal(lines_with(f->log, line), 5);
	assert_int_equal(lines_with(f->log, "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\""), 1);

	/* an edited record: the next line no longer chains to it */
	assert_non_null(fp = fopen(f->log, "r"));
	for (int i = 0; i < 3; i++)
		assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	{
		char *r = strstr(line, "record 2");
		assert_non_null(r);
		r[7] = '9';
		line[strlen(line) - 1] = 0;
	}
	rewrite_line(f->log, 3, line);
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.first_bad, 4);
	assert_non_null(strstr(v.why, "line 3"));

	/* a deleted record */
	assert_int_equal(unlink(f->log), 0);
	append_n(f->log, 5);
	rewrite_line(f->log, 2, NULL);
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.first_bad, 2);
	/* the first record deleted */
	assert_int_equal(unlink(f->log), 0);
	append_n(f->log, 3);
	rewrite_line(f->log, 1, NULL);
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.first_bad, 1);
	/* a "prev" field removed from a chained record */
	assert_int_equal(unlink(f->log), 0);
	append_n(f->log, 3);
	rewrite_line(f->log, 2, "{\"operation\":\"sign\",\"result\":\"ok\"}");
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.first_bad, 2);

	/* a log written before the chain existed: unchained up to line 2, then chained */
	assert_int_equal(unlink(f->log), 0);
	assert_non_null(fp = fopen(f->log, "w"));
	fputs("{\"time\":\"2025-01-01T00:00:00Z\",\"operation\":\"sign\",\"result\":\"ok\"}\n", fp);
	fputs("{\"time\":\"2025-01-02T00:00:00Z\",\"operation\":\"sign\",\"result\":\"ok\"}\n", fp);
	fclose(fp);
	append_n(f->log, 2);
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.unchained, 2);
	assert_int_equal(v.lines, 4);
	assert_int_equal(v.first_bad, 0);
	/* the last old line edited: the first chained one says so */
	rewrite_line(f->log, 2, "{\"time\":\"2025-01-02T00:00:00Z\",\"operation\":\"sign\",\"result\":\"no\"}");
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.first_bad, 3);

	/* a torn last line (a write that failed) is cut off by the next append */
	assert_int_equal(unlink(f->log), 0);
	append_n(f->log, 2);
	assert_non_null(fp = fopen(f->log, "a"));
	fputs("{\"time\":\"20", fp);
	fclose(fp);
	append_n(f->log, 1);
	assert_int_equal(audit_verify(f->log, &v, &err), CTL_OK);
	assert_int_equal(v.lines, 3);
	assert_int_equal(v.first_bad, 0);
}

/* An intent without an outcome (a run killed while publishing) is reported once by the
 * next run over that directory, and closed with an "interrupted" outcome. */
static void interrupted_reported(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct audit_rec a = {.operation = "sign", .phase = "intent", .intent = "1-2-3",
			      .result = "ok"};
	char out[400], other[400];
	size_t found = 9;
	FILE *rep = tmpfile();

	assert_non_null(rep);
	snprintf(out, sizeof(out), "%s/x.cnf.xml.sgn", f->d1);
	snprintf(other, sizeof(other), "%s/y.cnf.xml.sgn", f->d2);
	a.output = out;
	assert_int_equal(audit_append(f->log, &a, &err), CTL_OK);
	a.intent = "4-5-6";
	a.output = other;
	assert_int_equal(audit_append(f->log, &a, &err), CTL_OK);
	a = (struct audit_rec){.operation = "publish", .phase = "outcome", .intent = "4-5-6",
			       .result = "ok"};
	assert_int_equal(audit_append(f->log, &a, &err), CTL_OK);
	/* d2's intent has its outcome: nothing to say about d2 */
	assert_int_equal(audit_report_interrupted(f->log, &f->dirs[1], 1, "does X", rep, &found, &err), CTL_OK);
	assert_int_equal(found, 0);
	assert_int_equal(audit_report_interrupted(f->log, f->dirs, 1, "does X", rep, &found, &err), CTL_OK);
	assert_int_equal(found, 1);
	assert_int_equal(audit_report_interrupted(f->log, f->dirs, 1, "does X", rep, &found, &err), CTL_OK);
	assert_int_equal(found, 0);
	{
		char line[1024] = "";
		rewind(rep);
		assert_non_null(fgets(line, sizeof(line), rep));
		assert_non_null(strstr(line, "an earlier run was interrupted after announcing 1 file"));
		assert_non_null(strstr(line, out));
		assert_non_null(strstr(line, "this run does X"));
	}
	assert_int_equal(lines_with(f->log, "\"result\":\"interrupted\""), 1);
	fclose(rep);
}

/* The state directory cannot take records. Before publishing (the record of what is
 * being published): nothing is published. After publishing (ctlrun_record): exit 3,
 * saying that the CTL is published but not recorded and that the next update will need
 * --trust-current with its hash. */
static void record_fails(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct publish_result res[2];
	static const uint8_t data[] = "a CTL";
	char path[400], blocker[320], hex[65];
	int rc = CTL_OK;
	FILE *fp;

	snprintf(blocker, sizeof(blocker), "%s/not-a-dir", f->root);
	assert_non_null(fp = fopen(blocker, "w"));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/state", blocker);
	assert_int_equal(setenv(STATE_ENV, path, 1), 0);
	assert_int_equal(ctlrun_finish(f->recs.recs, f->recs.n, &f->signer, &f->o, &err), CTL_E_IO);
	assert_non_null(strstr(err.msg, "not published"));
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d1);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", f->d2);
	assert_int_equal(access(path, F_OK), -1);

	memset(res, 0, sizeof(res));
	res[0].dir = f->d1;
	res[0].rc = CTL_OK;
	res[1].dir = f->d2;
	res[1].rc = CTL_E_IO; /* not published there: nothing to record */
	memset(&err, 0, sizeof(err));
	ctlrun_record(res, 2, data, sizeof(data), &rc, &err);
	assert_int_equal(rc, CTL_E_IO);
	assert_true(state_sha256_hex(data, sizeof(data), hex));
	assert_non_null(strstr(err.msg, "is published in"));
	assert_non_null(strstr(err.msg, f->d1));
	assert_non_null(strstr(err.msg, "not recorded"));
	assert_non_null(strstr(err.msg, "--trust-current"));
	assert_non_null(strstr(err.msg, hex));
	/* a partial publication keeps its code; the record failure is printed besides */
	rc = CTL_E_PARTIAL;
	ctlrun_record(res, 2, data, sizeof(data), &rc, &err);
	assert_int_equal(rc, CTL_E_PARTIAL);
	assert_int_equal(setenv(STATE_ENV, f->state, 1), 0);
	rc = CTL_OK;
	ctlrun_record(res, 2, data, sizeof(data), &rc, &err);
	assert_int_equal(rc, CTL_OK);
}

/* The next steps fit the change (issue 12, item 12): the cluster's own CCM/TFTP services
 * are restarted, an alternate TFTP server of another cluster is not told to restart
 * anything, CAPF is restarted when its record changed, the CTL is imported on an ASA whose
 * record changed; a CTL replaced by create --force means erasing it on every phone. */
static void next_steps_fit_the_change(void **state)
{
	struct fx *f = *state;
	struct ctl_err err = {0};
	struct ctldiff all = {0}, none = {0};
	struct ctlrun_next nx = {0};
	char *text = NULL;
	size_t tn = 0;
	FILE *mf;

	/* a first CTL: every server record is new */
	assert_int_equal(ctldiff_compute(NULL, 0, -1, f->recs.recs, f->recs.n, CLUSTER_MIXED, &all,
					 &err), CTL_OK);
	nx.diff = &all;
	assert_non_null(mf = open_memstream(&text, &tn));
	ctlrun_print_next(mf, f->c, &nx);
	fclose(mf);
	assert_non_null(strstr(text, "restart the Cisco CallManager and Cisco TFTP services on cucm1 (cucm1.example.com)"));
	assert_non_null(strstr(text, "restart the Cisco Certificate Authority Proxy Function (CAPF) service on capf (capf.example.com)"));
	assert_non_null(strstr(text, "import the new CTL on the ASA firewall asa1 (asa1.example.com)"));
	assert_null(strstr(text, "alt1"));
	assert_null(strstr(text, "tftp.other.example.com"));
	assert_non_null(strstr(text, "reset all devices"));
	assert_null(strstr(text, "Erase"));
	free(text);
	text = NULL;

	/* nothing changed in CAPF or the firewall: neither is mentioned; replaced: erase */
	assert_int_equal(ctldiff_compute(f->recs.recs, f->recs.n, CLUSTER_MIXED, f->recs.recs,
					 f->recs.n, CLUSTER_MIXED, &none, &err), CTL_OK);
	nx.diff = &none;
	nx.replaced = true;
	assert_non_null(mf = open_memstream(&text, &tn));
	ctlrun_print_next(mf, f->c, &nx);
	fclose(mf);
	assert_non_null(strstr(text, "restart the Cisco CallManager and Cisco TFTP services on cucm1"));
	assert_null(strstr(text, "CAPF"));
	assert_null(strstr(text, "ASA"));
	assert_non_null(strstr(text, "erase the CTL on every phone (Settings > Security > CTL > Erase, or a factory reset)"));
	assert_null(strstr(text, "reset all devices"));
	free(text);
	ctldiff_free(&all);
	ctldiff_free(&none);
}

static void assert_text(const char *dir, const char *name, const char *want)
{
	char path[400];
	struct ctl_buf b = {0};

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	read_all(path, &b);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	ctl_buf_clear(&b);
}

/* Three generations of backups (issue 12): a --force after a recovery does not overwrite
 * the only copy of the CTL from before it. A rerun after a kill that already wrote .bak
 * shifts nothing (no generation lost, none doubled). */
static void three_backups(void **state)
{
	struct fx *f = *state;
	static const char *const gen[] = {"one", "two", "three", "four", "five"};
	struct publish_result res[1];
	char *dirs[1] = {f->d1};

	for (size_t i = 0; i < 5; i++)
		assert_int_equal(publish_all(dirs, 1, "CTLFile.tlv", (const uint8_t *)gen[i],
					     strlen(gen[i]), res), CTL_OK);
	assert_text(f->d1, "CTLFile.tlv", "five");
	assert_text(f->d1, "CTLFile.tlv.bak", "four");
	assert_text(f->d1, "CTLFile.tlv.bak.1", "three");
	assert_text(f->d1, "CTLFile.tlv.bak.2", "two");
	assert_int_equal(count_other(f->d1), 0);

	/* killed after "five" became .bak, before "six" was in place: the rerun */
	put_file(f->d1, "CTLFile.tlv.bak", "five");
	put_file(f->d1, "CTLFile.tlv.bak.1", "four");
	put_file(f->d1, "CTLFile.tlv.bak.2", "three");
	assert_int_equal(publish_all(dirs, 1, "CTLFile.tlv", (const uint8_t *)"six", 3, res), CTL_OK);
	assert_text(f->d1, "CTLFile.tlv", "six");
	assert_text(f->d1, "CTLFile.tlv.bak", "five");
	assert_text(f->d1, "CTLFile.tlv.bak.1", "four");
	assert_text(f->d1, "CTLFile.tlv.bak.2", "three");

	/* killed between the two shifts (.bak.1 already moved to .bak.2): nothing lost */
	{
		char p[400];

		snprintf(p, sizeof(p), "%s/CTLFile.tlv.bak.1", f->d1);
		assert_int_equal(unlink(p), 0);
	}
	put_file(f->d1, "CTLFile.tlv.bak.2", "four");
	assert_int_equal(publish_all(dirs, 1, "CTLFile.tlv", (const uint8_t *)"seven", 5, res), CTL_OK);
	assert_text(f->d1, "CTLFile.tlv", "seven");
	assert_text(f->d1, "CTLFile.tlv.bak", "six");
	assert_text(f->d1, "CTLFile.tlv.bak.1", "five");
	assert_text(f->d1, "CTLFile.tlv.bak.2", "four");

	/* a planted backup generation is refused like a planted .bak */
	{
		char p[400];

		snprintf(p, sizeof(p), "%s/CTLFile.tlv.bak.2", f->d1);
		assert_int_equal(unlink(p), 0);
		assert_int_equal(symlink("/etc/passwd", p), 0);
		assert_int_equal(publish_all(dirs, 1, "CTLFile.tlv", (const uint8_t *)"x", 1, res),
				 CTL_E_POLICY);
		assert_text(f->d1, "CTLFile.tlv", "seven");
		assert_int_equal(unlink(p), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(publish_two_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(token_removed_during_signing, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_key_never_published, setup, teardown),
		cmocka_unit_test_setup_teardown(one_directory_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(lock_busy_and_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(record_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(unaudited_never_published, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupted_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(next_steps_fit_the_change, setup, teardown),
		cmocka_unit_test_setup_teardown(three_backups, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
