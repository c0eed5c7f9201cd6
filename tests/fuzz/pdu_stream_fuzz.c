/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iSCSI byte stream of one TCP connection, through the real transport and target core:
 * the TCP receive parser (src/xport/tcp_rx.c: BHS, AHS, digests, data segments, padding), then
 * tt_iscsi_core (src/target: login with its text negotiation, full feature phase commands with
 * immediate, unsolicited and solicited data, text requests and SendTargets, NOP, task
 * management, logout, rejects) and the SCSI core behind it, for a model target with a RAM LUN.
 *
 * Each input gets a fresh model (applied from a configuration with tt_config_apply; its portal
 * is on 192.0.2.1, TEST-NET-1, which is not on the host: nothing listens) and a connection on a
 * socketpair, made as the TCP listener makes one and handed to the core. The bytes are written
 * into the socketpair PDU by PDU (or in pieces), with the loop run (tt_loop_run_once, one
 * thread) between them; whatever the target answers is read and discarded. Then the peer closes, the connection and
 * its session go, and the model is emptied: everything must be freed again.
 *
 * Input: one byte, then the stream from initiator to target. The byte: bits 0-6 the size of
 * the pieces written (n * 16 bytes; 0: whole PDUs), bit 7 pipelined (the pieces are cut from
 * the stream without regard to PDUs: what an initiator that does not wait would send).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/loop.h"
#include "fuzz_util.h"
#include "target/config.h"
#include "target/iscsi_target.h"
#include "target/model.h"
#include "xport/listener.h"
#include "xport/tcp.h"

#define TARGET "iqn.2026-11.org.tether:default"

static const char config_text[] =
	"{\"targets\": [{\"name\": \"" TARGET "\", \"alias\": \"fuzz\","
	" \"tpgs\": [{\"tag\": 1, \"portals\": [\"192.0.2.1:3260\"], \"auth\": \"none\","
	"   \"allow_any_initiator\": true,"
	"   \"params\": {\"MaxRecvDataSegmentLength\": 8192, \"MaxBurstLength\": 65536,"
	"     \"FirstBurstLength\": 16384, \"ImmediateData\": true, \"InitialR2T\": false,"
	"     \"MaxOutstandingR2T\": 2, \"HeaderDigest\": [\"None\", \"CRC32C\"],"
	"     \"DataDigest\": [\"None\", \"CRC32C\"]}}],"
	" \"luns\": [{\"id\": 0, \"backend\": \"ram:1M\"}, {\"id\": 1, \"backend\": \"null:1M\"}]}]}";

static struct tt_loop *loop0;
static struct tt_config *config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_error_t jerr;
	json_t *root;
	char err[512];

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	if (tt_loops_start(1) != 0 || tt_iscsi_target_init() != 0)
		abort();
	loop0 = tt_loops_get(0);
	tt_loop_run_once(loop0, 0);
	root = json_loads(config_text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || tt_config_parse(root, &config, err, sizeof(err)) != 0) {
		fprintf(stderr, "pdu_stream: bad built-in configuration: %s\n", root ? err : jerr.text);
		abort();
	}
	json_decref(root);
	return 0;
}

static struct tt_listener *portal_listener(void)
{
	struct tt_listener *l = NULL;
	struct tt_target *t;
	struct tt_tpg *g;

	tt_model_lock();
	if ((t = tt_target_find(TARGET)) && (g = tt_tpg_find(t, 1)) && !tt_list_empty(&g->portals))
		l = tt_list_entry(g->portals.next, struct tt_portal, node)->listener;
	tt_model_unlock();
	return l;
}

/* Reads and drops what the target sent. */
static void drain(int fd)
{
	char buf[16384];

	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (getenv("TT_FUZZ_LOG"))
			for (ssize_t i = 0; i < n; i++)
				fprintf(stderr, "%02x%s", (uint8_t)buf[i], i == n - 1 ? " <-\n" : "");
}

static void pump(int fd, int passes)
{
	for (int i = 0; i < passes; i++) {
		tt_loop_run_once(loop0, 0);
		drain(fd);
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_u8(&in);
	size_t piece = (size_t)(mode & 0x7f) * 16;
	bool pipelined = mode & 0x80;
	struct sockaddr_in *local;
	struct tt_listener *lst;
	struct tt_tcp_conn *tc;
	char err[512];
	int sv[2];
	uint64_t end;

	if (tt_config_apply(config, err, sizeof(err)) != 0 || !(lst = portal_listener())) {
		fprintf(stderr, "pdu_stream: cannot apply the configuration: %s\n", err);
		abort();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* the connection, as tcp_accepted() makes it */
	tc = tt_tcp_conn_alloc(sv[0], loop0);
	if (!tc)
		abort();
	tc->conn.ops = &tt_xport_tcp;
	tc->conn.core = &tt_iscsi_core;
	tc->conn.loop = loop0;
	tc->conn.listener = lst;
	tt_listener_get(lst);
	tc->conn.id = 1; /* the same for every input: Target Transfer Tags derive from it */
	snprintf(tc->conn.peer, sizeof(tc->conn.peer), "192.0.2.2:40000");
	snprintf(tc->conn.local, sizeof(tc->conn.local), "192.0.2.1:3260");
	local = (struct sockaddr_in *)&tc->conn.local_addr;
	local->sin_family = AF_INET;
	local->sin_port = htons(3260);
	local->sin_addr.s_addr = htonl(0xc0000201);
	if (tt_iscsi_core.accepted(&tc->conn) < 0)
		abort();

	/*
	 * The stream, one PDU at a time as an initiator that waits for its answers sends them (the
	 * length of each from its BHS and the digests in force), each in pieces of @piece bytes,
	 * with the loop run in between; or, with the top bit, in pieces regardless of PDUs.
	 */
	while (in.n && tt_iscsi_conn_count() != 0) {
		size_t n = in.n;

		if (!pipelined && in.n >= TT_BHS_LEN) {
			uint32_t dlen = tt_get_be24(in.p + 5);

			n = TT_BHS_LEN + (size_t)in.p[4] * 4 + (tc->hdig ? 4 : 0);
			if (dlen)
				n += ((dlen + 3) & ~3u) + (tc->ddig ? 4 : 0);
			if (n > in.n)
				n = in.n;
		}
		while (n && tt_iscsi_conn_count() != 0) {
			size_t k = piece && piece < n ? piece : n;
			ssize_t w = send(sv[1], in.p, k, MSG_NOSIGNAL); /* the target may have closed */

			if (w < 0) {
				if (errno != EAGAIN)
					goto closed; /* the target closed the connection */
				w = 0;
			}
			in.p += w;
			in.n -= (size_t)w;
			n -= (size_t)w;
			pump(sv[1], w ? 2 : 8);
		}
		pump(sv[1], 4);
	}
closed:
	pump(sv[1], 16);

	/* the initiator goes: the connection, its session and its tasks must all go */
	close(sv[1]);
	tt_model_clear();
	end = tt_now_ns() + 5 * TT_NS_PER_SEC;
	while (tt_iscsi_conn_count() != 0) {
		if (tt_now_ns() > end)
			__builtin_trap(); /* a connection never went away */
		tt_loop_run_once(loop0, 1);
	}
	for (int i = 0; i < 8; i++)
		tt_loop_run_once(loop0, 0);
	return 0;
}
