/* bytes.c - see bytes.h */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void cbs_init(struct cbs *s, const uint8_t *data, size_t len)
{
	s->data = data;
	s->len = data ? len : 0;
	s->base = data;
}

size_t cbs_len(const struct cbs *s) { return s->len; }

const uint8_t *cbs_data(const struct cbs *s) { return s->data; }

size_t cbs_offset(const struct cbs *s)
{
	return s->base ? (size_t)(s->data - s->base) : 0;
}

int cbs_skip(struct cbs *s, size_t n)
{
	if (n > s->len)
		return 0;
	s->data += n;
	s->len -= n;
	return 1;
}

int cbs_peek_u8(const struct cbs *s, uint8_t *out)
{
	if (s->len < 1)
		return 0;
	*out = s->data[0];
	return 1;
}

int cbs_get_u8(struct cbs *s, uint8_t *out)
{
	if (!cbs_peek_u8(s, out))
		return 0;
	return cbs_skip(s, 1);
}

int cbs_get_u16(struct cbs *s, uint16_t *out)
{
	if (s->len < 2)
		return 0;
	*out = (uint16_t)((s->data[0] << 8) | s->data[1]);
	return cbs_skip(s, 2);
}

int cbs_get_u32(struct cbs *s, uint32_t *out)
{
	if (s->len < 4)
		return 0;
	*out = ((uint32_t)s->data[0] << 24) | ((uint32_t)s->data[1] << 16) |
	       ((uint32_t)s->data[2] << 8) | (uint32_t)s->data[3];
	return cbs_skip(s, 4);
}

int cbs_get_bytes(struct cbs *s, struct cbs *out, size_t n)
{
	if (n > s->len)
		return 0;
	out->data = s->data;
	out->len = n;
	out->base = s->base;
	return cbs_skip(s, n);
}

int cbs_get_tlv(struct cbs *s, uint8_t *tag, struct cbs *value)
{
	struct cbs copy = *s;
	uint8_t t;
	uint16_t len;

	if (!cbs_get_u8(&copy, &t) || !cbs_get_u16(&copy, &len) ||
	    !cbs_get_bytes(&copy, value, len))
		return 0;
	*tag = t;
	*s = copy;
	return 1;
}

int cbs_memdup(const struct cbs *s, uint8_t **out, size_t *out_len)
{
	uint8_t *p = malloc(s->len + 1);

	if (!p)
		return 0;
	if (s->len)
		memcpy(p, s->data, s->len);
	p[s->len] = 0;
	*out = p;
	if (out_len)
		*out_len = s->len;
	return 1;
}

int cbs_mem_equal(const struct cbs *s, const uint8_t *data, size_t len)
{
	return s->len == len && (len == 0 || CRYPTO_memcmp(s->data, data, len) == 0);
}

void cbb_init(struct cbb *b)
{
	memset(b, 0, sizeof(*b));
}

void cbb_cleanup(struct cbb *b)
{
	if (b->buf) {
		OPENSSL_cleanse(b->buf, b->cap);
		free(b->buf);
	}
	memset(b, 0, sizeof(*b));
}

int cbb_reserve(struct cbb *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->error)
		return 0;
	if (n > SIZE_MAX - b->len) {
		b->error = 1;
		return 0;
	}
	if (b->len + n <= b->cap)
		return 1;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n) {
		if (cap > SIZE_MAX / 2) {
			cap = b->len + n;
			break;
		}
		cap *= 2;
	}
	/* No realloc: the old buffer may hold secrets and must be wiped. */
	p = malloc(cap);
	if (!p) {
		b->error = 1;
		return 0;
	}
	if (b->buf) {
		memcpy(p, b->buf, b->len);
		OPENSSL_cleanse(b->buf, b->cap);
		free(b->buf);
	}
	b->buf = p;
	b->cap = cap;
	return 1;
}

int cbb_add_bytes(struct cbb *b, const void *data, size_t len)
{
	if (!cbb_reserve(b, len))
		return 0;
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	return 1;
}

int cbb_add_u8(struct cbb *b, uint8_t v) { return cbb_add_bytes(b, &v, 1); }

int cbb_add_u16(struct cbb *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return cbb_add_bytes(b, x, 2);
}

int cbb_add_u32(struct cbb *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return cbb_add_bytes(b, x, 4);
}

int cbb_add_tlv(struct cbb *b, uint8_t tag, const void *value, size_t len)
{
	if (len > 0xffff) {
		b->error = 1;
		return 0;
	}
	return cbb_add_u8(b, tag) && cbb_add_u16(b, (uint16_t)len) &&
	       cbb_add_bytes(b, value, len);
}

int cbb_add_tlv_u8(struct cbb *b, uint8_t tag, uint8_t v) { return cbb_add_tlv(b, tag, &v, 1); }

int cbb_add_tlv_u16(struct cbb *b, uint8_t tag, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return cbb_add_tlv(b, tag, x, 2);
}

int cbb_add_tlv_u32(struct cbb *b, uint8_t tag, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return cbb_add_tlv(b, tag, x, 4);
}

int cbb_add_tlv_str(struct cbb *b, uint8_t tag, const char *s)
{
	return cbb_add_tlv(b, tag, s, strlen(s) + 1);
}

int cbb_open_tlv(struct cbb *b, uint8_t tag, size_t *mark)
{
	if (!cbb_add_u8(b, tag))
		return 0;
	*mark = b->len;
	return cbb_add_u16(b, 0);
}

int cbb_put_u16_at(struct cbb *b, size_t off, uint16_t v)
{
	if (b->error || off > b->len || b->len - off < 2) {
		b->error = 1;
		return 0;
	}
	b->buf[off] = (uint8_t)(v >> 8);
	b->buf[off + 1] = (uint8_t)v;
	return 1;
}

int cbb_close_tlv(struct cbb *b, size_t mark)
{
	size_t len;

	if (b->error || mark > b->len || b->len - mark < 2) {
		b->error = 1;
		return 0;
	}
	len = b->len - mark - 2;
	if (len > 0xffff) {
		b->error = 1;
		return 0;
	}
	return cbb_put_u16_at(b, mark, (uint16_t)len);
}

int cbb_finish(struct cbb *b, uint8_t **out, size_t *out_len)
{
	if (b->error) {
		cbb_cleanup(b);
		return 0;
	}
	if (!b->buf && !cbb_reserve(b, 1)) {
		cbb_cleanup(b);
		return 0;
	}
	*out = b->buf;
	*out_len = b->len;
	memset(b, 0, sizeof(*b));
	return 1;
}
