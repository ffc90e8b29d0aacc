/* tool.c - see tool.h */
#include "tool.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
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
		    "  11 token, 12 cancelled, 13 partial failure\n");
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

int tool_dispatch(const char *prog, const struct tool_cmd *cmds, int argc, char **argv)
{
	tool_prog = prog;
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
			return output_done(c->fn(argc - 1, argv + 1));
	return tool_fail(CTL_E_USAGE, "unknown command '%s'; run '%s --help' for the list",
			 argv[1], prog);
}

int tool_getopt(struct tool_getopt *g)
{
	/* Private copy of the option table with --help appended. */
	struct option opts[64];
	size_t n = 0;
	int c;

	for (; g->longopts && g->longopts[n].name; n++) {
		if (n >= 62)
			abort();
		opts[n] = g->longopts[n];
	}
	opts[n++] = (struct option){"help", no_argument, NULL, 0x10000};
	opts[n] = (struct option){0, 0, 0, 0};
	opterr = 0;
	c = getopt_long(g->argc, g->argv, g->shortopts ? g->shortopts : "", opts, NULL);
	if (c == 0x10000) {
		fputs(g->usage, stdout);
		g->help_shown = true;
		return -1;
	}
	if (c == '?' || c == ':') {
		const char *bad = g->argv[optind - 1];
		if (optopt && optopt < 0x100 && optopt > ' ')
			tool_fail(CTL_E_USAGE, "%s: option -%c %s; see '%s %s --help'", g->argv[0],
				  optopt, c == ':' ? "needs a value" : "is not known", tool_prog,
				  g->argv[0]);
		else
			tool_fail(CTL_E_USAGE, "%s: bad option '%s'; see '%s %s --help'", g->argv[0],
				  bad ? bad : "?", tool_prog, g->argv[0]);
		return '?';
	}
	return c;
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
