/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP target port identifier and the line a Linux host writes to add a target.
 *
 * A target port identifier is 16 bytes: the identifier extension (bytes 0..7) and the I/O
 * controller GUID (bytes 8..15), both big-endian. The Linux initiator sends them in the
 * TARGET PORT IDENTIFIER of its login as `id_ext` and `ioc_guid` from its add_target line, so a
 * port compares them to its own and rejects a login meant for another port.
 */
#ifndef TT_SRP_IDENT_H
#define TT_SRP_IDENT_H

#include <stddef.h>
#include <stdint.h>

/* A stable identifier for a target's portal group: the I/O controller GUID from the target
 * name (FNV-1a, the locally administered bit pattern 02h in its top byte), the identifier
 * extension the portal group tag. */
void tt_srp_port_id_make(const char *target_name, uint16_t tpgt, uint8_t id[16]);

/* "id_ext=<16 hex>,ioc_guid=<16 hex>,dest=<addr>:<port>" ("[addr]:port" for IPv6), the line for
 * /sys/class/infiniband_srp/srp-<device>-<port>/add_target. Its length, -EINVAL for an empty
 * address, -ENOSPC when @cap is too small (@buf then holds nothing usable). */
int tt_srp_add_target_line(const uint8_t id[16], const char *addr, uint16_t port, char *buf,
			   size_t cap);

#endif
