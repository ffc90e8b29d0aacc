/* test_tool.c - the option tables of the tool layer (src/tool.h): the help text they
 * generate lists every declared option with its argument name and help line, and
 * tool_opt_next parses with them: declared options only, short forms, aliases, one
 * optind reset per parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tool.h"

enum { O_SHARED = TOOL_OPT_BASE, O_FLAG, O_LONG, O_OWN };

static const struct tool_opt shared[] = {
	{O_SHARED, "shared", "URI", "an option of a fragment that several commands include"},
	{O_FLAG, "flag", NULL, "a flag"},
	TOOL_OPT_END,
};
static const struct tool_opt own[] = {
	{'o', "output", "OUT", "write to OUT"},
	{O_LONG, "long-help", "N",
	 "a help line long enough that the generator has to wrap it onto a second line, "
	 "indented to the column where the help lines begin, without losing a word of it"},
	{O_OWN, "own", "FILE", "first line\nsecond line"},
	{O_OWN, "old-own", "FILE", NULL}, /* an unlisted alias */
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {shared, own, NULL};
static const char usage[] = "usage: prog thing [options] FILE\n\nDoes the thing.\n";

static char *help_text(const struct tool_args *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	tool_print_help(fp, a);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* The text with every run of white space made one space. */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1), *w = out;

	assert_non_null(out);
	for (; *s; s++) {
		if (*s == ' ' || *s == '\n') {
			if (w != out && w[-1] != ' ')
				*w++ = ' ';
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return out;
}

static void help_lists_every_option(void **state)
{
	struct tool_args a = {.usage = usage, .opts = opts, .footer = "exit codes: 0 done\n"};
	char *h = help_text(&a), *flat = squeeze(h);
	char want[512];

	(void)state;
	assert_true(!strncmp(h, usage, strlen(usage)));
	assert_non_null(strstr(h, "\noptions:\n"));
	for (const struct tool_opt *const *t = opts; *t; t++)
		for (const struct tool_opt *o = *t; o->name; o++) {
			char *help;

			if (!o->help) { /* an alias is accepted, not listed */
				snprintf(want, sizeof(want), "--%s", o->name);
				assert_null(strstr(h, want));
				continue;
			}
			help = squeeze(o->help);
			snprintf(want, sizeof(want), "%s--%s%s%s %s",
				 o->val == 'o' ? "-o, " : "", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "", help);
			if (!strstr(flat, want))
				fail_msg("help lacks '%s':\n%s", want, h);
			free(help);
		}
	/* one column, wrapped lines within the width, "\n" breaks a line */
	assert_non_null(strstr(h, "\n  --shared URI       an option"));
	assert_non_null(strstr(h, "\n  --own FILE         first line\n                     second line\n"));
	for (const char *line = h; *line;) {
		size_t n = strcspn(line, "\n");
		assert_true(n <= 90);
		line += n + (line[n] != '\0');
	}
	/* the footer comes last, after a blank line */
	assert_non_null(strstr(h, "second line\n\nexit codes: 0 done\n"));
	free(flat);
	free(h);
}

static void help_without_options(void **state)
{
	static const struct tool_opt *const none[] = {NULL};
	struct tool_args a = {.usage = usage, .opts = none};
	char *h = help_text(&a);

	(void)state;
	assert_string_equal(h, usage);
	free(h);
}

/* Runs tool_opt_next over args; vals[] gets the values, optargs[] their arguments. */
static int parse(char **argv, int argc, int *vals, const char **optargs, size_t cap,
		 struct tool_args *a)
{
	size_t n = 0;
	int c;

	*a = (struct tool_args){.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	while ((c = tool_opt_next(a)) != -1) {
		if (c == '?')
			return -2;
		assert_true(n < cap);
		vals[n] = c;
		optargs[n++] = optarg;
	}
	return (int)n;
}

static void parses_declared_options(void **state)
{
	char *argv[] = {"thing", "--shared", "pkcs11:x", "-o", "out", "--flag", "FILE",
			"--old-own=f", "--output=o2", NULL};
	int vals[8];
	const char *args[8];
	struct tool_args a;
	int n;

	(void)state;
	n = parse(argv, 9, vals, args, 8, &a);
	assert_int_equal(n, 5);
	assert_int_equal(vals[0], O_SHARED);
	assert_string_equal(args[0], "pkcs11:x");
	assert_int_equal(vals[1], 'o');
	assert_string_equal(args[1], "out");
	assert_int_equal(vals[2], O_FLAG);
	assert_int_equal(vals[3], O_OWN); /* the alias gives its option's value */
	assert_string_equal(args[3], "f");
	assert_int_equal(vals[4], 'o');
	assert_false(a.help_shown);
	assert_int_equal(optind, 8); /* operands permuted to the end */
	assert_string_equal(argv[optind], "FILE");

	/* a second parse starts over without the caller touching optind */
	{
		char *argv2[] = {"thing", "--flag", "X", NULL};
		n = parse(argv2, 3, vals, args, 8, &a);
		assert_int_equal(n, 1);
		assert_int_equal(optind, 2);
	}
}

static void refuses_undeclared(void **state)
{
	char *unknown[] = {"thing", "--prune", "FILE", NULL};
	char *flag_value[] = {"thing", "--flag=yes", NULL};
	char *needs[] = {"thing", "--own", NULL};
	char *short_needs[] = {"thing", "-o", NULL};
	char *short_unknown[] = {"thing", "-x", NULL};
	char *help[] = {"thing", "--help", NULL};
	int vals[4];
	const char *args[4];
	struct tool_args a;

	(void)state;
	assert_int_equal(parse(unknown, 3, vals, args, 4, &a), -2);
	assert_int_equal(parse(flag_value, 2, vals, args, 4, &a), -2);
	assert_int_equal(parse(needs, 2, vals, args, 4, &a), -2);
	assert_int_equal(parse(short_needs, 2, vals, args, 4, &a), -2);
	assert_int_equal(parse(short_unknown, 2, vals, args, 4, &a), -2);
	/* --help is every command's */
	{
		FILE *saved = stdout;
		char *buf = NULL;
		size_t len = 0;

		stdout = open_memstream(&buf, &len);
		assert_non_null(stdout);
		assert_int_equal(parse(help, 2, vals, args, 4, &a), 0);
		fclose(stdout);
		stdout = saved;
		assert_true(a.help_shown);
		assert_non_null(strstr(buf, "--shared URI"));
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_lists_every_option),
		cmocka_unit_test(help_without_options),
		cmocka_unit_test(parses_declared_options),
		cmocka_unit_test(refuses_undeclared),
	};
	tool_prog = "prog";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
