/* tool.c - see tool.h */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tool_prog = "ctl";

static void print_commands(FILE *fp, const char *prog, const struct tool_cmd *cmds)
{
	fprintf(fp, "usage: %s <command> [options]   (%s <command> --help for details)\n\ncommands:\n",
		prog, prog);
	for (const struct tool_cmd *c = cmds; c->name; c++)
		fprintf(fp, "  %-14s %s\n", c->name, c->summary);
	fprintf(fp, "\nexit codes: 0 ok, 1 internal, 2 usage, 3 I/O, 4 malformed, 5 signature,\n"
		    "  6 signer not found/untrusted, 7 unsupported, 8 decrypt, 9 policy, 10 network,\n"
		    "  11 token, 12 cancelled, 13 partial failure, 14 differences found\n");
}

/* A report lost on stdout (or a message on stderr) is an I/O error (exit 3), said on
 * stderr if possible; a reader that went away (EPIPE) ends the report quietly with the
 * command's own exit code. */
/* An earlier write failed (errno is gone): a pipe whose reader closed polls POLLERR. */
static int reader_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	struct stat sb;

	return fstat(fd, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)) &&
	       poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

static int output_done(int rc)
{
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		e = errno ? errno : reader_gone(STDOUT_FILENO) ? EPIPE : EIO;
	if (e && e != EPIPE) {
		fprintf(stderr, "%s: %scannot write to standard output: %s\n", tool_prog,
			rc == CTL_OK ? "" : "also: ", strerror(e));
		if (rc == CTL_OK)
			rc = CTL_E_IO;
	}
	if ((fflush(stderr) != 0 || ferror(stderr)) && errno != EPIPE && !reader_gone(STDERR_FILENO) &&
	    rc == CTL_OK)
		rc = CTL_E_IO;
	return rc;
}

static int dispatch(const char *prog, const struct tool_cmd *cmds, int argc, char **argv)
{
	if (argc < 2) {
		print_commands(stderr, prog, cmds);
		return CTL_E_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *sub[] = {argv[2], (char *)"--help", NULL};
			for (const struct tool_cmd *c = cmds; c->name; c++)
				if (!strcmp(c->name, argv[2]))
					return c->fn(2, sub);
		}
		print_commands(stdout, prog, cmds);
		return CTL_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, CTL_VERSION);
		return CTL_OK;
	}
	for (const struct tool_cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->fn(argc - 1, argv + 1);
	return tool_fail(CTL_E_USAGE, "unknown command '%s'; run '%s --help' for the list",
			 argv[1], prog);
}

/* Every path, the top-level --help and --version included, ends in output_done: a report
 * that could not be written is never an exit 0. */
int tool_dispatch(const char *prog, const struct tool_cmd *cmds, int argc, char **argv)
{
	tool_prog = prog;
	return output_done(dispatch(prog, cmds, argc, argv));
}

#define HELP_WIDTH 90 /* the generated option list's lines, at most (unless a word is longer) */

static bool opt_is_short(int val)
{
	return val > ' ' && val < 0x7f && val != '?' && val != ':' && val != '-';
}

/* "-o, --output OUT" or "--json" into buf; its length. */
static size_t opt_left(const struct tool_opt *o, char *buf, size_t cap)
{
	char shortform[8] = "";
	int n;

	if (opt_is_short(o->val))
		snprintf(shortform, sizeof(shortform), "-%c, ", o->val);
	n = snprintf(buf, cap, "%s--%s%s%s", shortform, o->name, o->arg ? " " : "",
		     o->arg ? o->arg : "");
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* The help line's words from col on, wrapped before HELP_WIDTH; "\n" breaks a line. */
static void print_wrapped(FILE *fp, const char *text, size_t col)
{
	size_t at = col;
	bool line_start = true;

	while (*text) {
		size_t sp = strspn(text, " "), w;

		text += sp;
		if (*text == '\n') {
			fprintf(fp, "\n%*s", (int)col, "");
			at = col;
			line_start = true;
			text++;
			continue;
		}
		w = strcspn(text, " \n");
		if (!w)
			break;
		if (!line_start && at + 1 + w > HELP_WIDTH) {
			fprintf(fp, "\n%*s", (int)col, "");
			at = col;
			line_start = true;
		}
		if (!line_start) {
			fputc(' ', fp);
			at++;
		}
		fwrite(text, 1, w, fp);
		at += w;
		line_start = false;
		text += w;
	}
	fputc('\n', fp);
}

void tool_print_help(FILE *fp, const struct tool_args *a)
{
	char left[128];
	size_t width = 0;

	fputs(a->usage ? a->usage : "", fp);
	for (const struct tool_opt *const *t = a->opts; t && *t; t++)
		for (const struct tool_opt *o = *t; o->name; o++)
			if (o->help) {
				size_t n = opt_left(o, left, sizeof(left));
				if (n > width)
					width = n;
			}
	if (width) {
		fputs("\noptions:\n", fp);
		for (const struct tool_opt *const *t = a->opts; *t; t++)
			for (const struct tool_opt *o = *t; o->name; o++) {
				if (!o->help)
					continue;
				opt_left(o, left, sizeof(left));
				fprintf(fp, "  %-*s   ", (int)width, left);
				print_wrapped(fp, o->help, 2 + width + 3);
			}
	}
	if (a->footer) {
		fputc('\n', fp);
		fputs(a->footer, fp);
	}
}

#define OPT_HELP 0x10000 /* --help, added to every command */

/* One getopt_long step over opts (ending with --help); prints the one-line error. */
static int next_opt(int argc, char **argv, const char *shorts, const struct option *opts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shorts, opts, NULL);
	if (c == '?' || c == ':') {
		const char *bad = argv[optind - 1];
		if (bad && !strncmp(bad, "--", 2)) {
			/* A long option: name it as typed (optopt holds its short value). */
			size_t len = strcspn(bad + 2, "=");
			const char *why = "is not known";

			for (size_t i = 0; opts[i].name; i++)
				if (strlen(opts[i].name) == len && !strncmp(opts[i].name, bad + 2, len))
					why = opts[i].has_arg == no_argument ? "takes no value"
									     : "needs a value";
			tool_fail(CTL_E_USAGE, "%s: option '%.*s' %s; see '%s %s --help'", argv[0],
				  (int)(len + 2), bad, why, tool_prog, argv[0]);
		} else if (optopt && optopt < 0x100 && optopt > ' ')
			tool_fail(CTL_E_USAGE, "%s: option -%c %s; see '%s %s --help'", argv[0],
				  optopt, c == ':' ? "needs a value" : "is not known", tool_prog,
				  argv[0]);
		else
			tool_fail(CTL_E_USAGE, "%s: bad option '%s'; see '%s %s --help'", argv[0],
				  bad ? bad : "?", tool_prog, argv[0]);
		return '?';
	}
	return c;
}

/* A name declared twice (a fragment and the command's own table both have it) would
 * leave one of them dead: a programming error, found by any run of the command. */
static void check_tables(const struct tool_args *a)
{
	for (const struct tool_opt *const *t = a->opts; t && *t; t++)
		for (const struct tool_opt *o = *t; o->name; o++)
			for (const struct tool_opt *const *u = t; *u; u++)
				for (const struct tool_opt *p = u == t ? o + 1 : *u; p->name; p++)
					if (!strcmp(o->name, p->name) ||
					    (opt_is_short(o->val) && o->val == p->val &&
					     (!o->arg) != (!p->arg))) {
						fprintf(stderr, "%s: %s: option --%s declared twice\n",
							tool_prog, a->argv[0], p->name);
						abort();
					}
}

int tool_opt_next(struct tool_args *a)
{
	struct option opts[TOOL_OPT_MAX + 2];
	char shorts[2 * TOOL_OPT_MAX + 3];
	size_t n = 0, ns = 0;
	int c;

	if (!a->started) { /* a fresh parse: getopt forgets any earlier command's state */
		optind = 0;
		a->started = true;
		check_tables(a);
	}
	shorts[ns++] = ':'; /* a short option without its value: ':', not '?' */
	for (const struct tool_opt *const *t = a->opts; t && *t; t++)
		for (const struct tool_opt *o = *t; o->name; o++) {
			if (n >= TOOL_OPT_MAX)
				abort(); /* a programming error: raise TOOL_OPT_MAX */
			opts[n++] = (struct option){o->name, o->arg ? required_argument : no_argument,
						    NULL, o->val};
			if (opt_is_short(o->val) && !memchr(shorts, o->val, ns)) {
				shorts[ns++] = (char)o->val;
				if (o->arg)
					shorts[ns++] = ':';
			}
		}
	shorts[ns] = '\0';
	opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	opts[n] = (struct option){0, 0, 0, 0};
	c = next_opt(a->argc, a->argv, shorts, opts);
	if (c == OPT_HELP) {
		tool_print_help(stdout, a);
		a->help_shown = true;
		return -1;
	}
	return c;
}

const char *tool_one_operand(const struct tool_args *a, const char *what)
{
	if (optind + 1 != a->argc) {
		tool_fail(CTL_E_USAGE, "%s: give exactly one %s; see '%s %s --help'", a->argv[0], what,
			  tool_prog, a->argv[0]);
		return NULL;
	}
	return a->argv[optind];
}

int tool_report(const struct ctl_err *err)
{
	int code = err->code ? err->code : CTL_E_INTERNAL;
	fprintf(stderr, "%s: %s\n", tool_prog, err->msg[0] ? err->msg : ctl_status_name(code));
	return code;
}

int tool_fail(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", tool_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

void tool_json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

struct json_object *tool_json_hex(const uint8_t *data, size_t len)
{
	char *s = ctl_hex(data, len);
	struct json_object *o;

	if (!s)
		return NULL;
	o = json_object_new_string(s);
	free(s);
	return o;
}

int tool_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		    const char *what, struct ctl_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 1;
bad:
	ctl_fail(err, CTL_E_USAGE, "%s must be a whole number from %lu to %lu (got '%s')", what,
		 min, max, s ? s : "");
	return 0;
}

/* ---- signals ---- */

#define CANCEL_LOCKS_MAX 16

static volatile sig_atomic_t cancel_sig;     /* the first cancelling signal */
static volatile sig_atomic_t cancel_taken;   /* tool_cancel_handled */
static atomic_int defer_depth;
static atomic_int defer_done;                 /* deferred sections completed */
static struct {
	char *dir, *name, *tmp;
} cancel_locks[CANCEL_LOCKS_MAX];
static atomic_int ncancel_locks;

const char *tool_signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

/* Only async-signal-safe calls from here on: they run in the signal handler. */

static void put(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r; /* a closed stderr: nothing else to tell */
}

static size_t put_ulong(char *out, unsigned long v)
{
	char tmp[24];
	size_t n = 0, k = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(tmp));
	while (n)
		out[k++] = tmp[--n];
	out[k] = 0;
	return k;
}

static void remove_lock(const char *dir, const char *name, const char *tmp)
{
	char buf[32], pid[24];
	size_t np;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	ssize_t n;

	if (dfd < 0)
		return;
	np = put_ulong(pid, (unsigned long)getpid());
	if (tmp) /* the lock's name while it is being taken: ours by its name */
		(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		/* ours only while it holds our PID: we hold its flock, so nobody replaces it */
		if (n > (ssize_t)np && memcmp(buf, pid, np) == 0 && buf[np] == '\n')
			(void)unlinkat(dfd, name, 0);
	}
	close(dfd);
}

static _Noreturn void cancel_now(int sig, bool after_publishing)
{
	int n = atomic_load(&ncancel_locks);

	for (int i = 0; i < n && i < CANCEL_LOCKS_MAX; i++)
		if (cancel_locks[i].dir && cancel_locks[i].name)
			remove_lock(cancel_locks[i].dir, cancel_locks[i].name, cancel_locks[i].tmp);
	put(tool_prog);
	put(": cancelled (");
	put(tool_signal_name(sig));
	put(after_publishing ? ") once the publication in progress had finished and was audited\n"
		: atomic_load(&defer_done) ? "); what was published before it stays ('ctlsign audit' lists it)\n"
					   : "); nothing was published\n");
	_exit(CTL_E_CANCELLED);
}

static void on_cancel_signal(int sig)
{
	int saved = errno;

	if (!cancel_sig)
		cancel_sig = sig;
	if (atomic_load(&defer_depth) == 0)
		cancel_now(sig, false);
	errno = saved;
}

void tool_signals_init(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_cancel_signal;
	/* Outside a deferred section the handler ends the process; inside one, the work goes
	 * on undisturbed (a token's socket read is not cut short by EINTR). The PIN prompt
	 * installs its own handler, without SA_RESTART. */
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* a signal ignored by whoever started us (nohup, a background job) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		(void)sigaction(sigs[i], &sa, NULL);
	}
}

int tool_cancel_lock(const char *dir, const char *name, const char *tmp)
{
	int n = atomic_load(&ncancel_locks);
	char *d, *m, *t = NULL;

	for (int i = 0; i < n; i++)
		if (!strcmp(cancel_locks[i].dir, dir) && !strcmp(cancel_locks[i].name, name))
			return 1;
	if (n >= CANCEL_LOCKS_MAX)
		return 0;
	d = strdup(dir);
	m = strdup(name);
	if (tmp)
		t = strdup(tmp);
	if (!d || !m || (tmp && !t)) {
		free(d);
		free(m);
		free(t);
		return 0;
	}
	cancel_locks[n].dir = d;
	cancel_locks[n].name = m;
	cancel_locks[n].tmp = t;
	atomic_store(&ncancel_locks, n + 1); /* visible to the handler only once complete */
	return 1;
}

void tool_defer_begin(void)
{
	atomic_fetch_add(&defer_depth, 1);
}

void tool_defer_end(void)
{
	if (atomic_fetch_sub(&defer_depth, 1) != 1)
		return;
	atomic_fetch_add(&defer_done, 1);
	if (cancel_sig && !cancel_taken) {
		fflush(stdout); /* not in a handler here: the report so far goes out */
		cancel_now(cancel_sig, true);
	}
}

int tool_cancelled(void)
{
	return cancel_sig;
}

void tool_cancel_handled(void)
{
	cancel_taken = 1;
}
