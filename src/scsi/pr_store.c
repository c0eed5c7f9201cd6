/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Persist through power loss (APTPL, SPC-4 5.13.5): the registrations and the persistent
 * reservation of a LUN in a small text file, written atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory) and read back when the LUN is created.
 *
 *   tether-pr 2
 *   generation <decimal>
 *   aptpl <0|1>
 *   type <reservation type, 0: none>
 *   reg <key, 16 hex digits> <relative target port | all> <holder 0|1> <protocol> <initiator port>
 *
 * <protocol> is the name of the initiator port's protocol table ("iscsi", "srp") and <initiator
 * port> its text form there (struct tt_scsi_proto.ident_format: iSCSI "<name>,i,0x<ISID>", or
 * "<name>" for every ISID; SRP "0x<32 hex digits>").
 *
 * Files of version 1 (iSCSI only, written before the protocol was recorded) still load:
 *   tether-pr 1
 *   ...
 *   reg <key> <relative target port | all> <ISID, 12 hex digits | any> <holder 0|1> <iSCSI name>
 *
 * A file whose aptpl is 0 restores nothing (APTPL was turned off after it was written).
 */
#include "scsi/pr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAGIC    "tether-pr 2"
#define STORE_MAGIC_V1 "tether-pr 1"
#define STORE_MAX_BYTES (TT_PR_MAX_REGS * 512 + 4096)

char *tt_pr_store_format(const struct tt_pr *pr)
{
	size_t cap = 128 + (size_t)pr->nregs * (TT_PR_NAME_MAX + 96), n = 0;
	char *s = malloc(cap);
	struct tt_list *pos;

	if (!s)
		return NULL;
	n += (size_t)snprintf(s + n, cap - n, "%s\ngeneration %" PRIu32 "\naptpl %d\ntype %u\n",
			      STORE_MAGIC, pr->generation, pr->aptpl ? 1 : 0, pr->type);
	tt_list_for_each(pos, &pr->regs) {
		const struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);
		char port[8], ident[TT_PR_NAME_MAX + 32];

		if (r->id.all_ports)
			snprintf(port, sizeof(port), "all");
		else
			snprintf(port, sizeof(port), "%u", r->id.port);
		if (r->id.proto->ident_format(&r->id, ident, sizeof(ident)) < 0) {
			free(s);
			return NULL; /* an identity without text form cannot be kept */
		}
		n += (size_t)snprintf(s + n, cap - n, "reg %016" PRIx64 " %s %d %s %s\n", r->key, port,
				      pr->holder == r ? 1 : 0, r->id.proto->name, ident);
	}
	return s;
}

static int parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EBADMSG;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EBADMSG;
	*out = v;
	return 0;
}

/* Version 1: "<ISID, 12 hex digits | any>" */
static int parse_isid(const char *s, struct tt_pr_id *id)
{
	if (!strcmp(s, "any")) {
		id->any_isid = true;
		return 0;
	}
	if (strlen(s) != 12 || tt_scsi_hex_decode(s, id->isid, sizeof(id->isid)) < 0)
		return -EBADMSG;
	id->any_isid = false;
	return 0;
}

/* Version 1 "reg" fields after the keyword: key, port, ISID, holder, iSCSI name. */
static int parse_reg_v1(char **f, int nf, struct tt_pr_id *id, uint64_t *held)
{
	if (nf != 5)
		return -EBADMSG;
	if (parse_isid(f[2], id) < 0 || parse_u64(f[3], 10, 1, held) < 0)
		return -EBADMSG;
	/* the name alone, as the iSCSI table reads it (no ISID: every ISID), then the ISID */
	bool any = id->any_isid;
	uint8_t isid[6];

	memcpy(isid, id->isid, sizeof(isid));
	if (strchr(f[4], ',') || tt_scsi_proto_iscsi.ident_parse(f[4], id) < 0)
		return -EBADMSG;
	id->any_isid = any;
	memcpy(id->isid, isid, sizeof(isid));
	return 0;
}

/* Version 2 "reg" fields after the keyword: key, port, holder, protocol, initiator port. */
static int parse_reg_v2(char **f, int nf, struct tt_pr_id *id, uint64_t *held)
{
	const struct tt_scsi_proto *proto;

	if (nf != 5)
		return -EBADMSG;
	if (parse_u64(f[2], 10, 1, held) < 0)
		return -EBADMSG;
	proto = tt_scsi_proto_by_name(f[3]);
	if (!proto || proto->ident_parse(f[4], id) < 0 || id->proto != proto)
		return -EBADMSG;
	return 0;
}

/* One "reg" line's fields after the keyword. */
static int parse_reg(struct tt_pr *pr, int version, char **f, int nf, struct tt_pr_reg **holder)
{
	struct tt_pr_id id;
	struct tt_pr_reg *r;
	uint64_t key, port, held;
	int rc;

	if (nf < 2)
		return -EBADMSG;
	memset(&id, 0, sizeof(id));
	if (parse_u64(f[0], 16, UINT64_MAX, &key) < 0 || key == 0)
		return -EBADMSG;
	if (version == 1)
		rc = parse_reg_v1(f, nf, &id, &held);
	else
		rc = parse_reg_v2(f, nf, &id, &held);
	if (rc < 0)
		return rc;
	if (!strcmp(f[1], "all")) {
		id.all_ports = true;
	} else {
		if (parse_u64(f[1], 10, UINT16_MAX, &port) < 0)
			return -EBADMSG;
		id.port = (uint16_t)port;
	}
	if (pr->nregs >= TT_PR_MAX_REGS)
		return -EBADMSG;
	r = tt_pr_reg_add(pr, &id, key);
	if (!r)
		return -ENOMEM;
	if (held) {
		if (*holder)
			return -EBADMSG;
		*holder = r;
	}
	return 0;
}

int tt_pr_store_parse(struct tt_pr *pr, const char *text)
{
	char *copy = strdup(text), *save = NULL, *line;
	struct tt_pr_reg *holder = NULL;
	uint64_t generation = 0, aptpl = 0, type = 0;
	bool magic = false;
	int version = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[8], *fsave = NULL;
		int nf = 0;

		if (!magic) {
			if (!strcmp(line, STORE_MAGIC))
				version = 2;
			else if (!strcmp(line, STORE_MAGIC_V1))
				version = 1;
			else
				rc = -EBADMSG;
			magic = true;
			continue;
		}
		for (char *t = strtok_r(line, " \t", &fsave); t; t = strtok_r(NULL, " \t", &fsave)) {
			if (nf == 8) {
				rc = -EBADMSG;
				break;
			}
			f[nf++] = t;
		}
		if (rc || nf == 0)
			continue;
		if (!strcmp(f[0], "generation") && nf == 2)
			rc = parse_u64(f[1], 10, UINT32_MAX, &generation);
		else if (!strcmp(f[0], "aptpl") && nf == 2)
			rc = parse_u64(f[1], 10, 1, &aptpl);
		else if (!strcmp(f[0], "type") && nf == 2)
			rc = parse_u64(f[1], 10, 0xf, &type);
		else if (!strcmp(f[0], "reg"))
			rc = parse_reg(pr, version, f + 1, nf - 1, &holder);
		else
			rc = -EBADMSG;
	}
	free(copy);
	if (rc == 0 && !magic)
		rc = -EBADMSG;
	if (rc == 0 && type != TT_PR_NONE) {
		/* a reservation needs its holder, or registrants for all registrants types */
		if (!tt_pr_type_valid((unsigned)type) || pr->nregs == 0 ||
		    (!tt_pr_type_all_reg((unsigned)type) && !holder))
			rc = -EBADMSG;
	}
	if (rc < 0) {
		tt_pr_regs_clear(pr);
		return rc;
	}
	pr->generation = (uint32_t)generation;
	pr->aptpl = aptpl;
	pr->type = (uint8_t)type;
	pr->holder = type != TT_PR_NONE && !tt_pr_type_all_reg((unsigned)type) ? holder : NULL;
	return 0;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int tt_pr_store_save(const struct tt_pr *pr)
{
	char *text, *tmp;
	size_t tlen;
	int fd, rc;

	if (!pr->file)
		return -EINVAL;
	text = tt_pr_store_format(pr);
	tlen = strlen(pr->file) + 16;
	tmp = malloc(tlen);
	if (!text || !tmp) {
		free(text);
		free(tmp);
		return -ENOMEM;
	}
	snprintf(tmp, tlen, "%s.tmp", pr->file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, pr->file) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir_of(pr->file);
	else
		unlink(tmp);
out:
	free(text);
	free(tmp);
	return rc;
}

int tt_pr_store_load(struct tt_pr *pr)
{
	struct stat st;
	char *text;
	int fd, rc = 0;
	size_t n = 0;

	fd = open(pr->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_size > STORE_MAX_BYTES) {
		close(fd);
		return -EFBIG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, text + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	text[n] = '\0';
	if (rc == 0)
		rc = tt_pr_store_parse(pr, text);
	free(text);
	if (rc == 0 && !pr->aptpl) {
		/* written when APTPL went off: nothing survives */
		tt_pr_regs_clear(pr);
		pr->generation = 0;
	}
	return rc;
}
