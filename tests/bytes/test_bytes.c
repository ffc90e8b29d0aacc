/* Unit tests for the bounds-checked cursor and the growable builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"

static void test_cbs_reads_big_endian(void **state)
{
	static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	struct cbs s;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	(void)state;
	cbs_init(&s, in, sizeof(in));
	assert_true(cbs_get_u8(&s, &u8));
	assert_int_equal(u8, 1);
	assert_true(cbs_get_u16(&s, &u16));
	assert_int_equal(u16, 0x0203);
	assert_true(cbs_get_u32(&s, &u32));
	assert_int_equal(u32, 0x04050607u);
	assert_int_equal(cbs_len(&s), 0);
	assert_int_equal(cbs_offset(&s), 7);
	assert_false(cbs_get_u8(&s, &u8));
}

static void test_cbs_short_reads_consume_nothing(void **state)
{
	static const uint8_t in[] = {0xaa, 0xbb, 0xcc};
	struct cbs s, sub;
	uint32_t u32;
	uint16_t u16;

	(void)state;
	cbs_init(&s, in, sizeof(in));
	assert_false(cbs_get_u32(&s, &u32));
	assert_int_equal(cbs_len(&s), 3);
	assert_false(cbs_get_bytes(&s, &sub, 4));
	assert_int_equal(cbs_len(&s), 3);
	assert_false(cbs_skip(&s, 4));
	assert_true(cbs_skip(&s, 2));
	assert_false(cbs_get_u16(&s, &u16));
	assert_int_equal(cbs_offset(&s), 2);
}

static void test_cbs_tlv(void **state)
{
	/* tag 14, len 3 "ab\0", then a TLV whose length runs past the end */
	static const uint8_t in[] = {0x0e, 0x00, 0x03, 'a', 'b', 0, 0x0f, 0x00, 0x09, 1, 2};
	struct cbs s, v;
	uint8_t tag;

	(void)state;
	cbs_init(&s, in, sizeof(in));
	assert_true(cbs_get_tlv(&s, &tag, &v));
	assert_int_equal(tag, 14);
	assert_int_equal(cbs_len(&v), 3);
	assert_int_equal(cbs_offset(&v), 3);
	assert_true(cbs_mem_equal(&v, (const uint8_t *)"ab", 3));
	assert_false(cbs_get_tlv(&s, &tag, &v));
	assert_int_equal(cbs_offset(&s), 6); /* failed read left the cursor in place */
}

static void test_cbs_memdup_nul_terminates(void **state)
{
	static const uint8_t in[] = {'x', 'y'};
	struct cbs s;
	uint8_t *p;
	size_t n;

	(void)state;
	cbs_init(&s, in, sizeof(in));
	assert_true(cbs_memdup(&s, &p, &n));
	assert_int_equal(n, 2);
	assert_string_equal((char *)p, "xy");
	free(p);
}

static void test_cbb_builds_and_backpatches(void **state)
{
	struct cbb b;
	size_t mark;
	uint8_t *out;
	size_t len;
	static const uint8_t want[] = {0x10, 0x00, 0x09, /* container, 9 bytes */
				       0x12, 0x00, 0x01, 0x00, 0x14, 0x00, 0x02, 0x00, 0x03,
				       0x0e, 0x00, 0x02, 'a', 0};

	(void)state;
	cbb_init(&b);
	assert_true(cbb_open_tlv(&b, 0x10, &mark));
	assert_true(cbb_add_tlv_u8(&b, 0x12, 0));
	assert_true(cbb_add_tlv_u16(&b, 0x14, 3));
	assert_true(cbb_close_tlv(&b, mark));
	assert_true(cbb_add_tlv_str(&b, 0x0e, "a"));
	assert_true(cbb_finish(&b, &out, &len));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);
}

static void test_cbb_grows(void **state)
{
	struct cbb b;
	uint8_t *out;
	size_t len;

	(void)state;
	cbb_init(&b);
	for (uint32_t i = 0; i < 100000; i++)
		assert_true(cbb_add_u32(&b, i));
	assert_true(cbb_finish(&b, &out, &len));
	assert_int_equal(len, 400000);
	assert_int_equal(out[399999], (uint8_t)99999);
	free(out);
}

static void test_cbb_rejects_oversized_tlv_and_poisons(void **state)
{
	struct cbb b;
	uint8_t *big = calloc(1, 70000), *out = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(big);
	cbb_init(&b);
	assert_false(cbb_add_tlv(&b, 9, big, 70000));
	assert_false(cbb_add_u8(&b, 1)); /* poisoned */
	assert_false(cbb_finish(&b, &out, &len));
	assert_null(out);
	free(big);
}

static void test_cbb_close_rejects_oversized_container(void **state)
{
	struct cbb b;
	size_t mark;
	uint8_t *fill = calloc(1, 0x10000);

	(void)state;
	assert_non_null(fill);
	cbb_init(&b);
	assert_true(cbb_open_tlv(&b, 1, &mark));
	assert_true(cbb_add_bytes(&b, fill, 0x10000));
	assert_false(cbb_close_tlv(&b, mark));
	cbb_cleanup(&b);
	free(fill);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbs_reads_big_endian),
		cmocka_unit_test(test_cbs_short_reads_consume_nothing),
		cmocka_unit_test(test_cbs_tlv),
		cmocka_unit_test(test_cbs_memdup_nul_terminates),
		cmocka_unit_test(test_cbb_builds_and_backpatches),
		cmocka_unit_test(test_cbb_grows),
		cmocka_unit_test(test_cbb_rejects_oversized_tlv_and_poisons),
		cmocka_unit_test(test_cbb_close_rejects_oversized_container),
	};
	return cmocka_run_group_tests_name("bytes", tests, NULL, NULL);
}
