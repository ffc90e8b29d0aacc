/* token_pin.c - where PINs come from: env:VAR, file:PATH, fd:N, an RFC 7512 pin-source,
 * or a no-echo prompt on the terminal. Never a plain argument; wiped after use.
 * A source that is not valid is never echoed back (it is often the PIN itself, and error
 * lines end up in CI logs); a PIN file others may read or change is refused. */
#define _GNU_SOURCE /* ppoll */
#include "token_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define PIN_MAX 256

int token_pin_source_parse(const char *spec, bool uri_style, struct token_pin_source *out,
			   struct ctl_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!strncmp(spec, "env:", 4)) {
		out->kind = TOKEN_PIN_ENV;
		out->value = spec + 4;
		if (!*out->value)
			goto bad;
		for (const char *c = out->value; *c; c++)
			if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			      (*c >= '0' && *c <= '9')))
				goto bad;
		return CTL_OK;
	}
	if (!strncmp(spec, "fd:", 3)) {
		char *end;
		long v;
		errno = 0;
		v = strtol(spec + 3, &end, 10);
		if (!spec[3] || *end || errno || v < 0 || v > 65535 || spec[3] == '-' || spec[3] == '+')
			goto bad;
		out->kind = TOKEN_PIN_FD;
		out->fd = (int)v;
		return CTL_OK;
	}
	if (!strncmp(spec, "file:", 5)) {
		out->kind = TOKEN_PIN_FILE;
		out->value = spec + 5;
		/* file:///abs/path (URI form) -> /abs/path */
		if (uri_style && !strncmp(out->value, "//", 2)) {
			if (out->value[2] != '/')
				goto bad; /* file://host/... */
			out->value += 2;
		}
		if (!*out->value)
			goto bad;
		return CTL_OK;
	}
	if (uri_style && *spec && !strchr(spec, ':')) {
		out->kind = TOKEN_PIN_FILE;
		out->value = spec;
		return CTL_OK;
	}
bad:
	/* Never the value itself: "--pin Str0ngPin99" must not print the PIN. */
	if (uri_style)
		return ctl_fail(err, CTL_E_USAGE,
				"the URI's pin-source is not a valid PIN source (not shown: it may be "
				"the PIN itself); use env:VARIABLE, file:PATH or fd:N (or a plain "
				"path), or leave it out to be prompted");
	return ctl_fail(err, CTL_E_USAGE,
			"not a valid PIN source (not shown: it may be the PIN itself); use "
			"env:VARIABLE, file:PATH or fd:N, or leave the option out to be prompted");
}

/* Keeps the first line of buf[0..len) (without \n or \r\n) as a fresh string. */
static int first_line(char *buf, size_t len, char **pin, const char *what, struct ctl_err *err)
{
	size_t n = 0;

	while (n < len && buf[n] != '\n' && buf[n] != '\0')
		n++;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return ctl_fail(err, CTL_E_USAGE, "%s gives an empty PIN", what);
	*pin = OPENSSL_malloc(n + 1);
	if (!*pin)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	memcpy(*pin, buf, n);
	(*pin)[n] = 0;
	return CTL_OK;
}

/* Reads up to the first newline, one byte at a time: nothing after the line is consumed,
 * so "--pin fd:3 --new-pin fd:3" reads one line for each. */
static int read_fd(int fd, char **pin, const char *what, struct ctl_err *err)
{
	char buf[PIN_MAX + 2];
	size_t len = 0;
	int rc;

	while (len < sizeof(buf)) {
		ssize_t r = read(fd, buf + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			OPENSSL_cleanse(buf, sizeof(buf));
			return ctl_fail(err, CTL_E_IO, "cannot read the PIN from %s: %s", what,
					strerror(errno));
		}
		if (r == 0)
			break;
		if (buf[len++] == '\n')
			break;
	}
	if (len == sizeof(buf) && buf[len - 1] != '\n') {
		OPENSSL_cleanse(buf, sizeof(buf));
		return ctl_fail(err, CTL_E_USAGE, "the PIN from %s is longer than %d characters", what,
				PIN_MAX);
	}
	rc = first_line(buf, len, pin, what, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* A PIN file must be readable by its owner (and maybe its group) only: refused (a token
 * rule, CTL_E_POLICY) if others may read or change it, or its group may change it. */
static int check_pin_file_mode(int fd, const char *shown, struct ctl_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return ctl_fail(err, CTL_E_IO, "cannot stat PIN file %s: %s", shown, strerror(errno));
	if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
		return ctl_fail(err, CTL_E_POLICY,
				"PIN file %s can be %s by other users (mode %04o); make it private "
				"with: chmod 600 %s",
				shown, (st.st_mode & S_IROTH) ? "read" : "changed",
				(unsigned)(st.st_mode & 07777), shown);
	return CTL_OK;
}

/* The prompt's own handling of the cancelling signals: recorded here, acted on once the
 * terminal is back as it was. */
static volatile sig_atomic_t prompt_sig;

static void on_prompt_signal(int sig)
{
	prompt_sig = sig;
}

static const int prompt_cancel_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NPROMPT_SIGS (sizeof(prompt_cancel_sigs) / sizeof(prompt_cancel_sigs[0]))

/* The prompt's signal state: the handlers it replaced and the masks. */
struct prompt_signals {
	struct sigaction prev[NPROMPT_SIGS];
	bool mine[NPROMPT_SIGS]; /* the prompt's handler is installed for this signal */
	sigset_t saved;          /* the mask before the prompt */
	sigset_t waitmask;       /* inside ppoll: the cancelling signals let through */
};

/* Blocks the cancelling signals and SIGTSTP, and takes over the cancelling ones that are
 * not ignored. -1 if they cannot be blocked (then nothing changed). */
static int prompt_signals_take(struct prompt_signals *ps)
{
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTSTP);
	for (size_t i = 0; i < NPROMPT_SIGS; i++)
		sigaddset(&block, prompt_cancel_sigs[i]);
	if (pthread_sigmask(SIG_BLOCK, &block, &ps->saved) != 0)
		return -1;
	prompt_sig = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prompt_signal; /* no SA_RESTART: ppoll returns EINTR */
	sa.sa_mask = block;
	for (size_t i = 0; i < NPROMPT_SIGS; i++) {
		ps->mine[i] = sigaction(prompt_cancel_sigs[i], NULL, &ps->prev[i]) == 0 &&
			      ps->prev[i].sa_handler != SIG_IGN &&
			      sigaction(prompt_cancel_sigs[i], &sa, NULL) == 0;
	}
	ps->waitmask = ps->saved;
	sigaddset(&ps->waitmask, SIGTSTP);
	for (size_t i = 0; i < NPROMPT_SIGS; i++)
		sigdelset(&ps->waitmask, prompt_cancel_sigs[i]);
	return 0;
}

/* The program's own handlers back (the signals still blocked). */
static void prompt_signals_restore(const struct prompt_signals *ps)
{
	for (size_t i = 0; i < NPROMPT_SIGS; i++)
		if (ps->mine[i])
			(void)sigaction(prompt_cancel_sigs[i], &ps->prev[i], NULL);
}

/* Cancelled by sig: the terminal is back, so the program's own handler takes the signal
 * now (it may end the process); restoring the mask delivers it. */
static int prompt_cancelled(const struct prompt_signals *ps, int sig, struct ctl_err *err)
{
	for (size_t i = 0; i < NPROMPT_SIGS; i++)
		if (prompt_cancel_sigs[i] == sig && ps->mine[i] && ps->prev[i].sa_handler != SIG_DFL)
			(void)raise(sig);
	(void)pthread_sigmask(SIG_SETMASK, &ps->saved, NULL);
	return ctl_fail(err, CTL_E_CANCELLED, "cancelled at the PIN prompt; nothing was done with the token");
}

/* Reads into buf until a newline, end of input, a full buffer or a cancelling signal;
 * the signals come through only inside ppoll. */
static void prompt_read(int fd, char *buf, size_t size, size_t *len, const sigset_t *waitmask)
{
	while (*len < size) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;
		int k = ppoll(&p, 1, NULL, waitmask);

		if (k < 0 && errno == EINTR) {
			if (prompt_sig)
				break;
			continue;
		}
		if (k < 0)
			break;
		r = read(fd, buf + *len, size - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*len += (size_t)r;
		if (memchr(buf, '\n', *len))
			break;
	}
}

/* The PIN from what was typed (len bytes of a size-byte buffer). */
static int prompt_line(char *buf, size_t size, size_t len, char **pin, struct ctl_err *err)
{
	if (len == 0)
		return ctl_fail(err, CTL_E_CANCELLED, "no PIN entered");
	if (len == size && !memchr(buf, '\n', len))
		return ctl_fail(err, CTL_E_USAGE, "the PIN is longer than %d characters", PIN_MAX);
	return first_line(buf, len, pin, "the terminal", err);
}

/* Reads a line without echo. Ctrl-C, SIGTERM, SIGHUP or SIGQUIT cancel at once: echo is
 * restored, then the signal goes on to the program's own handler if it has one (ctlsign's
 * removes its locks and exits 12), else CTL_E_CANCELLED. Ctrl-Z waits for the Enter (a
 * stopped job would leave the terminal without echo). The signals are blocked except
 * inside ppoll, so one that comes between two steps is never lost. */
static int prompt_tty(const char *prompt, char **pin, struct ctl_err *err)
{
	struct termios old, noecho;
	struct prompt_signals ps;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char buf[PIN_MAX + 2];
	size_t len = 0;
	int rc, sig;

	if (fd < 0)
		return ctl_fail(err, CTL_E_USAGE,
				"no terminal to ask for the PIN: give it with --pin env:VAR, "
				"file:PATH or fd:N");
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return ctl_fail(err, CTL_E_USAGE,
				"cannot switch off echo on the terminal; give the PIN with --pin "
				"env:VAR, file:PATH or fd:N");
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	noecho.c_lflag |= ICANON;
	if (prompt_signals_take(&ps) != 0) {
		close(fd);
		return ctl_fail(err, CTL_E_INTERNAL, "cannot block signals for the PIN prompt");
	}
	/* Echo off before the prompt shows: a PIN typed (or pasted) the moment the prompt
	 * appears must not be echoed. */
	if (tcsetattr(fd, TCSANOW, &noecho) != 0 || write(fd, prompt, strlen(prompt)) < 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot prompt for the PIN on the terminal");
	} else {
		prompt_read(fd, buf, sizeof(buf), &len, &ps.waitmask);
		rc = CTL_OK;
	}
	(void)tcsetattr(fd, TCSANOW, &old); /* nothing better to do if it fails */
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do: only cosmetics */
	}
	close(fd);
	sig = prompt_sig;
	prompt_signals_restore(&ps);
	if (sig) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return prompt_cancelled(&ps, sig, err);
	}
	(void)pthread_sigmask(SIG_SETMASK, &ps.saved, NULL);
	if (rc != CTL_OK)
		return rc;
	rc = prompt_line(buf, sizeof(buf), len, pin, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int token_pin_read(const char *spec, bool uri_style, const char *prompt, char **pin,
		   struct ctl_err *err)
{
	struct token_pin_source src;
	char what[300];
	int rc, fd;

	*pin = NULL;
	if (!spec)
		return prompt_tty(prompt, pin, err);
	if ((rc = token_pin_source_parse(spec, uri_style, &src, err)) != CTL_OK)
		return rc;
	switch (src.kind) {
	case TOKEN_PIN_ENV: {
		const char *v = getenv(src.value);
		if (!v)
			return ctl_fail(err, CTL_E_USAGE, "PIN variable $%s is not set", src.value);
		snprintf(what, sizeof(what), "$%s", src.value);
		if (strcspn(v, "\n") > PIN_MAX)
			return ctl_fail(err, CTL_E_USAGE, "the PIN from %s is longer than %d characters",
					what, PIN_MAX);
		return first_line((char *)v, strlen(v), pin, what, err);
	}
	case TOKEN_PIN_FD:
		snprintf(what, sizeof(what), "file descriptor %d", src.fd);
		return read_fd(src.fd, pin, what, err);
	default:
		/* A URI's plain pin-source without a '/' may be a PIN typed in place of a path:
		 * not echoed. Paths given as file:PATH or with a '/' are shown. */
		fd = open(src.value, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && uri_style && strncmp(spec, "file:", 5) && !strchr(src.value, '/'))
			return ctl_fail(err, CTL_E_IO,
					"cannot open the PIN file named by the URI's pin-source (not "
					"shown: it may be the PIN itself): %s",
					strerror(errno));
		if (fd < 0)
			return ctl_fail(err, CTL_E_IO, "cannot open PIN file %s: %s", src.value,
					strerror(errno));
		snprintf(what, sizeof(what), "%s", src.value);
		if ((rc = check_pin_file_mode(fd, what, err)) == CTL_OK)
			rc = read_fd(fd, pin, what, err);
		close(fd);
		return rc;
	}
}

void token_pin_free(char *pin)
{
	if (pin)
		OPENSSL_clear_free(pin, strlen(pin));
}
