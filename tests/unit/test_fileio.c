/* test_fileio.c - ctl_read_file and ctl_read_regular limits, ctl_write_atomic (replace, no
 * temp left). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"

static char dir[256];

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");
	(void)state;
	snprintf(dir, sizeof(dir), "%s/fileioXXXXXX", t ? t : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_write_replace_read(void **state)
{
	char path[300];
	struct ctl_err err = {0};
	struct ctl_buf b = {0};
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/CTLFile.tlv", dir);
	assert_int_equal(ctl_write_atomic(path, (const uint8_t *)"first", 5, 0644, &err), 0);
	assert_int_equal(ctl_write_atomic(path, (const uint8_t *)"second!", 7, 0640, &err), 0);
	assert_int_equal(ctl_read_file(path, 100, &b, &err), 0);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "second!", 7);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(count_entries(), 1);
	ctl_buf_clear(&b);
	/* Limit: one byte less than the file is refused. */
	assert_int_equal(ctl_read_file(path, 6, &b, &err), CTL_E_IO);
	assert_non_null(strstr(err.msg, "larger than"));
	assert_null(b.data);
	unlink(path);
}

static void test_write_failure_leaves_nothing(void **state)
{
	char path[300];
	struct ctl_err err = {0};

	(void)state;
	/* The target is a directory: rename fails, the temp file must be gone. */
	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(ctl_write_atomic(path, (const uint8_t *)"x", 1, 0644, &err), CTL_E_IO);
	assert_int_equal(count_entries(), 1);
	rmdir(path);
	/* Missing directory. */
	snprintf(path, sizeof(path), "%s/missing/file", dir);
	assert_int_equal(ctl_write_atomic(path, (const uint8_t *)"x", 1, 0644, &err), CTL_E_IO);
	assert_int_equal(count_entries(), 0);
}

static void test_read_errors(void **state)
{
	struct ctl_err err = {0};
	struct ctl_buf b = {0};

	(void)state;
	assert_int_equal(ctl_read_file("/nonexistent/x", 100, &b, &err), CTL_E_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	assert_int_equal(ctl_read_file(dir, 100, &b, &err), CTL_E_IO);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

/* ctl_read_regular says why it refused a file, so that a caller can skip (not regular) or
 * fail (too large) with its own words. */
static void test_read_regular(void **state)
{
	struct ctl_err err = {0};
	struct ctl_buf b = {0};
	char path[300];
	int fd, refused = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/five", dir);
	assert_int_equal(ctl_write_atomic(path, (const uint8_t *)"12345", 5, 0644, &err), CTL_OK);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ctl_read_regular(fd, "five", 4, &b, &refused, &err), CTL_E_IO);
	assert_int_equal(refused, CTL_READ_TOO_LARGE);
	assert_non_null(strstr(err.msg, "five is larger than 4 bytes"));
	assert_int_equal(ctl_read_regular(fd, "five", 5, &b, &refused, &err), CTL_OK);
	assert_int_equal(refused, 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "12345", 5);
	ctl_buf_clear(&b);
	close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(ctl_read_regular(fd, "dir", 100, &b, &refused, &err), CTL_E_IO);
	assert_int_equal(refused, CTL_READ_NOT_REGULAR);
	assert_non_null(strstr(err.msg, "dir is not a regular file"));
	close(fd);
	unlink(path);
}

/* Lines through a pipe fed in pieces: split across reads, an empty line, a last line
 * without newline, a line longer than the first buffer, and a line over the limit. */
static void test_lines(void **state)
{
	struct ctl_lines lr;
	struct ctl_err err = {0};
	char *line, *big = malloc(200000);
	size_t len;
	bool nl;
	int fds[2];

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 199999);
	big[199999] = '\n';
	assert_int_equal(pipe(fds), 0);
	if (fork() == 0) {
		const char *parts[] = {"one\ntw", "o\n\nthr", "ee"};
		close(fds[0]);
		if (write(fds[1], parts[0], strlen(parts[0])) < 0 ||
		    write(fds[1], parts[1], strlen(parts[1])) < 0 ||
		    write(fds[1], big, 200000) < 0 || write(fds[1], parts[2], strlen(parts[2])) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	ctl_lines_init(&lr, fds[0], "pipe");
	assert_int_equal(ctl_lines_next(&lr, 1 << 20, &line, &len, &nl, &err), 1);
	assert_string_equal(line, "one");
	assert_true(nl);
	assert_int_equal(ctl_lines_next(&lr, 1 << 20, &line, &len, &nl, &err), 1);
	assert_string_equal(line, "two");
	assert_int_equal(ctl_lines_next(&lr, 1 << 20, &line, &len, &nl, &err), 1);
	assert_int_equal(len, 0);
	assert_true(nl);
	assert_int_equal(ctl_lines_next(&lr, 1 << 20, &line, &len, &nl, &err), 1);
	assert_int_equal(len, 3 + 199999);
	assert_memory_equal(line, "thr", 3);
	assert_int_equal(line[len - 1], 'x');
	assert_int_equal(ctl_lines_next(&lr, 1 << 20, &line, &len, &nl, &err), 1);
	assert_string_equal(line, "ee");
	assert_false(nl);
	assert_int_equal(ctl_lines_next(&lr, 1 << 20, &line, &len, &nl, &err), 0);
	ctl_lines_free(&lr);
	close(fds[0]);
	assert_true(wait(NULL) > 0);

	/* over the limit: an I/O error that says so */
	assert_int_equal(pipe(fds), 0);
	if (fork() == 0) {
		close(fds[0]);
		_exit(write(fds[1], big, 200000) < 0);
	}
	close(fds[1]);
	ctl_lines_init(&lr, fds[0], "pipe");
	assert_int_equal(ctl_lines_next(&lr, 100000, &line, &len, &nl, &err), -CTL_E_IO);
	assert_non_null(strstr(err.msg, "longer than"));
	ctl_lines_free(&lr);
	close(fds[0]);
	assert_true(wait(NULL) > 0);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replace_read),
		cmocka_unit_test(test_write_failure_leaves_nothing),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_read_regular),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
