/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "iscsi/text.h"

#define LIT(s) (s), (sizeof(s) - 1)

static void test_parse_basic(void **state)
{
	struct tt_text t;

	(void)state;
	tt_text_init(&t, 0);
	assert_int_equal(tt_text_parse(&t, LIT("InitiatorName=iqn.1993-08.org.debian:01:ab\0"
					      "SessionType=Normal\0Empty=\0")), 0);
	assert_int_equal(tt_text_count(&t), 3);
	struct tt_text_pair p = tt_text_get(&t, 0);
	assert_string_equal(p.key, "InitiatorName");
	assert_string_equal(p.value, "iqn.1993-08.org.debian:01:ab");
	assert_string_equal(tt_text_get(&t, 1).value, "Normal");
	assert_string_equal(tt_text_get(&t, 2).key, "Empty");
	assert_string_equal(tt_text_get(&t, 2).value, "");
	assert_null(tt_text_get(&t, 3).key);
	assert_string_equal(tt_text_find(&t, "SessionType"), "Normal");
	assert_null(tt_text_find(&t, "Session"));
	/* a value may contain '=' after the first one */
	assert_int_equal(tt_text_parse(&t, LIT("X-com.example.k=a=b\0")), 0);
	assert_string_equal(tt_text_find(&t, "X-com.example.k"), "a=b");
	tt_text_fini(&t);
}

static void test_missing_final_nul(void **state)
{
	struct tt_text t;

	(void)state;
	tt_text_init(&t, 0);
	assert_int_equal(tt_text_parse(&t, LIT("A=1\0B=2")), 0);
	assert_int_equal(tt_text_count(&t), 2);
	assert_string_equal(tt_text_find(&t, "B"), "2");
	/* nothing may follow the final segment */
	assert_int_equal(tt_text_append(&t, LIT("C=3\0"), true), -EINVAL);
	tt_text_reset(&t);
	assert_int_equal(tt_text_append(&t, LIT("C=3\0"), true), 0);
	assert_int_equal(tt_text_count(&t), 1);
	tt_text_fini(&t);
}

static void test_malformed(void **state)
{
	struct tt_text t;
	char key64[80];

	(void)state;
	tt_text_init(&t, 0);
	assert_int_equal(tt_text_parse(&t, LIT("NoEquals\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("=value\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("Bad Key=1\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("1Key=1\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("Key=a\tb\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("Key=a\nb\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("A#B=1\0")), -EBADMSG);
	assert_int_equal(tt_text_parse(&t, LIT("X#=1\0")), -EBADMSG);
	/* X# keys, lowercase-initial iSCSIProtocolLevel and UTF-8 aliases are fine */
	assert_int_equal(tt_text_parse(&t, LIT("X#NodeArchitecture=x\0iSCSIProtocolLevel=1\0"
					      "InitiatorAlias=h\xc3\xb4te\0")), 0);
	assert_int_equal(tt_text_count(&t), 3);
	/* 63-byte key accepted, 64 refused */
	memset(key64, 'K', 63);
	strcpy(key64 + 63, "=1");
	assert_int_equal(tt_text_parse(&t, key64, strlen(key64)), 0);
	memset(key64, 'K', 64);
	strcpy(key64 + 64, "=1");
	assert_int_equal(tt_text_parse(&t, key64, strlen(key64)), -EBADMSG);
	/* consecutive NULs (padding) are skipped */
	assert_int_equal(tt_text_parse(&t, LIT("A=1\0\0\0B=2\0\0")), 0);
	assert_int_equal(tt_text_count(&t), 2);
	tt_text_fini(&t);
}

static void test_value_limit(void **state)
{
	struct tt_text t;
	size_t n = 2 + TT_TEXT_VALUE_MAX + 1;
	char *buf = malloc(n + 1);

	(void)state;
	tt_text_init(&t, 0);
	memcpy(buf, "V=", 2);
	memset(buf + 2, 'a', TT_TEXT_VALUE_MAX);
	buf[2 + TT_TEXT_VALUE_MAX] = '\0';
	assert_int_equal(tt_text_parse(&t, buf, 2 + TT_TEXT_VALUE_MAX + 1), 0);
	assert_int_equal(strlen(tt_text_find(&t, "V")), TT_TEXT_VALUE_MAX);
	buf[2 + TT_TEXT_VALUE_MAX] = 'a';
	buf[n] = '\0';
	assert_int_equal(tt_text_parse(&t, buf, n + 1), -EBADMSG);
	/* an unterminated pair growing past the limit is refused before the end */
	tt_text_reset(&t);
	assert_int_equal(tt_text_append(&t, buf, n, false), -EBADMSG);
	/* so is an open key longer than 63 bytes, before its '=' arrives */
	memset(buf, 'K', 64);
	tt_text_reset(&t);
	assert_int_equal(tt_text_append(&t, buf, 63, false), 0);
	tt_text_reset(&t);
	assert_int_equal(tt_text_append(&t, buf, 64, false), -EBADMSG);
	free(buf);
	tt_text_fini(&t);
}

/* C bit: pairs split anywhere across PDUs, including inside a key or at '='. */
static void test_multi_pdu(void **state)
{
	static const char text[] = "MaxBurstLength=262144\0FirstBurstLength=65536\0"
				   "HeaderDigest=CRC32C,None\0";
	struct tt_text t;

	(void)state;
	tt_text_init(&t, 0);
	for (size_t cut1 = 1; cut1 < sizeof(text) - 2; cut1++) {
		size_t cut2 = cut1 + (sizeof(text) - 1 - cut1) / 2;
		tt_text_reset(&t);
		assert_int_equal(tt_text_append(&t, text, cut1, false), 0);
		assert_int_equal(tt_text_append(&t, text + cut1, cut2 - cut1, false), 0);
		assert_int_equal(tt_text_append(&t, text + cut2, sizeof(text) - 1 - cut2, true), 0);
		assert_int_equal(tt_text_count(&t), 3);
		assert_string_equal(tt_text_find(&t, "MaxBurstLength"), "262144");
		assert_string_equal(tt_text_find(&t, "FirstBurstLength"), "65536");
		assert_string_equal(tt_text_find(&t, "HeaderDigest"), "CRC32C,None");
	}
	/* complete pairs are visible before the final segment */
	tt_text_reset(&t);
	assert_int_equal(tt_text_append(&t, LIT("A=1\0B="), false), 0);
	assert_int_equal(tt_text_count(&t), 1);
	assert_int_equal(tt_text_append(&t, LIT("2"), true), 0);
	assert_int_equal(tt_text_count(&t), 2);
	/* an empty final segment closes the text */
	tt_text_reset(&t);
	assert_int_equal(tt_text_append(&t, LIT("A=1\0"), false), 0);
	assert_int_equal(tt_text_append(&t, "", 0, true), 0);
	assert_true(t.complete);
	tt_text_fini(&t);
}

static void test_total_limit(void **state)
{
	struct tt_text t;

	(void)state;
	tt_text_init(&t, 16);
	assert_int_equal(tt_text_append(&t, LIT("A=1234567\0"), false), 0);
	assert_int_equal(tt_text_append(&t, LIT("B=1234567\0"), true), -EMSGSIZE);
	tt_text_fini(&t);
}

static void test_occurrences(void **state)
{
	struct tt_text t;

	(void)state;
	tt_text_init(&t, 0);
	assert_int_equal(tt_text_parse(&t, LIT("A=1\0B=2\0A=3\0")), 0);
	assert_int_equal(tt_text_occurrences(&t, "A"), 2);
	assert_int_equal(tt_text_occurrences(&t, "B"), 1);
	assert_int_equal(tt_text_occurrences(&t, "C"), 0);
	assert_string_equal(tt_text_find(&t, "A"), "1");
	tt_text_fini(&t);
}

static void test_build_and_chunk(void **state)
{
	struct tt_text_out o;
	struct tt_text t;
	const char *chunk;
	bool last;
	size_t off = 0, n, chunks = 0;

	(void)state;
	tt_text_out_init(&o, 0);
	tt_text_init(&t, 0);
	assert_int_equal(tt_text_add(&o, "TargetAlias", "disk one"), 0);
	assert_int_equal(tt_text_add_u64(&o, "MaxRecvDataSegmentLength", 262144), 0);
	assert_int_equal(tt_text_add_bool(&o, "ImmediateData", false), 0);
	uint8_t bin[3] = { 0x01, 0xab, 0xff };
	assert_int_equal(tt_text_add_hex(&o, "CHAP_C", bin, sizeof(bin)), 0);
	assert_int_equal(tt_text_addf(&o, "X-org.example.n", "%d-%s", 7, "z"), 0);
	assert_memory_equal(o.buf, "TargetAlias=disk one\0MaxRecvDataSegmentLength=262144\0"
			    "ImmediateData=No\0CHAP_C=0x01abff\0X-org.example.n=7-z\0", o.len);
	assert_string_equal(tt_text_out_find(&o, "ImmediateData"), "No");
	assert_null(tt_text_out_find(&o, "Immediate"));
	/* invalid keys and values are refused */
	assert_int_equal(tt_text_add(&o, "", "x"), -EINVAL);
	assert_int_equal(tt_text_add(&o, "A B", "x"), -EINVAL);
	assert_int_equal(tt_text_add(&o, "A", "x\ny"), -EINVAL);

	/* chunks of 7 bytes reassemble to the same pairs */
	for (int guard = 0; guard < 100; guard++) {
		n = tt_text_next_chunk(&o, &off, 7, &chunk, &last);
		assert_true(n <= 7);
		assert_int_equal(tt_text_append(&t, chunk, n, last), 0);
		chunks++;
		if (last)
			break;
	}
	assert_true(last);
	assert_int_equal(chunks, (o.len + 6) / 7);
	assert_int_equal(off, o.len);
	assert_int_equal(tt_text_count(&t), 5);
	assert_string_equal(tt_text_find(&t, "CHAP_C"), "0x01abff");
	assert_string_equal(tt_text_find(&t, "TargetAlias"), "disk one");

	/* empty text: one empty last chunk */
	tt_text_out_reset(&o);
	off = 0;
	n = tt_text_next_chunk(&o, &off, 8192, &chunk, &last);
	assert_int_equal(n, 0);
	assert_true(last);
	/* exact multiple: the last chunk is full */
	assert_int_equal(tt_text_add(&o, "AB", "123"), 0); /* 7 bytes */
	off = 0;
	n = tt_text_next_chunk(&o, &off, 7, &chunk, &last);
	assert_int_equal(n, 7);
	assert_true(last);

	tt_text_out_fini(&o);
	tt_text_fini(&t);
}

static void test_out_limit(void **state)
{
	struct tt_text_out o;

	(void)state;
	tt_text_out_init(&o, 10);
	assert_int_equal(tt_text_add(&o, "A", "1234567"), 0); /* 10 bytes */
	assert_int_equal(tt_text_add(&o, "B", ""), -EMSGSIZE);
	assert_int_equal(o.len, 10);
	tt_text_out_fini(&o);
}

static void test_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(tt_text_parse_u64("8192", 512, 16777215, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(tt_text_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tt_text_parse_u64("0x2000", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(tt_text_parse_u64("0XfF", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 255);
	/* base64 "ACA=" is bytes 00 20: 32 */
	assert_int_equal(tt_text_parse_u64("0bACA=", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 32);
	assert_int_equal(tt_text_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(tt_text_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(tt_text_parse_u64("0x10000000000000000", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(tt_text_parse_u64("511", 512, 16777215, &v), -ERANGE);
	assert_int_equal(tt_text_parse_u64("16777216", 512, 16777215, &v), -ERANGE);
	assert_int_equal(tt_text_parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(tt_text_parse_u64("0x", 0, 10, &v), -EINVAL);
	assert_int_equal(tt_text_parse_u64("12a", 0, 1000, &v), -EINVAL);
	assert_int_equal(tt_text_parse_u64("-1", 0, 1000, &v), -EINVAL);
	assert_int_equal(tt_text_parse_u64(" 1", 0, 1000, &v), -EINVAL);
	assert_int_equal(tt_text_parse_u64("0b@@@@", 0, 1000, &v), -EINVAL);
	/* more than 64 bits of base64 */
	assert_int_equal(tt_text_parse_u64("0bAAAAAAAAAAAA", 0, UINT64_MAX, &v), -ERANGE);
}

static void test_bool(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(tt_text_parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(tt_text_parse_bool("No", &b), 0);
	assert_false(b);
	assert_int_equal(tt_text_parse_bool("yes", &b), -EINVAL);
	assert_int_equal(tt_text_parse_bool("", &b), -EINVAL);
	assert_int_equal(tt_text_parse_bool("Yes ", &b), -EINVAL);
}

static void test_binary(void **state)
{
	uint8_t b[8];
	size_t n;

	(void)state;
	assert_int_equal(tt_text_decode_binary("0x01ABff", b, sizeof(b), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(b[0], 0x01);
	assert_int_equal(b[1], 0xab);
	assert_int_equal(b[2], 0xff);
	/* odd number of digits: implicit leading zero nibble */
	assert_int_equal(tt_text_decode_binary("0xabc", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xbc);
	/* base64 (RFC 4648) */
	assert_int_equal(tt_text_decode_binary("0bAautlw==", b, sizeof(b), &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(b[0], 0x01);
	assert_int_equal(b[1], 0xab);
	assert_int_equal(b[2], 0xad);
	assert_int_equal(b[3], 0x97);
	assert_int_equal(tt_text_decode_binary("0BAQID", b, sizeof(b), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(b[2], 3);
	/* errors */
	assert_int_equal(tt_text_decode_binary("0x", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(tt_text_decode_binary("0xzz", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(tt_text_decode_binary("1234", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(tt_text_decode_binary("0bAQI", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(tt_text_decode_binary("0bA=QI", b, sizeof(b), &n), -EINVAL);
	/* canonical "AQI=" is 01 02; "AQJ=" leaves non-zero bits behind */
	assert_int_equal(tt_text_decode_binary("0bAQI=", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[1], 2);
	assert_int_equal(tt_text_decode_binary("0bAQJ=", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(tt_text_decode_binary("0x000102030405060708", b, sizeof(b), &n),
			 -EMSGSIZE);
}

static void test_lists(void **state)
{
	const char *cur = "CRC32C,None";
	char item[8];

	(void)state;
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), 1);
	assert_string_equal(item, "CRC32C");
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), 1);
	assert_string_equal(item, "None");
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), 0);

	cur = "a,,b";
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), 1);
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), -EINVAL);
	cur = "a,";
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), 1);
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), -EINVAL);
	cur = "";
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), -EINVAL);
	cur = "TooLongItem";
	assert_int_equal(tt_text_list_next(&cur, item, sizeof(item)), -EMSGSIZE);

	assert_true(tt_text_list_contains("CHAP,None", "None"));
	assert_true(tt_text_list_contains("CHAP,None", "CHAP"));
	assert_false(tt_text_list_contains("CHAP,None", "CHA"));
	assert_false(tt_text_list_contains("CHAP,None", "None,"));
	assert_false(tt_text_list_contains("CHAPS", "CHAP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_missing_final_nul),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_value_limit),
		cmocka_unit_test(test_multi_pdu),
		cmocka_unit_test(test_total_limit),
		cmocka_unit_test(test_occurrences),
		cmocka_unit_test(test_build_and_chunk),
		cmocka_unit_test(test_out_limit),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_lists),
	};
	return tt_run_group("text_test", tests, NULL, NULL);
}
