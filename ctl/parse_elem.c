/* parse_elem.c - the element reader of parse.c (parse_int.h): strings, bytes, lengths,
 * once-only and required tags, containers; every byte through the cbs cursor. */
#include "parse_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(struct ctl_err *err) { return ctl_fail(err, CTL_E_INTERNAL, "out of memory"); }

/* A NUL-terminated string without control characters; non-empty unless allow_empty, when
 * a lone NUL byte is the empty string (real SAST records write their DNS name so). A
 * zero-length value is never a string. */
int tlv_string_opt(const struct cbs *v, const char *what, uint8_t tag, bool allow_empty,
		   char **out, struct ctl_err *err)
{
	size_t n = cbs_len(v), off = ELEM_OFF(v);
	const uint8_t *p = cbs_data(v);
	uint8_t *s;

	if (n == 0)
		return ctl_fail(err, CTL_E_MALFORMED, "%s (tag %u) at offset %zu is empty%s", what,
				tag, off,
				allow_empty ? " (length 0; an empty name is one NUL byte)" : "");
	if (p[n - 1] != 0)
		return ctl_fail(err, CTL_E_MALFORMED,
				"%s (tag %u) at offset %zu is not NUL-terminated", what, tag, off);
	if (n == 1 && !allow_empty)
		return ctl_fail(err, CTL_E_MALFORMED, "%s (tag %u) at offset %zu is empty", what, tag,
				off);
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return ctl_fail(err, CTL_E_MALFORMED,
					"%s (tag %u) at offset %zu has a control byte 0x%02x at offset %zu",
					what, tag, off, p[i], off + 3 + i);
	if (!cbs_memdup(v, &s, NULL))
		return oom(err);
	free(*out);
	*out = (char *)s;
	return CTL_OK;
}

int tlv_string(const struct cbs *v, const char *what, uint8_t tag, char **out,
	       struct ctl_err *err)
{
	return tlv_string_opt(v, what, tag, false, out, err);
}

int tlv_bytes(const struct cbs *v, const char *what, uint8_t tag, bool nonempty,
	      struct ctl_buf *out, struct ctl_err *err)
{
	if (nonempty && cbs_len(v) == 0)
		return ctl_fail(err, CTL_E_MALFORMED, "%s (tag %u) at offset %zu is empty", what, tag,
				ELEM_OFF(v));
	return ctl_buf_set(out, cbs_data(v), cbs_len(v)) ? CTL_OK : oom(err);
}

int tlv_want_len(const struct cbs *v, const char *what, uint8_t tag, size_t n,
		 struct ctl_err *err)
{
	if (cbs_len(v) != n)
		return ctl_fail(err, CTL_E_MALFORMED,
				"%s (tag %u) at offset %zu has length %zu, expected %zu", what, tag,
				ELEM_OFF(v), cbs_len(v), n);
	return CTL_OK;
}


/* Reads the next element of a container; names the container on failure. */
int tlv_next(struct cbs *s, const char *where, uint8_t *tag, struct cbs *v,
	     struct ctl_err *err)
{
	size_t off = cbs_offset(s);
	uint8_t t = 0;

	if (cbs_get_tlv(s, tag, v))
		return CTL_OK;
	cbs_peek_u8(s, &t);
	if (cbs_len(s) < 3)
		return ctl_fail(err, CTL_E_MALFORMED,
				"%s: element tag %u at offset %zu is truncated (%zu bytes left)", where,
				t, off, cbs_len(s));
	return ctl_fail(err, CTL_E_MALFORMED,
			"%s: element tag %u at offset %zu has length %u, past the end (%zu bytes left)",
			where, t, off, (unsigned)((cbs_data(s)[1] << 8) | cbs_data(s)[2]),
			cbs_len(s) - 3);
}

int tlv_seen_once(uint32_t *seen, uint8_t tag, const char *where, const struct cbs *v,
		  struct ctl_err *err)
{
	if (*seen & (1u << tag))
		return ctl_fail(err, CTL_E_MALFORMED, "%s: duplicate tag %u at offset %zu", where,
				tag, ELEM_OFF(v));
	*seen |= 1u << tag;
	return CTL_OK;
}

int tlv_unknown_tag(const char *where, uint8_t tag, const struct cbs *v,
		    struct ctl_err *err)
{
	return ctl_fail(err, CTL_E_MALFORMED, "%s: unknown tag %u at offset %zu", where, tag,
			ELEM_OFF(v));
}

int tlv_missing(uint32_t seen, const uint8_t *tags, size_t n, const char *where,
		size_t off, struct ctl_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!(seen & (1u << tags[i])))
			return ctl_fail(err, CTL_E_MALFORMED,
					"%s at offset %zu: required tag %u is missing", where, off,
					tags[i]);
	return CTL_OK;
}


/* Walks the elements of container v (named `where` in errors): every tag must be one of
 * tags[], at most once, and all of them must be there. fn handles each element. */
int tlv_container(struct cbs v, const char *where, const uint8_t *tags, size_t ntags,
		  tlv_elem_fn fn, void *ctx, struct ctl_err *err)
{
	size_t off = ELEM_OFF(&v);
	uint32_t seen = 0;

	while (cbs_len(&v)) {
		struct cbs e;
		uint8_t tag;
		TRY(tlv_next(&v, where, &tag, &e, err));
		if (!memchr(tags, tag, ntags))
			return tlv_unknown_tag(where, tag, &e, err);
		TRY(tlv_seen_once(&seen, tag, where, &e, err));
		TRY(fn(tag, &e, ctx, err));
	}
	return tlv_missing(seen, tags, ntags, where, off, err);
}

