/* cmd_encrypt.c - `ctlsign encrypt`: SEP<MAC>.cnf.xml -> SEP<MAC>.cnf.xml.enc.sgn plus the
 * minimal signed SEP<MAC>.cnf.xml.sgn, then the clear file goes (SPEC §3.4, §4.4). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "bulk.h"
#include "devcfg.h"
#include "publish.h"
#include "session.h"
#include "sign.h"
#include "tool.h"

static const char usage[] =
	"usage: ctlsign encrypt [options] --device-cert CERT SEP<MAC>.cnf.xml\n"
	"       ctlsign encrypt [options] --device-certs CERTDIR SEP<MAC>.cnf.xml...\n"
	"       ctlsign encrypt [options] --device-certs CERTDIR --dir TFTPDIR\n"
	"\n"
	"Encrypts device configurations to the phone's certificate (LSC or MIC, RSA only):\n"
	"writes SEP<MAC>.cnf.xml.enc.sgn (fresh AES-128 key and IV per file, SPEC 3.4) and the\n"
	"minimal signed SEP<MAC>.cnf.xml.sgn (fullConfig false, encrConfig true, certHash, and\n"
	"ipAddressMode, loadInformation, capfAuthMode, capfList copied from the full config),\n"
	"then deletes the clear SEP<MAC>.cnf.xml once both are safely written. The file must\n"
	"have a <device> root element.\n"
	"A certificate whose subject names another phone (CN=SEP<MAC>, or a MIC's\n"
	"CN=<model>-SEP<MAC>) than the file is refused for that phone (9); an expired one\n"
	"gives a warning.\n"
;

enum { O_CTL = SIGN_O_OWN, O_DIR, O_CERT, O_CERTS, O_KEEP };

static const struct tool_opt encrypt_opts[] = {
	{O_CERT, "device-cert", "CERT", "the phone's certificate (PEM or DER), for one file"},
	{O_CERTS, "device-certs", "DIR",
	 "phones' certificates named by MAC: SEP<MAC>.pem, .crt or .der (or <MAC>.pem/.crt/.der), "
	 "MAC as in the file name"},
	{O_DIR, "dir", "TFTPDIR",
	 "encrypt every SEP<MAC>.cnf.xml in TFTPDIR (needs --device-certs); phones without a "
	 "certificate are skipped (they stay in the clear; counted, not failed)"},
	{O_KEEP, "keep-clear", NULL, "do not delete the clear configuration"},
	TOOL_OPT_END,
};
static const struct tool_opt encrypt_out_opts[] = {
	{'o', "out", "DIR", "write the outputs into DIR"},
	{O_CTL, "ctl", "FILE",
	 "the cluster's CTL (default: CTLFile.tlv in TFTPDIR / DIR / the first file's directory): "
	 "the signer must have a TFTP role in it"},
	SIGN_OPT_WAIT_DIR,
	{'q', "quiet", NULL, "no per-file messages"},
	SIGN_OPT_JSON("summary as JSON on stdout"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {encrypt_opts, sign_opts_signer, encrypt_out_opts,
					      NULL};

static const char footer[] =
	"Exit: 0 all done (also with phones skipped for want of a certificate), 13 some files failed, 11 token failure (stops the run), 7 EC device\n"
	"certificate, 4 not a <device> configuration.\n";

struct enc {
	struct session s;
	int hash;
	const char *outdir, *cert_path, *certs_dir;
	bool keep, quiet, bulk;
	unsigned long encrypted, failed, not_done, skipped;
	int last_code;
	struct json_object *failures, *skipped_files;
	bool stopped;
	struct ctl_err stop;
};

static int read_at(int dfd, const char *name, struct ctl_buf *out, struct ctl_err *err)
{
	int refused, rc, fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return ctl_fail(err, CTL_E_IO, "cannot open: %s",
				errno == ELOOP ? "symbolic link, not followed" : strerror(errno));
	rc = ctl_read_regular(fd, name, 4 * 1024 * 1024, out, &refused, err);
	close(fd);
	if (refused)
		return ctl_fail(err, CTL_E_IO, "not a regular file of at most 4 MiB");
	return rc;
}

/* encrypt_one's "not done, and not a failure": in a TFTP directory, a phone without a
 * certificate keeps its clear config (most phones of a cluster have none). */
#define ENC_SKIPPED (-1)

/* A warning (not a refusal) for a device certificate outside its validity period: a
 * phone keeps using its LSC, and the officer may have no newer one yet. */
static void warn_validity(const struct enc *e, X509 *cert, const char *name)
{
	int v = devcfg_cert_validity(cert, 0);
	char *dn;
	BIO *b;
	char when[64] = "?";
	long n;

	if (!v || e->quiet)
		return;
	dn = bulk_display_name(name);
	if ((b = BIO_new(BIO_s_mem()))) {
		if (ASN1_TIME_print(b, v > 0 ? X509_get0_notAfter(cert) : X509_get0_notBefore(cert)) &&
		    (n = BIO_read(b, when, sizeof(when) - 1)) > 0)
			when[n] = 0;
		BIO_free(b);
	}
	fprintf(stderr, "ctlsign: warning: %s: the device certificate %s %s; encrypting to it anyway (check that the phone still holds this certificate)\n",
		dn ? dn : "?", v > 0 ? "expired on" : "is not valid before", when);
	free(dn);
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* One configuration being encrypted: its inputs, outputs and their names. */
struct enc_file {
	const char *name, *odir;
	X509 *cert;
	struct ctl_buf plain, encd, mini, minisgn;
	char *enc_path, *sgn_path, *enc_name, *sgn_name;
};

/* Reads the configuration and finds the phone's certificate (f->cert), checked. */
static int load_input(const struct enc *e, int dfd, struct enc_file *f, struct ctl_err *err)
{
	char mac[13];
	bool have_mac = devcfg_mac_from_name(f->name, mac), missing = false;
	int rc;

	if ((rc = read_at(dfd, f->name, &f->plain, err)) != CTL_OK)
		return rc;
	if ((rc = devcfg_check_device(f->plain.data, f->plain.len, err)) != CTL_OK)
		return rc;
	if (e->cert_path) {
		f->cert = ctl_cert_load(e->cert_path, err);
	} else if (!have_mac) {
		return ctl_fail(err, CTL_E_USAGE,
				"the file name is not SEP<MAC>.cnf.xml, so its certificate cannot be found by MAC (use --device-cert)");
	} else {
		f->cert = devcfg_find_cert(e->certs_dir, mac, &missing, err);
	}
	if (!f->cert) {
		/* In a directory, a phone without a certificate is not a failure: it stays in
		 * the clear. Named explicitly, it is. */
		return missing && e->bulk ? ENC_SKIPPED : err->code ? err->code : CTL_E_IO;
	}
	if ((rc = devcfg_check_cert(f->cert, "the device certificate", err)) != CTL_OK)
		return rc;
	/* The certificate must be this phone's: one naming another MAC would make the phone
	 * unable to read its config (and give another phone's owner the content). */
	if (have_mac && (rc = devcfg_check_cert_mac(f->cert, mac, err)) != CTL_OK)
		return rc;
	warn_validity(e, f->cert, f->name);
	return CTL_OK;
}

/* The .enc.sgn and the minimal .sgn, in memory. */
static int build_outputs(const struct enc *e, struct enc_file *f, struct ctl_err *err)
{
	struct ctl_build_opts bo;
	int rc;

	f->enc_name = ctl_path_join("", f->name, ".enc.sgn");
	f->sgn_name = ctl_path_join("", f->name, ".sgn");
	f->enc_path = ctl_path_join(f->odir, f->name, ".enc.sgn");
	f->sgn_path = ctl_path_join(f->odir, f->name, ".sgn");
	if (!f->enc_name || !f->sgn_name || !f->enc_path || !f->sgn_path)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	memset(&bo, 0, sizeof(bo));
	bo.hash_alg = e->hash;
	bo.signer_version_minor = -1;
	bo.file_name = f->enc_name + 1; /* a join with "" puts a '/' first */
	if ((rc = ctl_build_enc_sgn(f->plain.data, f->plain.len, f->cert, e->s.signer, &bo,
				    &f->encd, err)) != CTL_OK)
		return rc;
	if ((rc = devcfg_minimal(f->plain.data, f->plain.len, f->cert, &f->mini, err)) != CTL_OK)
		return rc;
	bo.file_name = f->sgn_name + 1;
	return ctl_build_sgn(f->mini.data, f->mini.len, e->s.signer, &bo, &f->minisgn, err);
}

/* One transaction: both temporary files written and synced; the .enc.sgn renamed (a phone
 * prefers it), then the minimal .sgn; the directory synced. res2: the two outputs'
 * results for the audit outcome. */
static int write_pair(const struct enc_file *f, const char **res2, struct ctl_err *err)
{
	char *tmp_enc = NULL, *tmp_sgn = NULL;
	int rc;

	rc = ctl_write_temp(f->enc_path, f->encd.data, f->encd.len, 0644, &tmp_enc, err);
	if (rc == CTL_OK && (rc = ctl_write_temp(f->sgn_path, f->minisgn.data, f->minisgn.len, 0644,
						 &tmp_sgn, err)) != CTL_OK)
		unlink(tmp_enc);
	if (rc == CTL_OK && rename(tmp_enc, f->enc_path) != 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot rename %s to %s: %s", tmp_enc, f->enc_path, strerror(errno));
		unlink(tmp_enc);
		unlink(tmp_sgn);
	} else if (rc == CTL_OK && rename(tmp_sgn, f->sgn_path) != 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot rename %s to %s (%s is in place): %s; run again", tmp_sgn, f->sgn_path, f->enc_path, strerror(errno));
		unlink(tmp_sgn);
		res2[1] = err->msg;
	} else if (rc == CTL_OK && sync_dir(f->odir) != 0) {
		rc = ctl_fail(err, CTL_E_IO, "%s and %s are in place but the directory could not be synced: they may not survive a power loss, so the clear configuration stays; run again",
			      f->enc_path, f->sgn_path);
		res2[0] = res2[1] = BULK_UNSYNCED; /* the outcome says what is true */
	}
	free(tmp_enc);
	free(tmp_sgn);
	if (rc != CTL_OK && !strcmp(res2[1], "ok"))
		res2[0] = res2[1] = err->msg;
	return rc;
}

/* Audit first, publish second: both outputs announced before the first rename; only
 * then the clear configuration removed; then the outcome. Stopped anywhere, the clear
 * file is still there, and the next run does it all again. */
static int publish_pair(struct enc *e, int dfd, const struct enc_file *f, struct ctl_err *err)
{
	struct bulk_done d[2] = {
		{f->enc_path, f->encd.data, f->encd.len, "ok"},
		{f->sgn_path, f->minisgn.data, f->minisgn.len, "ok"},
	};
	char id[BULK_ID_MAX];
	const char *res2[2] = {"ok", "ok"};
	int rc;

	if ((rc = session_audit_intent2(&e->s, d, id, err)) != CTL_OK) {
		ctl_fail_prefix(err, "nothing written (no audit record)");
		return rc;
	}
	rc = write_pair(f, res2, err);
	/* Both outputs are durable: only now does the clear configuration go. */
	if (rc == CTL_OK && !e->keep && unlinkat(dfd, f->name, 0) != 0)
		rc = ctl_fail(err, CTL_E_IO,
			      "encrypted, but cannot delete the clear configuration: %s; run again, or delete it by hand",
			      strerror(errno));
	else if (rc == CTL_OK && !e->keep && fsync(dfd) != 0)
		rc = ctl_fail(err, CTL_E_IO,
			      "encrypted and the clear configuration deleted, but the directory could not be synced (%s): the deletion may not survive a power loss; run again",
			      strerror(errno));
	d[0].result = res2[0];
	d[1].result = res2[1];
	session_audit_outcome(&e->s, id, d, 2);
	if (rc != CTL_OK)
		return rc;
	if (e->s.audit_failed) {
		*err = e->s.audit_err;
		return err->code ? err->code : CTL_E_IO;
	}
	return CTL_OK;
}

static int encrypt_one(struct enc *e, int dfd, const char *dir, const char *name,
		       struct ctl_err *err)
{
	struct enc_file f;
	char *disp = NULL;
	int rc;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.odir = e->outdir ? e->outdir : dir;
	if ((rc = load_input(e, dfd, &f, err)) == CTL_OK &&
	    (rc = build_outputs(e, &f, err)) == CTL_OK &&
	    (rc = publish_pair(e, dfd, &f, err)) == CTL_OK) {
		if (!e->quiet && (disp = bulk_display_name(f.enc_path)))
			fprintf(stderr, "ctlsign: wrote %s\n", disp);
	}
	free(disp);
	X509_free(f.cert);
	ctl_buf_clear(&f.plain);
	ctl_buf_clear(&f.encd);
	ctl_buf_clear(&f.mini);
	ctl_buf_clear(&f.minisgn);
	free(f.enc_path);
	free(f.sgn_path);
	free(f.enc_name);
	free(f.sgn_name);
	return rc;
}

/* Runs one file and accounts for it; false when the run must stop (token fault). */
static bool do_file(struct enc *e, int dfd, const char *dir, const char *name)
{
	struct ctl_err err;
	char *dn = bulk_display_name(name);
	int rc;

	memset(&err, 0, sizeof(err));
	rc = encrypt_one(e, dfd, dir, name, &err);
	if (rc == CTL_OK) {
		e->encrypted++;
	} else if (rc == ENC_SKIPPED) {
		e->skipped++;
		if (json_object_array_length(e->skipped_files) < 100)
			json_object_array_add(e->skipped_files, json_object_new_string(dn ? dn : "?"));
	} else if (rc == CTL_E_TOKEN) {
		e->stopped = true;
		e->stop = err;
		e->not_done++;
	} else {
		e->failed++;
		e->last_code = rc;
		if (!e->quiet)
			fprintf(stderr, "ctlsign: %s: %s\n", dn ? dn : "?", err.msg);
		if (json_object_array_length(e->failures) < 100) {
			struct json_object *f = json_object_new_object();
			if (f) {
				json_object_object_add(f, "file", json_object_new_string(dn ? dn : "?"));
				json_object_object_add(f, "error", json_object_new_string(err.msg));
				json_object_array_add(e->failures, f);
			}
		}
	}
	free(dn);
	return rc != CTL_E_TOKEN;
}

/* A Ctrl-C or SIGTERM (recorded while a file is being published) stops the run between
 * files, like a token fault. */
static bool cancel_requested(struct enc *e)
{
	int sig = tool_cancelled();

	if (!sig)
		return false;
	memset(&e->stop, 0, sizeof(e->stop));
	ctl_fail(&e->stop, CTL_E_CANCELLED, "cancelled (%s)", tool_signal_name(sig));
	e->stopped = true;
	return true;
}

static int run_files(struct enc *e, char **files, int n)
{
	for (int i = 0; i < n; i++) {
		if (cancel_requested(e)) {
			e->not_done += (unsigned long)(n - i);
			break;
		}
		const char *slash = strrchr(files[i], '/');
		const char *base = slash ? slash + 1 : files[i];
		char *dir = slash ? strndup(files[i], slash == files[i] ? 1 : (size_t)(slash - files[i]))
				  : strdup(".");
		int dfd;

		if (!dir)
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			char *dn = bulk_display_name(files[i]);
			fprintf(stderr, "ctlsign: %s: cannot open its directory: %s\n", dn ? dn : "?",
				strerror(errno));
			free(dn);
			e->failed++;
			e->last_code = CTL_E_IO;
		} else {
			bool go = do_file(e, dfd, dir, base);
			close(dfd);
			if (!go) {
				e->not_done += (unsigned long)(n - i - 1);
				free(dir);
				break;
			}
		}
		free(dir);
	}
	return CTL_OK;
}

static int run_dir(struct enc *e, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rfd, rerr = 0;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return tool_fail(CTL_E_IO, "cannot open directory %s: %s", dir, strerror(errno));
	if ((rfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || !(d = fdopendir(rfd))) {
		if (rfd >= 0)
			close(rfd);
		close(dfd);
		return tool_fail(CTL_E_IO, "cannot read directory %s: %s", dir, strerror(errno));
	}
	while (!cancel_requested(e) && ((errno = 0, de = readdir(d)) || (rerr = errno, 0)))
		if (fnmatch("SEP*.cnf.xml", de->d_name, 0) == 0 && !do_file(e, dfd, dir, de->d_name))
			break;
	closedir(d);
	close(dfd);
	if (rerr) /* the listing is incomplete */
		return tool_fail(CTL_E_IO, "cannot read directory %s: %s; configs listed after the error were not encrypted: run again",
				 dir, strerror(rerr));
	return CTL_OK;
}

/* One run of `ctlsign encrypt`: its options, then what each phase leaves to the next. */
struct enc_run {
	struct enc e;
	struct sign_args sa;
	const char *ctl, *dir;
	char **files; /* the FILE operands (without --dir) */
	int nfiles;
	bool help, deferred;
	char *ctl_path, *first_dir;
	struct publish_lock *lock;
	struct ctl_err err;
};

/* The options and operands into r; CTL_OK to go on (r->help: --help was shown). */
static int parse_options(int argc, char **argv, struct enc_run *r)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts,
			      .footer = footer};
	struct enc *e = &r->e;
	int c, took;

	sign_args_init(&r->sa);
	while ((c = tool_opt_next(&g)) != -1) {
		if ((took = sign_opt(c, "encrypt", &r->sa)) > 0)
			continue;
		if (took < 0)
			return CTL_E_USAGE;
		switch (c) {
		case 'o': e->outdir = optarg; break;
		case O_CTL: r->ctl = optarg; break;
		case O_DIR: r->dir = optarg; break;
		case O_CERT: e->cert_path = optarg; break;
		case O_CERTS: e->certs_dir = optarg; break;
		case O_KEEP: e->keep = true; break;
		case 'q': e->quiet = true; break;
		default: return CTL_E_USAGE;
		}
	}
	e->hash = r->sa.hash ? r->sa.hash : CTL_HASH_SHA512;
	if (g.help_shown) {
		r->help = true;
		return CTL_OK;
	}
	if ((r->dir && optind < argc) || (!r->dir && optind >= argc))
		return tool_fail(CTL_E_USAGE, "encrypt: give either FILE... or --dir TFTPDIR; see 'ctlsign encrypt --help'");
	if (!e->cert_path == !e->certs_dir)
		return tool_fail(CTL_E_USAGE, "encrypt: give exactly one of --device-cert CERT or --device-certs DIR");
	if (e->cert_path && (r->dir || argc - optind != 1))
		return tool_fail(CTL_E_USAGE, "encrypt: --device-cert is one phone's certificate: give exactly one FILE (use --device-certs DIR for many)");
	r->files = argv + optind;
	r->nfiles = argc - optind;
	return CTL_OK;
}

/* --device-cert: refuse an unusable certificate before asking for a PIN. */
static int check_device_cert(struct enc_run *r)
{
	const char *slash = strrchr(r->files[0], '/');
	char mac[13];
	X509 *cert = ctl_cert_load(r->e.cert_path, &r->err);
	int rc;

	if (!cert)
		return tool_report(&r->err);
	rc = devcfg_check_cert(cert, r->e.cert_path, &r->err);
	if (rc == CTL_OK && devcfg_mac_from_name(slash ? slash + 1 : r->files[0], mac))
		rc = devcfg_check_cert_mac(cert, mac, &r->err);
	X509_free(cert);
	if (rc != CTL_OK)
		return tool_report(&r->err);
	return CTL_OK;
}

/* Finds the CTL, takes the directory's lock, reports an earlier unfinished batch. */
static int prepare(struct enc_run *r)
{
	struct enc *e = &r->e;
	int rc;

	if (!r->dir) {
		const char *f = r->files[0], *slash = strrchr(f, '/');
		r->first_dir = slash ? strndup(f, slash == f ? 1 : (size_t)(slash - f)) : strdup(".");
	}
	{
		const char *dirs[] = {r->dir, e->outdir, r->first_dir};
		r->ctl_path = session_find_ctl(r->ctl, dirs, 3);
	}
	/* The CTL found in a TFTP directory is read only if it is a regular file there, not
	 * a link someone planted. */
	if (r->ctl_path && !r->ctl && (rc = publish_check_path(r->ctl_path, &r->err)) != CTL_OK)
		return tool_report(&r->err);
	e->bulk = r->dir != NULL;
	if (!(e->failures = json_object_new_array()) || !(e->skipped_files = json_object_new_array()))
		return tool_fail(CTL_E_INTERNAL, "out of memory");
	if (r->dir) { /* one run at a time where the outputs go */
		char *ldir[] = {(char *)(e->outdir ? e->outdir : r->dir)};

		if ((rc = publish_lock(ldir, 1, (unsigned)r->sa.wait_s, NULL, &r->lock, &r->err)) != CTL_OK ||
		    (rc = audit_report_interrupted(audit_path(r->sa.audit_log), ldir, 1,
						   "encrypts again every configuration still in the clear",
						   stderr, NULL, &r->err)) != CTL_OK)
			return tool_report(&r->err);
	}
	return CTL_OK;
}

/* Opens the token session and checks the signer against the CTL; on failure the session
 * is closed again. */
static int open_signer(struct enc_run *r)
{
	struct enc *e = &r->e;
	int rc;

	if ((rc = session_open(&e->s, r->sa.module, r->sa.key, r->sa.pin, r->sa.final_try,
			       r->sa.audit_log, &r->err)) != CTL_OK)
		return tool_report(&r->err);
	if (r->ctl_path) {
		if ((rc = session_check_ctl(r->ctl_path, e->s.cert, &r->err)) != CTL_OK) {
			tool_report(&r->err);
			session_close(&e->s);
			return rc;
		}
	} else if (!e->quiet) {
		fprintf(stderr, "ctlsign: note: no CTL found (give --ctl): not checking that phones trust this signer\n");
	}
	return CTL_OK;
}

/* The summary as JSON on stdout. */
static void print_json(const struct enc *e)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "encrypted", json_object_new_int64((int64_t)e->encrypted));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)e->failed));
	json_object_object_add(o, "not_done", json_object_new_int64((int64_t)e->not_done));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)e->skipped));
	json_object_object_add(o, "skipped_files", json_object_get(e->skipped_files));
	json_object_object_add(o, "stopped", json_object_new_boolean(e->stopped));
	if (e->stopped)
		json_object_object_add(o, "stop_reason", json_object_new_string(e->stop.msg));
	json_object_object_add(o, "failures", json_object_get(e->failures));
	tool_json_print(o);
}

/* After a run: the summary, the notes, and the exit code. */
static int summarize(const struct enc *e, bool json)
{
	int rc = CTL_OK;

	if (json) {
		print_json(e);
	} else {
		printf("encrypted %lu, failed %lu", e->encrypted, e->failed);
		if (e->bulk)
			printf(", skipped %lu", e->skipped);
		if (e->not_done)
			printf(", not done %lu", e->not_done);
		putchar('\n');
	}
	if (e->skipped && !e->quiet)
		fprintf(stderr, "ctlsign: note: %lu configuration%s stay%s in the clear: no certificate for %s phone in %s (SEP<MAC>.pem, .crt or .der%s)\n",
			e->skipped, e->skipped == 1 ? "" : "s", e->skipped == 1 ? "s" : "",
			e->skipped == 1 ? "its" : "their", e->certs_dir,
			json ? "; listed in skipped_files" : "; --json lists them");
	if (e->stopped) {
		fprintf(stderr, "ctlsign: stopped: %s; %lu files were encrypted before that\n",
			e->stop.msg, e->encrypted);
		rc = e->stop.code ? e->stop.code : CTL_E_TOKEN;
		if (rc == CTL_E_CANCELLED)
			tool_cancel_handled();
	} else if (e->failed) {
		/* one file alone keeps its own reason as the exit code */
		rc = e->encrypted || e->failed > 1 ? CTL_E_PARTIAL : e->last_code;
	}
	return rc;
}

int cmd_encrypt(int argc, char **argv)
{
	struct enc_run r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = parse_options(argc, argv, &r)) != CTL_OK || r.help)
		return rc;
	if (r.e.cert_path && (rc = check_device_cert(&r)) != CTL_OK)
		return rc;
	if ((rc = prepare(&r)) != CTL_OK || (rc = open_signer(&r)) != CTL_OK)
		goto done;
	/* From here a signal stops the run between files: the file being published is
	 * finished (both outputs, the audit outcome, the clear file removed), then exit 12. */
	tool_defer_begin();
	r.deferred = true;
	rc = r.dir ? run_dir(&r.e, r.dir) : run_files(&r.e, r.files, r.nfiles);
	session_close(&r.e.s);
	if (rc == CTL_OK)
		rc = summarize(&r.e, r.sa.json);
done:
	publish_unlock(r.lock);
	json_object_put(r.e.failures);
	json_object_put(r.e.skipped_files);
	free(r.ctl_path);
	free(r.first_dir);
	if (r.deferred)
		tool_defer_end(); /* a signal after the last file: exit 12 now */
	return rc;
}
