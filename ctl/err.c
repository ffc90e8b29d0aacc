/* err.c - one-line errors, status names and owned byte strings (see ctl.h). */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int ctl_fail(struct ctl_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(err->msg)) /* cut: say so, never end on a dangling ": " */
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	return code;
}

int ctl_fail_prefix(struct ctl_err *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	char pre[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return CTL_E_INTERNAL;
	if (!err->code)
		err->code = CTL_E_INTERNAL;
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = 0;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	{
		/* pre + ": " + old, cut to fit (no snprintf: gcc warns about the truncation). */
		size_t cap = sizeof(err->msg) - 1, n = strlen(pre), m;
		if (n > cap)
			n = cap;
		memcpy(err->msg, pre, n);
		m = cap - n < 2 ? cap - n : 2;
		memcpy(err->msg + n, ": ", m);
		n += m;
		m = strlen(old);
		if (m > cap - n)
			m = cap - n;
		memcpy(err->msg + n, old, m);
		err->msg[n + m] = 0;
		if (n + m == cap && (strlen(pre) + 2 + strlen(old) > cap))
			memcpy(err->msg + cap - 3, "...", 4);
	}
	return err->code;
}

const char *ctl_status_name(int code)
{
	static const char *const names[] = {
		"ok",     "internal", "usage",   "io",       "malformed", "signature", "signer",
		"unsupported", "decrypt", "policy", "network", "token", "cancelled", "partial",
	};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[code];
}

void ctl_buf_clear(struct ctl_buf *b)
{
	if (!b)
		return;
	if (b->data) {
		OPENSSL_cleanse(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
}

int ctl_buf_set(struct ctl_buf *b, const void *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (!p)
		return 0;
	if (len)
		memcpy(p, data, len);
	ctl_buf_clear(b);
	b->data = p;
	b->len = len;
	return 1;
}
