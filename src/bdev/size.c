/* SPDX-License-Identifier: BSD-3-Clause */
/* Sizes with binary suffixes: "4096", "64K", "1G", "2GiB". */
#include "bdev/bdev.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char suffixes[] = "KMGT";

int tt_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	const char *sfx;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		sfx = strchr(suffixes, toupper((unsigned char)*end));
		if (!sfx)
			return -EINVAL;
		shift = 10 * (unsigned)(sfx - suffixes + 1);
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

char *tt_format_size(uint64_t bytes, char *buf, size_t len)
{
	unsigned i = 0;
	uint64_t v = bytes;

	while (v && v % 1024 == 0 && i < sizeof(suffixes) - 1) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, suffixes[i - 1]);
	return buf;
}
