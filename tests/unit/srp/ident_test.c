/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP target port identifier and the add_target line (src/srp/ident.c): the identifier is
 * stable and differs between targets and portal groups; the line has the fields the Linux
 * initiator's add_target parser takes for an RDMA-CM target, IPv6 in brackets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "srp/ident.h"

static void test_port_id(void **state)
{
	uint8_t a[16], b[16], c[16], d[16];

	(void)state;
	tt_srp_port_id_make("iqn.2026-11.org.tether:disk0", 1, a);
	tt_srp_port_id_make("iqn.2026-11.org.tether:disk0", 1, b);
	tt_srp_port_id_make("iqn.2026-11.org.tether:disk0", 2, c);
	tt_srp_port_id_make("iqn.2026-11.org.tether:disk1", 1, d);
	assert_memory_equal(a, b, 16);
	/* the portal group is the identifier extension, the target the I/O controller GUID */
	assert_memory_not_equal(a, c, 8);
	assert_memory_equal(a + 8, c + 8, 8);
	assert_memory_equal(a, d, 8);
	assert_memory_not_equal(a + 8, d + 8, 8);
	assert_int_equal(a[7], 1);
	assert_int_equal(c[7], 2);
	assert_int_equal(a[8], 0x02);
}

static void test_line(void **state)
{
	uint8_t id[16] = { 0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	char buf[128];
	unsigned long long ext, guid;
	char dest[64];

	(void)state;
	int n = tt_srp_add_target_line(id, "10.0.0.1", 5555, buf, sizeof(buf));

	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
			    "id_ext=0000000000000001,ioc_guid=0211223344556677,dest=10.0.0.1:5555");
	assert_int_equal(sscanf(buf, "id_ext=%llx,ioc_guid=%llx,dest=%63s", &ext, &guid, dest), 3);
	assert_int_equal(ext, 1);
	assert_int_equal(guid, 0x0211223344556677ull);
	assert_string_equal(dest, "10.0.0.1:5555");
	assert_true(tt_srp_add_target_line(id, "fd00::1", 5555, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, ",dest=[fd00::1]:5555"));
	assert_int_equal(tt_srp_add_target_line(id, "", 5555, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tt_srp_add_target_line(id, NULL, 5555, buf, sizeof(buf)), -EINVAL);
	/* one byte short of the terminating NUL */
	assert_int_equal(tt_srp_add_target_line(id, "10.0.0.1", 5555, buf, (size_t)n), -ENOSPC);
	assert_int_equal(tt_srp_add_target_line(id, "10.0.0.1", 5555, buf, (size_t)n + 1), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_id),
		cmocka_unit_test(test_line),
	};

	return tt_run_group("srp_ident_test", tests, NULL, NULL);
}
