/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake iSCSI transport for unit tests of the target core (src/target): no sockets on the data
 * path. A test makes connections that look accepted on the fixture's portal, hands the core whole
 * PDUs the way a transport does (core->rx_header, then core->rx_pdu), and reads what the core
 * queued from a list. Time is the fake clock (base/clock.h) and loop 0 is stepped by fx_pump().
 *
 * The fake keeps the transport contract (src/xport/xport.h) as TCP does:
 *   - queue_pdu takes every PDU: it waits in fc->txq until the test takes it (fx_pop) and frees
 *     it (fx_free), which is when the transport is "finished with it" (sent hooks run, task
 *     references drop);
 *   - queue_data_in / get_data_out cut Data-In and R2Ts the way TCP does (MaxRecvDataSegmentLength
 *     of the initiator, MaxBurstLength sequences, MaxOutstandingR2T), through the core's builders;
 *   - shutdown drops what is still queued and calls core->closed() from deferred work;
 *   - release drops the listener reference and marks the connection released. Its memory stays
 *     until the fixture's teardown, so that a test can still look at it.
 *
 * Each test runs with a fresh fixture (fx_setup/fx_teardown): target FX_TARGET with TPG tag
 * FX_TPGT on a portal at 127.0.0.1 (a real listener that nobody connects to) and LUN 0 on
 * "ram:1M". The teardown frees the PDUs a failed test still held, closes what is left and checks
 * that every connection was released.
 */
#ifndef TT_TESTS_FAKE_XPORT_H
#define TT_TESTS_FAKE_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"
#include "base/loop.h"
#include "iscsi/pdu.h"
#include "target/internal.h"
#include "xport/xport.h"

#define FX_TARGET "iqn.2026-11.org.tether:fake"
#define FX_INI "iqn.1994-05.com.example:host1"
#define FX_TPGT 5

/* Login keys of the fixture's initiator unless a test gives its own (see fx_login_text). */
#define FX_KEYS                                                                              \
	"HeaderDigest=None\nDataDigest=None\nMaxRecvDataSegmentLength=4096\nMaxConnections=1\n"  \
	"InitialR2T=Yes\nImmediateData=No\nMaxBurstLength=8192\nFirstBurstLength=4096\n"       \
	"DefaultTime2Wait=2\nDefaultTime2Retain=20\nMaxOutstandingR2T=2\nDataPDUInOrder=Yes\n"  \
	"DataSequenceInOrder=Yes\nErrorRecoveryLevel=0"

struct fx_conn {
	struct tt_xconn xc;           /* first: the transport's connection */
	struct tt_list node;          /* in the fixture's list */
	struct tt_list txq;           /* PDUs the core queued, oldest first */
	unsigned ntx;                 /* in txq */
	unsigned queued;              /* PDUs ever queued */
	unsigned dropped;             /* freed by the shutdown without the test seeing them */
	bool started;                 /* conn_start */
	bool down;                    /* shut down (by the core or the peer) */
	bool closed;                  /* core->closed() called */
	bool released;                /* ops->release called */
	bool refuse;                  /* queue_pdu refuses (-ENOTCONN), as iSER does while its
	                               * RDMA connection drains before the core knows */
	int err;                      /* what core->closed() was told */
	uint64_t down_seq, release_seq, last_queue_seq; /* fx_seq when they happened */
	struct tt_work closed_work;
	struct tt_xport_params params; /* from apply_params */
	bool params_applied;
	unsigned timeout_ms;          /* from set_timeout */
	bool iser_policy;             /* login_policy is iSER's (RDMAExtensions=Yes, no digests) */
	/* the initiator's side */
	uint32_t cmd_sn;              /* next CmdSN to use */
	uint32_t exp_stat_sn;
};

struct fx_env {
	struct tt_target *target;
	struct tt_tpg *tpg;
	struct tt_portal *portal;
	uint16_t port;
};
extern struct fx_env fx;
extern const struct tt_xport_ops fx_ops;
/* A counter of events (shutdown, release, queue) across connections, for ordering checks. */
extern uint64_t fx_seq;

/* The program: fake clock, loop 0, the target core. fx_fini undoes it. */
int fx_init(void);
void fx_fini(void);
/* cmocka setup/teardown of each test. */
int fx_setup(void **state);
int fx_teardown(void **state);

struct tt_loop *fx_loop(void);
/* Runs loop 0 (without blocking) until nothing more is ready. */
void fx_pump(void);
/* Moves the fake clock by @ms, then pumps. */
void fx_advance_ms(uint64_t ms);
/* A 127.0.0.1 TCP port nobody uses now. */
uint16_t fx_free_port(void);

/* A connection accepted on @l (fx.portal->listener by fx_connect), already handed to the core. */
struct fx_conn *fx_connect_on(struct tt_listener *l);
struct fx_conn *fx_connect(void);
/* The peer goes away (a reset): the transport goes down and tells the core. */
void fx_peer_close(struct fx_conn *fc, int err);

/*
 * One PDU from the initiator: @bhs (48 bytes; the data segment length is set from @len) and its
 * data. Delivered as a transport does it, then the loop is pumped. Returns what rx_header
 * returned (a negative value: the transport dropped the connection, as TCP does).
 */
int fx_rx(struct fx_conn *fc, const void *bhs, const void *data, uint32_t len);
/* Same, with a data digest error. */
int fx_rx_bad_digest(struct fx_conn *fc, const void *bhs, const void *data, uint32_t len);

/* The oldest PDU the core queued (the caller frees it with fx_free), or NULL. */
struct tt_pdu *fx_pop(struct fx_conn *fc);
/* The oldest queued PDU, which must have opcode @op (asserted). */
struct tt_pdu *fx_pop_op(struct fx_conn *fc, uint8_t op);
/* The transport is finished with the PDU: frees it (sent hooks run), then pumps. */
void fx_free(struct tt_pdu *pdu);
/* Frees everything queued. */
void fx_drain(struct fx_conn *fc);

/* ---- PDUs of the initiator ---- */

/* "K=V\0..." from "K=V\nK=V" lines, after InitiatorName (if @ini) and TargetName (if @tgt) and
 * SessionType=Normal. Returns the length. */
size_t fx_login_text(char *buf, size_t cap, const char *ini, const char *tgt, const char *keys);
/* A login request: CSG @csg, NSG @nsg (transit when @transit), @isid (6 bytes), @tsih, CID 0. */
void fx_login_bhs(uint8_t bhs[48], uint8_t csg, uint8_t nsg, bool transit, const uint8_t *isid,
		  uint16_t tsih, uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn);
/* One-PDU login (operational stage to full feature phase); returns the response, popped. */
struct tt_pdu *fx_login_isid(struct fx_conn *fc, const char *ini, const char *tgt,
			     const char *keys, const uint8_t *isid, uint16_t tsih);
struct tt_pdu *fx_login(struct fx_conn *fc, const char *ini, const char *tgt, const char *keys);
/* Login status of a response (class << 8 | detail). */
uint16_t fx_login_status(const struct tt_pdu *rsp);
/* The value of @key in a response's text, or NULL. */
const char *fx_key(const struct tt_pdu *rsp, const char *key, char *buf, size_t len);
/* A connection logged in to FX_TARGET as FX_INI (asserted), with the power-on unit attention of
 * LUN 0 already taken by a TEST UNIT READY: ready for commands. @keys NULL: FX_KEYS. */
struct fx_conn *fx_logged_in(const char *keys);
struct fx_conn *fx_logged_in_isid(const char *keys, const uint8_t *isid);

/* A SCSI command to LUN 0: @flags TT_CMD_READ/TT_CMD_WRITE (F is set), CDB of up to 16 bytes. */
int fx_cmd(struct fx_conn *fc, uint32_t itt, uint32_t cmd_sn, uint8_t flags, uint32_t edtl,
	   const uint8_t *cdb, size_t cdb_len, const void *data, uint32_t len);
int fx_data_out(struct fx_conn *fc, uint32_t itt, uint32_t ttt, uint32_t data_sn,
		uint32_t offset, bool final, const void *data, uint32_t len);
int fx_nop_out(struct fx_conn *fc, uint32_t itt, uint32_t ttt, uint32_t cmd_sn, bool immediate,
	       const void *data, uint32_t len);
int fx_tmf(struct fx_conn *fc, uint32_t itt, uint8_t fn, uint64_t lun, uint32_t rtt,
	   uint32_t cmd_sn, uint32_t ref_cmd_sn);
int fx_logout(struct fx_conn *fc, uint32_t itt, uint8_t reason, uint16_t cid, uint32_t cmd_sn);

/* CDBs */
size_t fx_cdb_tur(uint8_t *cdb);
size_t fx_cdb_inquiry(uint8_t *cdb, uint16_t alloc);
size_t fx_cdb_rw10(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks);

/* A TEST UNIT READY on LUN 0 with the next CmdSN; returns the SCSI Response (popped). */
struct tt_pdu *fx_tur(struct fx_conn *fc, uint32_t itt);

/* ---- reading target PDUs ---- */
uint32_t fx_be32(const struct tt_pdu *pdu, unsigned off); /* the BHS field at byte @off */
uint32_t fx_itt(const struct tt_pdu *pdu);
uint32_t fx_stat_sn(const struct tt_pdu *pdu);            /* bytes 24..27 */
uint32_t fx_exp_cmd_sn(const struct tt_pdu *pdu);         /* bytes 28..31 */
uint32_t fx_max_cmd_sn(const struct tt_pdu *pdu);         /* bytes 32..35 */
/* Sense key, ASC and ASCQ of a SCSI Response carrying sense data (fixed or descriptor). */
void fx_sense(const struct tt_pdu *rsp, uint8_t *key, uint8_t *asc, uint8_t *ascq);
/* Asserts a SCSI Response for @itt with CHECK CONDITION and the given sense. */
void fx_assert_check(const struct tt_pdu *rsp, uint32_t itt, uint8_t key, uint8_t asc,
		     uint8_t ascq);

#endif
