/* cluster.c - see cluster.h */
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CLUSTER_MAX_SERVERS 256
#define CLUSTER_MAX_OUTPUTS 32
#define CLUSTER_MAX_FILE (1024u * 1024)

/* Where each key of a server section was given (0 = not given). */
struct key_lines {
	int role, host, ip, cert;
};

struct parse_state {
	const char *file;          /* as given, for messages */
	struct ctl_buf text;       /* the whole file (read with EINTR retried) */
	size_t pos;                /* the reader's position in it */
	char *dir;                 /* the file's directory */
	int line;
	struct cluster *c;
	struct ctl_err *err;
	bool failed;
	int section;               /* -2 none yet, -1 [cluster], >= 0 server index */
	int cluster_line;
	int mode_line, digest_line;
	struct key_lines *keys;    /* per server */
	bool strict;               /* --strict: certificate warnings refuse */
	FILE *warn;                /* where warnings and notes go */
};

static int fail_at(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vfail_code_at(struct parse_state *st, int code, int line, const char *fmt,
			 va_list ap) __attribute__((format(printf, 4, 0)));

static int vfail_code_at(struct parse_state *st, int code, int line, const char *fmt,
			 va_list ap)
{
	char msg[400];

	if (st->failed)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	st->failed = true;
	if (line > 0)
		ctl_fail(st->err, code, "%s:%d: %s", st->file, line, msg);
	else
		ctl_fail(st->err, code, "%s: %s", st->file, msg);
	return 0;
}

static int fail_at(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_code_at(st, CTL_E_USAGE, line, fmt, ap);
	va_end(ap);
	return 0;
}

const char *cluster_mode_name(int mode)
{
	return mode == CLUSTER_MIXED ? "mixed" : "non-secure";
}

const char *cluster_kind_name(int kind)
{
	switch (kind) {
	case CLUSTER_SERVER: return "server";
	case CLUSTER_ALT_TFTP: return "tftp";
	case CLUSTER_FIREWALL: return "firewall";
	}
	return "?";
}

static char *resolve(const struct parse_state *st, const char *value)
{
	size_t n;
	char *p;

	p = value[0] == '/' || !strcmp(st->dir, ".") ? strdup(value)
						      : ctl_path_join(st->dir, value, "");
	/* "tftp/" -> "tftp", so that "DIR/CTLFile.tlv" reads well */
	for (n = p ? strlen(p) : 0; n > 1 && p[n - 1] == '/'; n--)
		p[n - 1] = 0;
	return p;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

/* The kind of entry a section type opens; -1 if none. */
static int section_kind(const char *type)
{
	if (!strcmp(type, "server"))
		return CLUSTER_SERVER;
	if (!strcmp(type, "tftp"))
		return CLUSTER_ALT_TFTP;
	if (!strcmp(type, "firewall"))
		return CLUSTER_FIREWALL;
	return -1;
}

/* A new server entry of kind named name (checked), its key lines beside it; the current
 * section from now on. */
static void add_server(struct parse_state *st, int kind, const char *name)
{
	struct cluster *c = st->c;
	struct cluster_server *s;
	struct key_lines *k;

	s = realloc(c->servers, (c->nservers + 1) * sizeof(*s));
	if (!s) {
		fail_at(st, st->line, "out of memory");
		return;
	}
	c->servers = s;
	k = realloc(st->keys, (c->nservers + 1) * sizeof(*k));
	if (!k) {
		fail_at(st, st->line, "out of memory");
		return;
	}
	st->keys = k;
	memset(&k[c->nservers], 0, sizeof(*k));
	s = &c->servers[c->nservers];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = st->line;
	s->role = kind == CLUSTER_ALT_TFTP ? CTL_ROLE_TFTP :
		  kind == CLUSTER_FIREWALL ? CTL_ROLE_CCM : -1;
	if (!(s->name = strdup(name))) {
		fail_at(st, st->line, "out of memory");
		return;
	}
	st->section = (int)c->nservers++;
}

/* A "[type name]" line: opens a section. */
static void open_section(struct parse_state *st, char *text)
{
	char *close = strchr(text, ']'), *type, *name;
	struct cluster *c = st->c;
	int kind;

	if (!close) {
		fail_at(st, st->line, "section header without ']'");
		return;
	}
	*close = 0;
	type = trim(text + 1);
	name = type + strcspn(type, " \t");
	if (*name)
		*name++ = 0;
	name = trim(name);
	if (!strcmp(type, "cluster") && !*name) {
		if (st->cluster_line) {
			fail_at(st, st->line, "second [cluster] section (first on line %d)",
				st->cluster_line);
			return;
		}
		st->cluster_line = st->line;
		st->section = -1;
		return;
	}
	if ((kind = section_kind(type)) < 0) {
		fail_at(st, st->line,
			"unknown section [%s%s%s]; expected [cluster], [server NAME], [tftp NAME] or [firewall NAME]",
			type, *name ? " " : "", name);
		return;
	}
	if (!*name) {
		fail_at(st, st->line, "[%s] needs a name, e.g. [%s cucm1]", type, type);
		return;
	}
	for (size_t i = 0; i < c->nservers; i++)
		if (!strcmp(c->servers[i].name, name)) {
			fail_at(st, st->line, "duplicate server name '%s' (first on line %d)", name,
				c->servers[i].line);
			return;
		}
	if (c->nservers >= CLUSTER_MAX_SERVERS) {
		fail_at(st, st->line, "more than %d servers", CLUSTER_MAX_SERVERS);
		return;
	}
	add_server(st, kind, name);
}

/* fgets-style reader that counts lines and sees section headers. */
static char *reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	char *p;
	size_t n;

	const uint8_t *nl;
	size_t left = st->text.len - st->pos, take;

	/* fgets on the buffer: at most num - 1 bytes, through the newline */
	if (!left || num < 2)
		return NULL;
	take = left < (size_t)num - 1 ? left : (size_t)num - 1;
	if ((nl = memchr(st->text.data + st->pos, '\n', take)))
		take = (size_t)(nl - (st->text.data + st->pos)) + 1;
	memcpy(str, st->text.data + st->pos, take);
	str[take] = 0;
	st->pos += take;
	st->line++;
	n = strlen(str);
	if (n > 0 && str[n - 1] != '\n' && st->pos < st->text.len) {
		fail_at(st, st->line, "line longer than %d characters", num - 3);
		return NULL;
	}
	p = str + strspn(str, " \t");
	if (*p == '[' && !st->failed) {
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", p);
		open_section(st, copy);
	}
	return str;
}

static int set_once(struct parse_state *st, int *seen, const char *key)
{
	if (*seen)
		return fail_at(st, st->line, "'%s' given twice (first on line %d)", key, *seen);
	*seen = st->line;
	return 1;
}

static int cluster_key(struct parse_state *st, const char *name, const char *value)
{
	struct cluster *c = st->c;

	if (!strcmp(name, "mode")) {
		if (!set_once(st, &st->mode_line, name))
			return 0;
		if (!strcasecmp(value, "mixed"))
			c->mode = CLUSTER_MIXED;
		else if (!strcasecmp(value, "non-secure") || !strcasecmp(value, "nonsecure"))
			c->mode = CLUSTER_NONSECURE;
		else
			return fail_at(st, st->line, "mode must be 'mixed' or 'non-secure' (got '%s')",
				       value);
		return 1;
	}
	if (!strcmp(name, "digest")) {
		if (!set_once(st, &st->digest_line, name))
			return 0;
		c->hash_alg = ctl_hash_from_name(value);
		if (!c->hash_alg)
			return fail_at(st, st->line,
				       "digest must be sha512, sha256 or sha1 (got '%s')", value);
		if (c->hash_alg == CTL_HASH_SHA256)
			fprintf(stderr, "ctlsign: warning: %s:%d: digest sha256 (hash code 2) may be refused by phones and other tools (the vendor's files use sha1 or sha512); prefer sha512\n",
				st->file, st->line);
		return 1;
	}
	if (!strcmp(name, "output")) {
		char **o;

		if (!*value)
			return fail_at(st, st->line, "output needs a directory");
		if (c->noutputs >= CLUSTER_MAX_OUTPUTS)
			return fail_at(st, st->line, "more than %d outputs", CLUSTER_MAX_OUTPUTS);
		if (!(o = realloc(c->outputs, (c->noutputs + 1) * sizeof(*o))))
			return fail_at(st, st->line, "out of memory");
		c->outputs = o;
		if (!(o[c->noutputs] = resolve(st, value)))
			return fail_at(st, st->line, "out of memory");
		for (size_t i = 0; i < c->noutputs; i++)
			if (!strcmp(o[i], o[c->noutputs])) {
				free(o[c->noutputs]);
				return fail_at(st, st->line, "output '%s' listed twice", value);
			}
		c->noutputs++;
		return 1;
	}
	return fail_at(st, st->line, "unknown key '%s' in [cluster]; expected mode, digest, output",
		       name);
}

static int server_key(struct parse_state *st, const char *name, const char *value)
{
	struct cluster_server *s = &st->c->servers[st->section];
	struct key_lines *k = &st->keys[st->section];

	if (!strcmp(name, "role")) {
		if (s->kind != CLUSTER_SERVER)
			return fail_at(st, st->line, "[%s %s] has a fixed role; remove 'role'",
				       cluster_kind_name(s->kind), s->name);
		if (!set_once(st, &k->role, name))
			return 0;
		s->role = ctl_role_from_name(value);
		if (s->role != CTL_ROLE_CCM && s->role != CTL_ROLE_CCM_TFTP &&
		    s->role != CTL_ROLE_TFTP && s->role != CTL_ROLE_CAPF &&
		    s->role != CTL_ROLE_TVS && s->role != CTL_ROLE_APP_SERVER)
			return fail_at(st, st->line,
				       "role must be ccm, ccm+tftp, tftp, capf, tvs or app-server (got '%s')",
				       value);
		return 1;
	}
	if (!strcmp(name, "host")) {
		if (!set_once(st, &k->host, name))
			return 0;
		if (!*value || strlen(value) > 253 || strspn(value,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen(value))
			return fail_at(st, st->line, "host '%s' is not a valid host name", value);
		if (!(s->host = strdup(value)))
			return fail_at(st, st->line, "out of memory");
		return 1;
	}
	if (!strcmp(name, "ip")) {
		struct in_addr a;

		if (!set_once(st, &k->ip, name))
			return 0;
		if (inet_pton(AF_INET, value, &a) != 1)
			return fail_at(st, st->line, "ip '%s' is not an IPv4 address (a.b.c.d)", value);
		memcpy(s->ip, &a.s_addr, 4); /* network order = big-endian bytes */
		s->has_ip = true;
		return 1;
	}
	if (!strcmp(name, "cert")) {
		if (!set_once(st, &k->cert, name))
			return 0;
		if (!*value)
			return fail_at(st, st->line, "cert needs a file name");
		if (!(s->cert_path = resolve(st, value)))
			return fail_at(st, st->line, "out of memory");
		return 1;
	}
	return fail_at(st, st->line, "unknown key '%s' in [%s %s]; expected %shost, ip, cert", name,
		       cluster_kind_name(s->kind), s->name,
		       s->kind == CLUSTER_SERVER ? "role, " : "");
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;

	(void)section;
	if (st->failed)
		return 0;
	/* "mode = mixed # x": '#' is a comment only at the start of a line */
	for (const char *h = strchr(value, '#'); h; h = strchr(h + 1, '#'))
		if (h > value && (h[-1] == ' ' || h[-1] == '\t'))
			return fail_at(st, st->line, "'%s' has a '#' comment after its value; comments start with ';' or '#' at the start of a line (or ' ;' after a value)",
				       name);
	if (st->section == -2)
		return fail_at(st, st->line, "'%s' outside any section; start with [cluster]", name);
	if (st->section == -1)
		return cluster_key(st, name, value);
	return server_key(st, name, value);
}

/* Two entries claim the same service: the same role, or CCM+TFTP against CCM or TFTP. */
static bool roles_overlap(int a, int b)
{
	if (a == b)
		return true;
	if (a == CTL_ROLE_CCM_TFTP)
		return b == CTL_ROLE_CCM || b == CTL_ROLE_TFTP;
	if (b == CTL_ROLE_CCM_TFTP)
		return a == CTL_ROLE_CCM || a == CTL_ROLE_TFTP;
	return false;
}

/* A private key given where a certificate belongs (PEM of any key type, or DER). */
static bool is_private_key(const char *path)
{
	struct ctl_buf b = {0};
	struct ctl_err ignored = {0};
	const unsigned char *p;
	EVP_PKEY *k;
	bool yes;

	if (ctl_read_file(path, CTL_MAX_FILE_SIZE, &b, &ignored) != CTL_OK)
		return false;
	yes = false;
	for (size_t i = 0; !yes && i + 16 <= b.len; i++)
		yes = !memcmp(b.data + i, "PRIVATE KEY-----", 16);
	p = b.data;
	if (!yes && (k = d2i_AutoPrivateKey(NULL, &p, (long)b.len))) {
		yes = true;
		EVP_PKEY_free(k);
	}
	ERR_clear_error();
	OPENSSL_cleanse(b.data, b.len);
	ctl_buf_clear(&b);
	return yes;
}

/* ---- the server certificates' sanity (issue 12 §4) ---- */

static int refuse_at(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A refusal by a rule (CTL_E_POLICY, exit 9). */
static int refuse_at(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_code_at(st, CTL_E_POLICY, line, fmt, ap);
	va_end(ap);
	return 0;
}

static void note_at(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_at(struct parse_state *st, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one call: on unbuffered stderr one write, so a failing write never leaves half a line */
	fprintf(st->warn, "ctlsign: %s:%d: %s\n", st->file, line, msg);
}

/* A doubt about a certificate: a warning, or with --strict a refusal (exit 9). */
static int doubt_at(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int doubt_at(struct parse_state *st, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st->strict)
		return refuse_at(st, line, "%s (refused with --strict)", msg);
	note_at(st, line, "warning: %s (--strict refuses this)", msg);
	return 1;
}

static void time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "?");
}

/* The host is the certificate's CN or one of its SAN names (an IP host: a SAN IP). */
static bool names_host(X509 *x, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 && X509_check_ip_asc(x, host, 0) == 1)
		return true;
	return X509_check_host(x, host, 0,
			       X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT |
				       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
			       NULL) == 1;
}

/* Loads the entry's certificate and checks it is one a server would present: the leaf
 * of a chain file (said so), no CA certificate unless self-signed, valid now, naming
 * the host. */
static int load_server_cert(struct parse_state *st, struct cluster_server *s,
			    const struct key_lines *k)
{
	const char *kind = cluster_kind_name(s->kind);
	struct ctl_err cerr = {0};
	size_t ncerts = 0;
	char *subj, day[32];
	uint32_t xf;
	int ok = 1;

	if (!(s->cert = ctl_cert_load_leaf(s->cert_path, &ncerts, &cerr)))
		return fail_at(st, k->cert, "[%s %s] cert: %s", kind, s->name,
			       is_private_key(s->cert_path) ?
			       "the file is a private key, not a certificate: give the server's certificate (PEM or DER); the key stays on the server" :
			       cerr.msg);
	subj = ctl_name_string(X509_get_subject_name(s->cert));
	if (ncerts > 1)
		note_at(st, k->cert,
			"[%s %s] cert: %s holds %zu certificates; taking the leaf %s (the others "
			"are its issuers and are not put in the CTL)",
			kind, s->name, s->cert_path, ncerts, subj ? subj : "?");
	xf = X509_get_extension_flags(s->cert);
	if ((xf & EXFLAG_CA) && !X509_self_signed(s->cert, 1)) {
		char *iss = ctl_name_string(X509_get_issuer_name(s->cert));

		ok = refuse_at(st, k->cert,
			       "[%s %s] cert: %s is a CA certificate (CA:TRUE, issued by %s), not a "
			       "server's: give the server's own certificate",
			       kind, s->name, subj ? subj : "?", iss ? iss : "?");
		free(iss);
		goto out;
	}
	ERR_clear_error();
	if (X509_cmp_current_time(X509_get0_notAfter(s->cert)) < 0) {
		time_text(X509_get0_notAfter(s->cert), day, sizeof(day));
		if (!(ok = doubt_at(st, k->cert,
				    "[%s %s] cert: %s expired on %s; renew it on the server first",
				    kind, s->name, subj ? subj : "?", day)))
			goto out;
	} else if (X509_cmp_current_time(X509_get0_notBefore(s->cert)) > 0) {
		time_text(X509_get0_notBefore(s->cert), day, sizeof(day));
		if (!(ok = doubt_at(st, k->cert, "[%s %s] cert: %s is not valid before %s", kind,
				    s->name, subj ? subj : "?", day)))
			goto out;
	}
	/* CAPF certificates are named CAPF-<id> by the vendor, never after the host. */
	if (s->role != CTL_ROLE_CAPF && !names_host(s->cert, s->host))
		ok = doubt_at(st, k->host,
			      "[%s %s] host %s is neither the CN nor a subject alternative name of "
			      "its certificate %s",
			      kind, s->name, s->host, subj ? subj : "?");
out:
	free(subj);
	return ok;
}

static int validate(struct parse_state *st)
{
	struct cluster *c = st->c;

	if (!st->cluster_line)
		return fail_at(st, 0, "no [cluster] section (mode, digest, output)");
	if (!st->mode_line)
		return fail_at(st, st->cluster_line, "[cluster] needs mode = mixed or non-secure");
	if (!c->noutputs)
		return fail_at(st, st->cluster_line,
			       "[cluster] needs at least one output = TFTP directory");
	if (!c->hash_alg)
		c->hash_alg = CTL_HASH_SHA512;
	for (size_t i = 0; i < c->nservers; i++) {
		struct cluster_server *s = &c->servers[i];
		struct key_lines *k = &st->keys[i];

		if (s->role < 0)
			return fail_at(st, s->line, "[server %s] needs role", s->name);
		if (!s->host)
			return fail_at(st, s->line, "[%s %s] needs host", cluster_kind_name(s->kind),
				       s->name);
		if (!s->cert_path)
			return fail_at(st, s->line, "[%s %s] needs cert", cluster_kind_name(s->kind),
				       s->name);
		if (!load_server_cert(st, s, k))
			return 0;
		for (size_t j = 0; j < i; j++) {
			struct cluster_server *o = &c->servers[j];

			/* One host may run several services (CAPF and TVS on the publisher):
			 * the same host or IP is refused only for the same service. */
			bool same_role = roles_overlap(o->role, s->role);

			if (same_role && !strcasecmp(o->host, s->host))
				return fail_at(st, k->host, "duplicate server: host %s is also [%s %s] (line %d) with the %s role",
					       s->host, cluster_kind_name(o->kind), o->name, o->line,
					       ctl_role_name(o->role));
			if (same_role && s->has_ip && o->has_ip && !memcmp(s->ip, o->ip, 4))
				return fail_at(st, k->ip, "duplicate server: ip %u.%u.%u.%u is also [%s %s] (line %d) with the %s role",
					       s->ip[0], s->ip[1], s->ip[2], s->ip[3],
					       cluster_kind_name(o->kind), o->name, o->line,
					       ctl_role_name(o->role));
			if (!X509_cmp(o->cert, s->cert))
				return fail_at(st, k->cert, "duplicate server: same certificate as [%s %s] (line %d); "
					       "each entry needs its own certificate (one multi-SAN certificate "
					       "shared by two nodes cannot be listed twice)",
					       cluster_kind_name(o->kind), o->name, o->line);
		}
	}
	return 1;
}

int cluster_load(const char *path, struct cluster **out, struct ctl_err *err)
{
	return cluster_load_opts(path, NULL, out, err);
}

int cluster_load_opts(const char *path, const struct cluster_load_opts *lo,
		      struct cluster **out, struct ctl_err *err)
{
	struct parse_state st = {0};
	struct cluster *c = calloc(1, sizeof(*c));
	char *pathcopy = strdup(path);
	int rc;

	*out = NULL;
	if (!c || !pathcopy || !(c->path = strdup(path)) || !(st.dir = strdup(dirname(pathcopy)))) {
		free(pathcopy);
		cluster_free(c);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	free(pathcopy);
	st.file = path;
	st.c = c;
	st.err = err;
	st.section = -2;
	st.strict = lo && lo->strict;
	st.warn = lo && lo->warn ? lo->warn : stderr;
	c->mode = -1;
	/* Read whole, then parsed from memory: ctl_read_file retries interrupted reads
	 * (stdio's fgets would end the file at an EINTR). */
	if ((rc = ctl_read_file(path, CLUSTER_MAX_FILE, &st.text, err)) != CTL_OK) {
		ctl_fail_prefix(err, "cannot read cluster file");
		goto out;
	}
	rc = ini_parse_stream(reader, &st, handler, &st);
	if (!st.failed && rc > 0)
		fail_at(&st, rc, "syntax error: expected 'key = value' or '[section]'");
	if (!st.failed && rc < 0)
		fail_at(&st, 0, "cannot parse (out of memory)");
	if (!st.failed)
		validate(&st);
	rc = st.failed ? err->code : CTL_OK;
out:
	ctl_buf_clear(&st.text);
	free(st.dir);
	free(st.keys);
	if (rc != CTL_OK) {
		cluster_free(c);
		return rc;
	}
	*out = c;
	return CTL_OK;
}

int cluster_check_mode(const struct cluster *c, int mode, struct ctl_err *err)
{
	if (mode != CLUSTER_MIXED)
		return CTL_OK;
	/* a [tftp NAME] is another cluster's server: this cluster's phones need their own */
	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].kind == CLUSTER_SERVER &&
		    (c->servers[i].role == CTL_ROLE_TFTP || c->servers[i].role == CTL_ROLE_CCM_TFTP))
			return CTL_OK;
	return ctl_fail(err, CTL_E_POLICY,
			"%s: a mixed-mode CTL needs a TFTP server (phones check their signed "
			"configuration files against it): add a [server NAME] with role = ccm+tftp "
			"or tftp and its certificate (an alternate [tftp NAME] of another cluster does not count)",
			c->path);
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->noutputs; i++)
		free(c->outputs[i]);
	free(c->outputs);
	for (size_t i = 0; i < c->nservers; i++) {
		struct cluster_server *s = &c->servers[i];

		free(s->name);
		free(s->host);
		free(s->cert_path);
		X509_free(s->cert);
	}
	free(c->servers);
	free(c->path);
	free(c);
}
