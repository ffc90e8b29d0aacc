/* parse_int.h - the element reader parse.c builds on (internal to ctl/): one TLV element
 * at a time through the cbs cursor, its length, once-only and required tags, containers.
 * Every error names the tag and the absolute offset. */
#ifndef CTL_PARSE_INT_H
#define CTL_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "ctl.h"

/* Offset of an element whose value cursor is v: the tag byte is 3 bytes before. */
#define ELEM_OFF(v) (cbs_offset(v) - 3)

#define TRY(x)                                                                              \
	do {                                                                                \
		int rc_ = (x);                                                              \
		if (rc_)                                                                    \
			return rc_;                                                         \
	} while (0)

static inline uint8_t tlv_u8(const struct cbs *v) { return cbs_data(v)[0]; }
static inline uint16_t tlv_u16(const struct cbs *v)
{
	return (uint16_t)((cbs_data(v)[0] << 8) | cbs_data(v)[1]);
}

/* Handles one element of a container; tag is one of the container's tags, seen once. */
typedef int (*tlv_elem_fn)(uint8_t tag, const struct cbs *e, void *ctx, struct ctl_err *err);

/* A NUL-terminated string without control characters; non-empty unless allow_empty, when
 * a lone NUL byte is the empty string (real SAST records write their DNS name so). A
 * zero-length value is never a string. */
int tlv_string_opt(const struct cbs *v, const char *what, uint8_t tag, bool allow_empty,
		   char **out, struct ctl_err *err);

int tlv_string(const struct cbs *v, const char *what, uint8_t tag, char **out,
	       struct ctl_err *err);

int tlv_bytes(const struct cbs *v, const char *what, uint8_t tag, bool nonempty,
	      struct ctl_buf *out, struct ctl_err *err);

int tlv_want_len(const struct cbs *v, const char *what, uint8_t tag, size_t n,
		 struct ctl_err *err);

/* Reads the next element of a container; names the container on failure. */
int tlv_next(struct cbs *s, const char *where, uint8_t *tag, struct cbs *v,
	     struct ctl_err *err);

int tlv_seen_once(uint32_t *seen, uint8_t tag, const char *where, const struct cbs *v,
		  struct ctl_err *err);

int tlv_unknown_tag(const char *where, uint8_t tag, const struct cbs *v,
		    struct ctl_err *err);

int tlv_missing(uint32_t seen, const uint8_t *tags, size_t n, const char *where,
		size_t off, struct ctl_err *err);

/* Walks the elements of container v (named `where` in errors): every tag must be one of
 * tags[], at most once, and all of them must be there. fn handles each element. */
int tlv_container(struct cbs v, const char *where, const uint8_t *tags, size_t ntags,
		  tlv_elem_fn fn, void *ctx, struct ctl_err *err);

#endif
