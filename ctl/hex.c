/* hex.c - lowercase hex of bytes and hex digits (see ctl.h): the one encoder and digit
 * decoder every module uses. */
#include "ctl.h"

#include <stdlib.h>

void ctl_hex_to(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = 0;
}

char *ctl_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 2 + 1);

	if (s)
		ctl_hex_to(p, n, s);
	return s;
}

int ctl_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
