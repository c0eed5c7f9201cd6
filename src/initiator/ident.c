/* SPDX-License-Identifier: BSD-3-Clause */
/* Identity of the logical unit and of the port a path reaches it through: VPD page 83h
 * designators (SPC-4 §7.8.6) and REPORT TARGET PORT GROUPS data (SPC-4 §6.36). */
#include "initiator/initiator.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *ti_alua_name(enum ti_alua a)
{
	switch (a) {
	case TI_ALUA_OPTIMIZED: return "active/optimized";
	case TI_ALUA_NON_OPTIMIZED: return "active/non-optimized";
	case TI_ALUA_STANDBY: return "standby";
	case TI_ALUA_UNAVAILABLE: return "unavailable";
	case TI_ALUA_LBA_DEPENDENT: return "lba-dependent";
	case TI_ALUA_OFFLINE: return "offline";
	case TI_ALUA_TRANSITIONING: return "transitioning";
	case TI_ALUA_NONE: return "-";
	}
	return "?";
}

/* Preference among the unit's designators: lower is better, -1 not a unit designator. */
static int lu_rank(uint8_t type)
{
	switch (type) {
	case 3: return 0;  /* NAA */
	case 2: return 1;  /* EUI-64 */
	case 8: return 2;  /* SCSI name string */
	case 1: return 3;  /* T10 vendor ID */
	}
	return -1;
}

static void lu_format(struct ti_ident *id)
{
	static const char hex[] = "0123456789abcdef";
	char *o = id->lu_text;
	size_t cap = sizeof(id->lu_text);

	if (id->lu_type == 8 || id->lu_type == 1) {
		size_t n = 0;

		if (id->lu_type == 1)
			n = (size_t)snprintf(o, cap, "t10.");
		for (size_t i = 0; i < id->lu_len && n + 1 < cap && id->lu_id[i]; i++)
			o[n++] = (id->lu_id[i] >= 0x20 && id->lu_id[i] < 0x7f) ? (char)id->lu_id[i]
									       : '_';
		while (n > 0 && o[n - 1] == ' ')
			n--;
		o[n] = 0;
		return;
	}
	size_t n = (size_t)snprintf(o, cap, "%s.", id->lu_type == 3 ? "naa" : "eui");

	for (size_t i = 0; i < id->lu_len && n + 2 < cap; i++) {
		o[n++] = hex[id->lu_id[i] >> 4];
		o[n++] = hex[id->lu_id[i] & 15];
	}
	o[n] = 0;
}

int ti_vpd83_parse(const uint8_t *buf, size_t len, struct ti_ident *out)
{
	size_t end, off = 4;
	int best = -1;

	memset(out, 0, sizeof(*out));
	if (len < 4 || buf[1] != 0x83)
		return -EPROTO;
	end = 4 + (size_t)tt_get_be16(buf + 2);
	if (end > len)
		end = len;   /* truncated by the allocation length: use what came */
	while (off + 4 <= end) {
		const uint8_t *d = buf + off;
		uint8_t assoc = (d[1] >> 4) & 3, type = d[1] & 0x0f, dl = d[3];

		if (off + 4 + dl > end)
			break;
		if (assoc == 0) {
			int r = lu_rank(type);

			if (r >= 0 && (best < 0 || r < best) && dl <= sizeof(out->lu_id)) {
				best = r;
				out->lu_type = type;
				out->lu_len = dl;
				memcpy(out->lu_id, d + 4, dl);
			}
		} else if (assoc == 1 && type == 4 && dl >= 4) {
			out->have_rel_port = true;
			out->rel_port = tt_get_be16(d + 6);
		} else if (assoc == 1 && type == 5 && dl >= 4) {
			out->have_tpg = true;
			out->tpg = tt_get_be16(d + 6);
		}
		off += 4 + dl;
	}
	if (best < 0)
		return -ENODATA;
	lu_format(out);
	return 0;
}

bool ti_ident_same_lu(const struct ti_ident *a, const struct ti_ident *b)
{
	return a->lu_type == b->lu_type && a->lu_len == b->lu_len &&
	       !memcmp(a->lu_id, b->lu_id, a->lu_len);
}

int ti_rtpg_state(const uint8_t *buf, size_t len, bool have_tpg, uint16_t tpg, bool have_rel,
		  uint16_t rel_port, enum ti_alua *out)
{
	size_t end, off = 4;
	int by_port = -1;

	if (len < 4)
		return -EPROTO;
	end = 4 + (size_t)tt_get_be32(buf);
	if (end > len)
		end = len;
	while (off + 8 <= end) {
		const uint8_t *d = buf + off;
		uint8_t state = d[0] & 0x0f;
		uint16_t id = tt_get_be16(d + 2);
		size_t ports = d[7];

		if (off + 8 + ports * 4 > end)
			return -EPROTO;
		if (have_tpg && id == tpg) {
			*out = (enum ti_alua)state;
			return 0;
		}
		for (size_t i = 0; i < ports && have_rel; i++)
			if (tt_get_be16(d + 8 + i * 4 + 2) == rel_port && by_port < 0)
				by_port = state;
		off += 8 + ports * 4;
	}
	if (by_port >= 0) {
		*out = (enum ti_alua)by_port;
		return 0;
	}
	return -ENOENT;
}
