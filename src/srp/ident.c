/* SPDX-License-Identifier: BSD-3-Clause */
/* The SRP target port identifier and the add_target line (see ident.h). */
#include "srp/ident.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void tt_srp_port_id_make(const char *target_name, uint16_t tpgt, uint8_t id[16])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *s = (const unsigned char *)target_name; *s; s++) {
		h ^= *s;
		h *= 0x100000001b3ull;
	}
	h = (h & 0x00ffffffffffffffull) | 0x0200000000000000ull;
	put64(id, tpgt);
	put64(id + 8, h);
}

int tt_srp_add_target_line(const uint8_t id[16], const char *addr, uint16_t port, char *buf,
			   size_t cap)
{
	if (!addr || !*addr)
		return -EINVAL;
	bool v6 = strchr(addr, ':') != NULL;
	int n = snprintf(buf, cap, "id_ext=%016llx,ioc_guid=%016llx,dest=%s%s%s:%u",
			 (unsigned long long)get64(id), (unsigned long long)get64(id + 8),
			 v6 ? "[" : "", addr, v6 ? "]" : "", (unsigned)port);

	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= cap)
		return -ENOSPC;
	return n;
}
