/* SPDX-License-Identifier: BSD-3-Clause */
/* Vital product data pages (SPC-4 7.8, SBC-3 6.5): 00h, 80h, 83h, B0h, B1h, B2h. */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "scsi/proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define VPD_SUPPORTED     0x00
#define VPD_SERIAL        0x80
#define VPD_DEVICE_ID     0x83
#define VPD_THIRD_PARTY_COPY 0x8f
#define VPD_BLOCK_LIMITS  0xb0
#define VPD_BLOCK_CHARS   0xb1
#define VPD_LBP           0xb2

static const uint8_t supported_pages[] = {
	VPD_SUPPORTED, VPD_SERIAL, VPD_DEVICE_ID, VPD_THIRD_PARTY_COPY, VPD_BLOCK_LIMITS,
	VPD_BLOCK_CHARS, VPD_LBP,
};

/* designation descriptor header fields (SPC-4 7.8.6.1) */
#define CODE_BINARY   0x1
#define CODE_ASCII    0x2
#define CODE_UTF8     0x3
#define ASSOC_LU      0x00
#define ASSOC_PORT    0x10
#define ASSOC_DEVICE  0x20
#define PIV           0x80
#define TYPE_T10      0x1
#define TYPE_NAA      0x3
#define TYPE_REL_PORT 0x4
#define TYPE_TPG      0x5
#define TYPE_NAME     0x8

/* A designation descriptor under construction in a fixed buffer. */
struct desc_writer {
	uint8_t *buf;
	size_t len, off;
};

static uint8_t *desc_add(struct desc_writer *w, uint8_t proto_code, uint8_t piv_assoc_type,
			 size_t dlen)
{
	uint8_t *d;

	if (w->off + 4 + dlen > w->len || dlen > 255)
		return NULL;
	d = w->buf + w->off;
	memset(d, 0, 4 + dlen);
	d[0] = proto_code;
	d[1] = piv_assoc_type;
	d[3] = (uint8_t)dlen;
	w->off += 4 + dlen;
	return d + 4;
}

/* SCSI name string designator of protocol @proto: UTF-8, NUL terminated, padded to a multiple of
 * 4 bytes. */
static void desc_add_name(struct desc_writer *w, uint8_t proto, uint8_t assoc, const char *name)
{
	size_t n = strlen(name) + 1;
	size_t padded = (n + 3) & ~(size_t)3;
	uint8_t *d = desc_add(w, (uint8_t)(proto << 4 | CODE_UTF8), PIV | assoc | TYPE_NAME, padded);

	if (d)
		memcpy(d, name, n);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* NAA 6 (IEEE Registered Extended): company id, 36-bit vendor specific id, 64-bit extension. */
static void naa6_build(uint64_t naa_id, uint8_t out[16])
{
	uint32_t cid = TT_SCSI_NAA_COMPANY_ID;
	uint64_t vsid = mix64(naa_id) & 0xfffffffffull;

	out[0] = (uint8_t)(0x60 | ((cid >> 20) & 0x0f));
	out[1] = (uint8_t)(cid >> 12);
	out[2] = (uint8_t)(cid >> 4);
	out[3] = (uint8_t)((cid & 0x0f) << 4 | (uint8_t)(vsid >> 32));
	tt_put_be32(out + 4, (uint32_t)vsid);
	tt_put_be64(out + 8, naa_id);
}

static size_t page_device_id(const struct tt_lun *lun, const struct tt_scsi_port *port,
			     uint8_t *buf, size_t len)
{
	struct desc_writer w = { .buf = buf, .len = len, .off = 4 };
	size_t vlen = strlen(lun->vendor), slen = strlen(lun->serial);
	uint8_t *d;

	d = desc_add(&w, CODE_BINARY, ASSOC_LU | TYPE_NAA, 16);
	if (d)
		naa6_build(lun->naa_id, d);
	d = desc_add(&w, CODE_ASCII, ASSOC_LU | TYPE_T10, 8 + slen);
	if (d) {
		memset(d, ' ', 8);
		memcpy(d, lun->vendor, vlen);
		memcpy(d + 8, lun->serial, slen);
	}
	if (port) {
		/* the designators of the port's protocol: target port and target device names,
		 * then the relative target port and its group (protocol independent, PIV set) */
		const struct tt_scsi_proto *proto = port->fe->proto;
		char name[TT_PR_NAME_MAX + 32];

		if (proto->port_name(port, name, sizeof(name)) >= 0)
			desc_add_name(&w, proto->id, ASSOC_PORT, name);
		d = desc_add(&w, (uint8_t)(proto->id << 4 | CODE_BINARY),
			     PIV | ASSOC_PORT | TYPE_REL_PORT, 4);
		if (d)
			tt_put_be16(d + 2, port->rel_port_id);
		d = desc_add(&w, (uint8_t)(proto->id << 4 | CODE_BINARY), PIV | ASSOC_PORT | TYPE_TPG, 4);
		if (d)
			tt_put_be16(d + 2, port->port_group_id);
		if (proto->device_name(port, name, sizeof(name)) >= 0)
			desc_add_name(&w, proto->id, ASSOC_DEVICE, name);
	}
	return w.off;
}

static size_t page_block_limits(const struct tt_lun *lun, uint8_t *p)
{
	memset(p + 4, 0, 0x3c);
	p[4] = 0x00;                                       /* WSNZ 0: 0 blocks = to the end */
	tt_put_be16(p + 6, (uint16_t)(1u << lun->lbppbe)); /* OPTIMAL TRANSFER LENGTH GRANULARITY */
	tt_put_be32(p + 8, lun->max_xfer_blocks);          /* MAXIMUM TRANSFER LENGTH */
	if (tt_sbc_lbp(lun)) {
		tt_put_be32(p + 20, TT_SBC_MAX_UNMAP_LBA_COUNT);
		tt_put_be32(p + 24, TT_SBC_MAX_UNMAP_DESCRIPTORS);
		tt_put_be32(p + 28, 1u << lun->lbppbe);    /* OPTIMAL UNMAP GRANULARITY */
	}
	tt_put_be64(p + 36, TT_SBC_MAX_WRITE_SAME_LEN);
	tt_sbc_write_limits(lun, p);                       /* COMPARE AND WRITE, WRITE ATOMIC */
	return 4 + 0x3c;
}

static size_t page_block_characteristics(uint8_t *p)
{
	memset(p + 4, 0, 0x3c);
	tt_put_be16(p + 4, 0x0001); /* MEDIUM ROTATION RATE: non-rotating medium */
	/* WABEREQ 01b, WACEREQ 01b: reads after SANITIZE BLOCK ERASE and CRYPTO ERASE succeed */
	p[7] = 0x40 | 0x10;
	return 4 + 0x3c;
}

static size_t page_lbp(const struct tt_lun *lun, uint8_t *p)
{
	memset(p + 4, 0, 4);
	if (tt_sbc_lbp(lun)) {
		p[5] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU, LBPWS, LBPWS10, LBPRZ */
		p[6] = 0x02;                      /* PROVISIONING TYPE: thin */
	}
	return 8;
}

int tt_vpd_build(const struct tt_lun *lun, const struct tt_scsi_port *port, uint8_t page,
		 uint8_t *buf, size_t len)
{
	size_t n;

	if (len < 64 + 4)
		return -ENOBUFS;
	memset(buf, 0, 4);
	buf[0] = 0x00; /* peripheral qualifier 000b, direct access block device */
	buf[1] = page;
	switch (page) {
	case VPD_SUPPORTED:
		memcpy(buf + 4, supported_pages, sizeof(supported_pages));
		n = 4 + sizeof(supported_pages);
		break;
	case VPD_SERIAL:
		n = strlen(lun->serial);
		memcpy(buf + 4, lun->serial, n);
		n += 4;
		break;
	case VPD_DEVICE_ID:
		n = page_device_id(lun, port, buf, len);
		break;
	case VPD_BLOCK_LIMITS:
		n = page_block_limits(lun, buf);
		break;
	case VPD_BLOCK_CHARS:
		n = page_block_characteristics(buf);
		break;
	case VPD_LBP:
		n = page_lbp(lun, buf);
		break;
	case VPD_THIRD_PARTY_COPY:
		n = tt_xcopy_vpd_page(lun, buf, len);
		break;
	default:
		return -ENOENT;
	}
	tt_put_be16(buf + 2, (uint16_t)(n - 4));
	return (int)n;
}
