/*
 * bytes.h - bounds-checked reading (cbs) and growable writing (cbb) of bytes.
 *
 * Every byte of untrusted input is read through a cbs; every output is built in a
 * cbb. All multi-byte integers are big-endian. Readers return 1 on success and 0 when
 * the input is too short (nothing is consumed then); builders return 1 on success and
 * 0 on allocation failure or misuse (after which the builder is poisoned and every
 * further call fails, so a caller may check only cbb_finish()).
 */
#ifndef CTL_BYTES_H
#define CTL_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* A read cursor over bytes it does not own. `base` is the start of the whole input,
 * so that error messages can name absolute offsets. */
struct cbs {
	const uint8_t *data;
	size_t len;
	const uint8_t *base;
};

void cbs_init(struct cbs *s, const uint8_t *data, size_t len);
size_t cbs_len(const struct cbs *s);
const uint8_t *cbs_data(const struct cbs *s);
/* Offset of the cursor from the start of the whole input. */
size_t cbs_offset(const struct cbs *s);
int cbs_skip(struct cbs *s, size_t n);
int cbs_get_u8(struct cbs *s, uint8_t *out);
int cbs_get_u16(struct cbs *s, uint16_t *out);
int cbs_get_u32(struct cbs *s, uint32_t *out);
int cbs_peek_u8(const struct cbs *s, uint8_t *out);
/* Splits off the next n bytes into out (which shares base with s). */
int cbs_get_bytes(struct cbs *s, struct cbs *out, size_t n);
/* Reads tag (u8), length (u16) and splits off the value. */
int cbs_get_tlv(struct cbs *s, uint8_t *tag, struct cbs *value);
/* Copies the cursor's bytes into a fresh allocation (+1 NUL byte, not counted). */
int cbs_memdup(const struct cbs *s, uint8_t **out, size_t *out_len);
/* 1 if the bytes equal data[0..len). */
int cbs_mem_equal(const struct cbs *s, const uint8_t *data, size_t len);

/* A growable output buffer. */
struct cbb {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int error;
};

void cbb_init(struct cbb *b);
/* Frees the buffer after wiping it (outputs may hold key material). */
void cbb_cleanup(struct cbb *b);
int cbb_reserve(struct cbb *b, size_t n);
int cbb_add_u8(struct cbb *b, uint8_t v);
int cbb_add_u16(struct cbb *b, uint16_t v);
int cbb_add_u32(struct cbb *b, uint32_t v);
int cbb_add_bytes(struct cbb *b, const void *data, size_t len);
/* tag (u8) | length (u16) | value. Fails if len > 65535. */
int cbb_add_tlv(struct cbb *b, uint8_t tag, const void *value, size_t len);
int cbb_add_tlv_u8(struct cbb *b, uint8_t tag, uint8_t v);
int cbb_add_tlv_u16(struct cbb *b, uint8_t tag, uint16_t v);
int cbb_add_tlv_u32(struct cbb *b, uint8_t tag, uint32_t v);
/* A NUL-terminated string as a TLV whose value includes the NUL. */
int cbb_add_tlv_str(struct cbb *b, uint8_t tag, const char *s);
/* Opens a TLV whose length is filled in by cbb_close_tlv(); *mark remembers where. */
int cbb_open_tlv(struct cbb *b, uint8_t tag, size_t *mark);
int cbb_close_tlv(struct cbb *b, size_t mark);
/* Overwrites a big-endian u16 already written at offset off. */
int cbb_put_u16_at(struct cbb *b, size_t off, uint16_t v);
/* Hands the buffer to the caller (free with free(), wipe first if secret). The cbb is
 * reset to empty. Fails (returns 0, frees) if any earlier call failed. */
int cbb_finish(struct cbb *b, uint8_t **out, size_t *out_len);

#endif
