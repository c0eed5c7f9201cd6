/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One initiator TCP connection: non-blocking connect, the leading login (security stage with
 * CHAP or none, operational negotiation), PDU framing with optional CRC32C digests, and an
 * abortive close. The owner (a path, a reinstatement login, discovery) sees the full feature
 * phase PDUs through its ops.
 */
#include "initiator/initiator.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "iscsi/digest.h"

#define RX_EXTRA (TT_BHS_LEN + 255 * 4 + 2 * TT_DIGEST_LEN + 4)
#define LOGIN_DSL 8192

static void conn_watch_fn(struct tt_watch *w, uint32_t events);
static int login_send(struct ti_conn *c, bool transit, int nsg);

void ti_conn_fill_isid(uint8_t isid[6])
{
	/* RFC 7143 §11.12.5: type 10b (random), A (6 bits), B, C random; D left 0 */
	if (getrandom(isid, 6, 0) != 6) {
		uint64_t t = tt_now_ns() ^ (uint64_t)getpid() << 32;

		memcpy(isid, &t, 6);
	}
	isid[0] = (uint8_t)(0x80 | (isid[0] & 0x3f));
	isid[4] = 0;
	isid[5] = 0;
}

static void fail_work_fn(struct tt_work *w)
{
	struct ti_conn *c = tt_container_of(w, struct ti_conn, fail_work);

	if (c->step != TI_CONN_FAILED)
		return;
	if (c->was_up)
		c->ops->down(c, c->fail_rc);
	else
		c->ops->up(c, c->fail_rc);
}

void ti_conn_fail(struct ti_conn *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->step == TI_CONN_FAILED || c->step == TI_CONN_IDLE)
		return;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	c->fail_rc = rc < 0 ? rc : -EIO;
	c->step = TI_CONN_FAILED;
	tt_watch_del(&c->watch);
	tt_timer_cancel(&c->login_timer);
	tt_work_queue(&c->fail_work);
}

static void login_timeout_fn(struct tt_timer *t)
{
	struct ti_conn *c = tt_container_of(t, struct ti_conn, login_timer);

	if (c->step == TI_CONN_TCP && c->opts->connect_timeout_ms > 0 &&
	    c->opts->connect_timeout_ms < c->opts->login_timeout_ms)
		ti_conn_fail(c, -ETIMEDOUT, "TCP connect to %s:%u not complete within "
			     "connect_timeout_ms=%lld", c->host, c->port,
			     (long long)c->opts->connect_timeout_ms);
	else
		ti_conn_fail(c, -ETIMEDOUT, "%s to %s:%u not complete within login_timeout_ms=%lld",
			     c->step == TI_CONN_TCP ? "TCP connect" : "login", c->host, c->port,
			     (long long)c->opts->login_timeout_ms);
}

static void tx_free(struct ti_tx *t)
{
	if (t->iov != t->iov_small)
		free(t->iov);
	free(t->owned);
	free(t);
}

void ti_conn_close(struct ti_conn *c)
{
	struct tt_list *n;

	if (c->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		tt_watch_del(&c->watch);
		/* abortive: no FIN handshake, no waiting for anything */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
		c->fd = -1;
	}
	if (c->loop) {
		tt_timer_cancel(&c->login_timer);
		tt_work_cancel(&c->fail_work);
	}
	while ((n = tt_list_pop(&c->txq)))
		tx_free(tt_list_entry(n, struct ti_tx, node));
	free(c->rxbuf);
	c->rxbuf = NULL;
	c->rxlen = 0;
	tt_text_fini(&c->rx_text);
	tt_text_out_fini(&c->tx_text);
	tt_chap_fini(&c->chap);
	c->step = TI_CONN_IDLE;
}

static int resolve_connect(struct ti_conn *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int rc, fd = -1;

	snprintf(port, sizeof(port), "%u", c->port);
	hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc == EAI_NONAME) {
		/* a host name: resolved here (blocking) */
		hints.ai_flags &= ~AI_NUMERICHOST;
		rc = getaddrinfo(c->host, port, &hints, &res);
	}
	if (rc) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s", c->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	rc = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		unsigned tmo = (unsigned)c->opts->tcp_user_timeout_ms;

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (c->opts->tcp_user_timeout_ms > 0)
			setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			rc = 0;
			break;
		}
		rc = -errno;
		snprintf(c->errmsg, sizeof(c->errmsg), "connect to %s:%u: %s", c->host, c->port,
			 strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (rc)
		return rc;
	c->fd = fd;
	return 0;
}

int ti_conn_start(struct ti_conn *c, struct tt_loop *loop, const struct tether_opts *opts,
		  const struct ti_conn_ops *ops, void *owner, const char *host, uint16_t port,
		  const char *target, const uint8_t isid[6], const char *user, const char *secret)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ops = ops;
	c->owner = owner;
	c->loop = loop;
	c->opts = opts;
	tt_list_init(&c->txq);
	c->watch.fd = -1;
	tt_timer_init(&c->login_timer, loop, login_timeout_fn);
	tt_work_init(&c->fail_work, loop, fail_work_fn);
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	snprintf(c->target, sizeof(c->target), "%s", target ? target : "");
	c->discovery = !target || !target[0];
	memcpy(c->isid, isid, 6);
	tt_text_init(&c->rx_text, 0);
	tt_text_out_init(&c->tx_text, 0);
	tt_params_init(&c->params);
	c->rxcap = TI_MAX_RECV_DSL + RX_EXTRA;
	c->rxbuf = malloc(c->rxcap);
	if (!c->rxbuf)
		return -ENOMEM;
	c->cmdsn = 1;
	c->next_itt = 1;

	tt_params_policy_defaults(&c->pol);
	c->pol.header_digests = opts->header_digest ? "CRC32C" : "None";
	c->pol.data_digests = opts->data_digest ? "CRC32C" : "None";
	c->pol.max_recv_dsl = TI_MAX_RECV_DSL;
	c->pol.max_burst = 1048576;
	c->pol.first_burst = 65536;
	c->pol.initial_r2t = false;
	c->pol.immediate_data = true;
	c->pol.initiator_name = opts->initiator_name;
	c->pol.target_name = c->discovery ? NULL : c->target;
	c->pol.session_type = c->discovery ? TT_SESSION_DISCOVERY : TT_SESSION_NORMAL;

	if (user && user[0]) {
		struct tt_chap_cred local = { .name = user, .secret = (const uint8_t *)secret,
					      .secret_len = secret ? strlen(secret) : 0 };
		struct tt_chap_cred peer = { .name = opts->mutual_user,
					     .secret = (const uint8_t *)opts->mutual_secret,
					     .secret_len = strlen(opts->mutual_secret) };

		rc = tt_chap_initiator_init(&c->chap, &local, opts->mutual_user[0] ? &peer : NULL,
					    0);
		if (rc) {
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "CHAP credentials refused (%s): secrets need %d to %d bytes and "
				 "must differ between the two directions",
				 strerror(-rc), TT_CHAP_SECRET_MIN, TT_CHAP_SECRET_MAX);
			return rc;
		}
		c->use_chap = true;
		c->pol.auth_methods = "CHAP";
	} else {
		c->pol.auth_methods = "None";
	}
	tt_negotiation_init(&c->neg, TT_ROLE_INITIATOR, true);

	rc = resolve_connect(c);
	if (rc)
		return rc;
	c->step = TI_CONN_TCP;
	rc = tt_watch_add(loop, &c->watch, c->fd, EPOLLOUT, conn_watch_fn);
	if (rc) {
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	c->start_ns = tt_now_ns();
	if (opts->login_timeout_ms > 0) {
		uint64_t ms = (uint64_t)opts->login_timeout_ms;

		if (opts->connect_timeout_ms > 0 && (uint64_t)opts->connect_timeout_ms < ms)
			ms = (uint64_t)opts->connect_timeout_ms;
		tt_timer_arm_ms(&c->login_timer, ms);
	}
	return 0;
}

/* ---- transmit ------------------------------------------------------------------------------ */

static bool carries_expstatsn(uint8_t op)
{
	switch (op & TT_OP_MASK) {
	case TT_OP_NOP_OUT: case TT_OP_SCSI_CMD: case TT_OP_TMF_REQ: case TT_OP_LOGIN_REQ:
	case TT_OP_TEXT_REQ: case TT_OP_DATA_OUT: case TT_OP_LOGOUT_REQ: case TT_OP_SNACK:
		return true;
	}
	return false;
}

int ti_conn_send(struct ti_conn *c, const uint8_t bhs[TT_BHS_LEN], const struct iovec *iov,
		 int iovcnt, uint32_t dlen, uint8_t *owned)
{
	struct ti_tx *t;
	bool ffp = c->step == TI_CONN_FFP;
	uint32_t pad = tt_pad4(dlen);

	if (c->fd < 0 || c->step == TI_CONN_FAILED) {
		free(owned);
		return -ENOTCONN;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		free(owned);
		return -ENOMEM;
	}
	memcpy(t->hdr, bhs, TT_BHS_LEN);
	tt_put_be24(t->hdr + 5, dlen);
	if (carries_expstatsn(bhs[0]))
		tt_put_be32(t->hdr + 28, c->expstatsn);
	t->hdr_len = TT_BHS_LEN;
	if (ffp && c->params.header_digest) {
		tt_crc32c_put(t->hdr + TT_BHS_LEN, tt_crc32c(t->hdr, TT_BHS_LEN));
		t->hdr_len += TT_DIGEST_LEN;
	}
	t->owned = owned;
	if (dlen) {
		if (iovcnt <= 4) {
			t->iov = t->iov_small;
		} else {
			t->iov = calloc((size_t)iovcnt, sizeof(*t->iov));
			if (!t->iov) {
				free(owned);
				free(t);
				return -ENOMEM;
			}
		}
		memcpy(t->iov, iov, (size_t)iovcnt * sizeof(*iov));
		t->iovcnt = iovcnt;
		memset(t->tail, 0, pad);
		t->tail_len = pad;
		if (ffp && c->params.data_digest) {
			tt_crc32c_put(t->tail + pad, tt_crc32c_data(iov, iovcnt, dlen));
			t->tail_len += TT_DIGEST_LEN;
		}
	}
	t->total = t->hdr_len + dlen + t->tail_len;
	tt_list_add_tail(&c->txq, &t->node);
	return 0;
}

/* Appends the unsent part of @t to @v (at most @max entries); returns the count added. */
static int tx_iov(const struct ti_tx *t, struct iovec *v, int max)
{
	size_t skip = t->done;
	int n = 0;

#define ADD(base, len)                                                          \
	do {                                                                    \
		size_t l_ = (len);                                              \
		if (skip >= l_) {                                               \
			skip -= l_;                                             \
		} else if (n < max) {                                           \
			v[n].iov_base = (uint8_t *)(base) + skip;               \
			v[n].iov_len = l_ - skip;                               \
			n++;                                                    \
			skip = 0;                                               \
		}                                                               \
	} while (0)
	ADD(t->hdr, t->hdr_len);
	for (int i = 0; i < t->iovcnt; i++)
		ADD(t->iov[i].iov_base, t->iov[i].iov_len);
	ADD(t->tail, t->tail_len);
#undef ADD
	return n;
}

void ti_conn_flush(struct ti_conn *c)
{
	struct iovec v[64];

	while (c->fd >= 0 && c->step != TI_CONN_FAILED && !tt_list_empty(&c->txq)) {
		struct tt_list *pos;
		int n = 0;
		ssize_t w;

		tt_list_for_each(pos, &c->txq) {
			struct ti_tx *t = tt_list_entry(pos, struct ti_tx, node);

			if (n + t->iovcnt + 2 > 64 && n > 0)
				break;
			n += tx_iov(t, v + n, 64 - n);
		}
		w = writev(c->fd, v, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			ti_conn_fail(c, -errno, "send to %s:%u: %s", c->host, c->port,
				     strerror(errno));
			return;
		}
		while (w > 0) {
			struct ti_tx *t = tt_list_first(&c->txq, struct ti_tx, node);
			size_t left = t->total - t->done;

			if ((size_t)w >= left) {
				w -= (ssize_t)left;
				tt_list_del(&t->node);
				tx_free(t);
			} else {
				t->done += (size_t)w;
				w = 0;
			}
		}
	}
	if (c->fd >= 0 && c->step != TI_CONN_FAILED && c->step != TI_CONN_TCP)
		tt_watch_mod(&c->watch, tt_list_empty(&c->txq) ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

void ti_conn_update_window(struct ti_conn *c, const uint8_t *expcmdsn, const uint8_t *maxcmdsn)
{
	uint32_t exp = tt_get_be32(expcmdsn), max = tt_get_be32(maxcmdsn);

	/* RFC 7143 §4.2.2.1: ignore a MaxCmdSN below ExpCmdSN - 1 */
	if (tt_sn_lt(max, exp - 1))
		return;
	if (tt_sn_gt(exp, c->expcmdsn))
		c->expcmdsn = exp;
	if (tt_sn_gt(max, c->maxcmdsn))
		c->maxcmdsn = max;
}

bool ti_conn_window_open(const struct ti_conn *c)
{
	return tt_sn_le(c->cmdsn, c->maxcmdsn);
}

/* ---- login ---------------------------------------------------------------------------------- */

static int login_send(struct ti_conn *c, bool transit, int nsg)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_login_req *r = (struct tt_bhs_login_req *)bhs;
	struct iovec iov;
	uint8_t *data = NULL;
	size_t len = c->tx_text.len;

	if (len > LOGIN_DSL)
		return -EMSGSIZE;
	r->opcode = TT_OP_LOGIN_REQ | TT_OP_IMMEDIATE;
	r->flags = (uint8_t)((transit ? TT_LOGIN_TRANSIT : 0) | (c->login_stage & 3) << 2 |
			     (transit ? nsg & 3 : 0));
	memcpy(r->isid, c->isid, 6);
	c->login_itt = c->next_itt++;
	tt_put_be32(r->itt, c->login_itt);
	tt_put_be32(r->cmdsn, c->cmdsn);
	c->login_transit = transit;
	if (len) {
		data = malloc(len);
		if (!data)
			return -ENOMEM;
		memcpy(data, c->tx_text.buf, len);
		iov.iov_base = data;
		iov.iov_len = len;
	}
	tt_text_out_reset(&c->tx_text);
	return ti_conn_send(c, bhs, len ? &iov : NULL, len ? 1 : 0, (uint32_t)len, data);
}

static const char *login_status_text(unsigned st)
{
	switch (st) {
	case TT_LOGIN_REDIRECT_TEMP: return "target moved temporarily (redirection)";
	case 0x0102: return "target moved permanently (redirection)";
	case TT_LOGIN_INIT_ERR: return "initiator error";
	case TT_LOGIN_AUTH_FAILED: return "authentication failed";
	case TT_LOGIN_FORBIDDEN: return "authorization failure (no access to this target)";
	case TT_LOGIN_NOT_FOUND: return "target not found";
	case TT_LOGIN_REMOVED: return "target removed";
	case TT_LOGIN_UNSUPPORTED_VER: return "unsupported version";
	case TT_LOGIN_TOO_MANY_CONN: return "too many connections";
	case TT_LOGIN_MISSING_PARAM: return "missing parameter";
	case TT_LOGIN_NO_SESSION: return "session does not exist";
	case TT_LOGIN_INVALID_REQUEST: return "invalid request during login";
	case TT_LOGIN_TARGET_ERROR: return "target error";
	case TT_LOGIN_SERVICE_UNAVAIL: return "service unavailable";
	case TT_LOGIN_NO_RESOURCES: return "out of resources";
	}
	return "login refused";
}

static int login_start_operational(struct ti_conn *c)
{
	int rc;

	c->login_stage = TT_STAGE_OPERATIONAL;
	rc = tt_params_offer(&c->neg, &c->params, &c->pol, TT_STAGE_OPERATIONAL, &c->tx_text);
	if (rc)
		return rc;
	return login_send(c, true, TT_STAGE_FULL_FEATURE);
}

static void login_done(struct ti_conn *c, const struct tt_bhs_login_rsp *r)
{
	int rc = tt_params_finish(&c->neg, &c->params);

	if (rc) {
		ti_conn_fail(c, -EPROTO, "login to %s:%u: negotiation incomplete (%s)", c->host,
			     c->port, c->neg.error_key ? c->neg.error_key : "?");
		return;
	}
	c->tsih = tt_get_be16(r->tsih);
	c->expcmdsn = tt_get_be32(r->expcmdsn);
	c->maxcmdsn = tt_get_be32(r->maxcmdsn);
	c->step = TI_CONN_FFP;
	tt_timer_cancel(&c->login_timer);
	tt_text_fini(&c->rx_text);
	tt_text_out_fini(&c->tx_text);
	tt_chap_fini(&c->chap);
	c->was_up = true;
	c->ops->up(c, 0);
}

static int login_rx(struct ti_conn *c, const struct ti_pdu_in *in)
{
	const struct tt_bhs_login_rsp *r = (const void *)in->raw;
	unsigned status = (unsigned)r->status_class << 8 | r->status_detail;
	bool transit = r->flags & TT_LOGIN_TRANSIT, cont = r->flags & TT_LOGIN_CONT;
	int nsg = TT_LOGIN_NSG(r->flags);
	int rc;

	if ((r->opcode & TT_OP_MASK) != TT_OP_LOGIN_RSP) {
		ti_conn_fail(c, -EPROTO, "login to %s:%u: unexpected %s during login", c->host,
			     c->port, tt_opcode_name(r->opcode & TT_OP_MASK));
		return -EPROTO;
	}
	if (tt_get_be32(r->itt) != c->login_itt) {
		ti_conn_fail(c, -EPROTO, "login to %s:%u: response with a wrong ITT", c->host,
			     c->port);
		return -EPROTO;
	}
	c->expstatsn = tt_get_be32(r->statsn) + 1;
	if (status != 0) {
		if (status == TT_LOGIN_AUTH_FAILED)
			c->auth_failed = true;
		ti_conn_fail(c, status == TT_LOGIN_AUTH_FAILED ? -EACCES :
				status == TT_LOGIN_NOT_FOUND ? -ENOENT :
				(status >> 8) == 3 ? -EAGAIN : -EPERM,
			     "login to %s:%u refused: status 0x%04x (%s)", c->host, c->port, status,
			     login_status_text(status));
		return -EPERM;
	}
	rc = tt_text_append(&c->rx_text, in->data, in->dlen, !cont);
	if (rc) {
		ti_conn_fail(c, -EPROTO, "login to %s:%u: malformed text in the response (%s)",
			     c->host, c->port, strerror(-rc));
		return rc;
	}
	if (cont) {
		/* more text follows: ask for it with an empty request */
		return login_send(c, false, 0);
	}
	rc = tt_params_accept(&c->neg, &c->params, &c->pol, (enum tt_login_stage)c->login_stage,
			      &c->rx_text, &c->tx_text);
	if (rc) {
		if (rc == -EACCES)
			c->auth_failed = true;
		ti_conn_fail(c, rc == -EACCES ? -EACCES : -EPROTO,
			     "login to %s:%u: %s (key %s)", c->host, c->port,
			     rc == -EACCES ? "the target accepts no authentication method we offer"
					   : "bad answer from the target",
			     c->neg.error_key ? c->neg.error_key : "?");
		return rc;
	}
	if (c->login_stage == TT_STAGE_SECURITY) {
		if (c->use_chap) {
			if (!c->chap_started) {
				const char *am = tt_text_find(&c->rx_text, "AuthMethod");

				if (!am || strcmp(am, "CHAP")) {
					c->auth_failed = true;
					ti_conn_fail(c, -EACCES, "login to %s:%u: the target did "
						     "not agree to CHAP", c->host, c->port);
					return -EACCES;
				}
				c->chap_started = true;
				tt_text_reset(&c->rx_text);
				rc = tt_chap_initiator_start(&c->chap, &c->tx_text);
				return rc ? rc : login_send(c, false, 0);
			}
			if (!tt_chap_done(&c->chap)) {
				rc = tt_chap_initiator_step(&c->chap, &c->rx_text, &c->tx_text);
				tt_text_reset(&c->rx_text);
				if (rc) {
					c->auth_failed = true;
					ti_conn_fail(c, -EACCES, "login to %s:%u: %s", c->host,
						     c->port, rc == -EACCES ?
						     "mutual CHAP: the target's answer is wrong "
						     "(mutual_user/mutual_secret)" :
						     "malformed CHAP exchange");
					return rc;
				}
				if (c->tx_text.len)
					return login_send(c, true, TT_STAGE_OPERATIONAL);
			}
			if (!tt_chap_done(&c->chap))
				return login_send(c, true, TT_STAGE_OPERATIONAL);
		}
		tt_text_reset(&c->rx_text);
		if (transit && nsg == TT_STAGE_OPERATIONAL)
			return login_start_operational(c);
		if (transit && nsg == TT_STAGE_FULL_FEATURE) {
			login_done(c, r);
			return 0;
		}
		return login_send(c, true, TT_STAGE_OPERATIONAL);
	}
	/* operational */
	tt_text_reset(&c->rx_text);
	if (transit && nsg == TT_STAGE_FULL_FEATURE && c->tx_text.len == 0 &&
	    tt_params_offers_answered(&c->neg)) {
		login_done(c, r);
		return 0;
	}
	return login_send(c, true, TT_STAGE_FULL_FEATURE);
}

static int login_begin(struct ti_conn *c)
{
	int rc;

	c->step = TI_CONN_LOGIN;
	c->reached = true;
	/* the connect bound is over: the rest of login_timeout_ms for the login */
	if (c->opts->login_timeout_ms > 0) {
		uint64_t spent = (tt_now_ns() - c->start_ns) / TT_NS_PER_MS;
		uint64_t all = (uint64_t)c->opts->login_timeout_ms;

		tt_timer_arm_ms(&c->login_timer, spent < all ? all - spent : 1);
	}
	c->login_stage = TT_STAGE_SECURITY;
	rc = tt_params_offer(&c->neg, &c->params, &c->pol, TT_STAGE_SECURITY, &c->tx_text);
	if (rc)
		return rc;
	/* with CHAP the exchange must happen before we may move on */
	return login_send(c, !c->use_chap, TT_STAGE_OPERATIONAL);
}

/* ---- receive -------------------------------------------------------------------------------- */

static int rx_one(struct ti_conn *c, struct ti_pdu_in *in)
{
	if (c->step == TI_CONN_LOGIN)
		return login_rx(c, in);
	if (c->step == TI_CONN_FFP)
		return c->ops->pdu(c, in);
	return 0;
}

/* Parses the whole PDUs in rxbuf. */
static void rx_parse(struct ti_conn *c)
{
	size_t off = 0;

	while (c->step == TI_CONN_LOGIN || c->step == TI_CONN_FFP) {
		const uint8_t *p = c->rxbuf + off;
		size_t have = c->rxlen - off, need;
		bool ffp = c->step == TI_CONN_FFP;
		uint32_t ahs, hd, dlen, pad, dd;
		struct ti_pdu_in in;
		int rc;

		if (have < TT_BHS_LEN)
			break;
		ahs = (uint32_t)p[4] * 4;
		hd = ffp && c->params.header_digest ? TT_DIGEST_LEN : 0;
		dlen = tt_get_be24(p + 5);
		pad = tt_pad4(dlen);
		dd = ffp && c->params.data_digest && dlen ? TT_DIGEST_LEN : 0;
		if (dlen > TI_MAX_RECV_DSL) {
			ti_conn_fail(c, -EPROTO, "%s:%u sent a %u-byte data segment (we accept %u)",
				     c->host, c->port, dlen, TI_MAX_RECV_DSL);
			return;
		}
		need = TT_BHS_LEN + ahs + hd + dlen + pad + dd;
		if (have < need)
			break;
		if (hd && tt_crc32c(p, TT_BHS_LEN + ahs) !=
			      tt_crc32c_get(p + TT_BHS_LEN + ahs)) {
			ti_conn_fail(c, -EBADMSG, "%s:%u: header digest error", c->host, c->port);
			return;
		}
		if (dd) {
			const uint8_t *d = p + TT_BHS_LEN + ahs + hd;

			if (tt_crc32c(d, dlen + pad) != tt_crc32c_get(d + dlen + pad)) {
				ti_conn_fail(c, -EBADMSG, "%s:%u: data digest error", c->host,
					     c->port);
				return;
			}
		}
		memcpy(in.raw, p, TT_BHS_LEN);
		in.data = p + TT_BHS_LEN + ahs + hd;
		in.dlen = dlen;
		off += need;
		rc = rx_one(c, &in);
		if (c->fd < 0)
			return;   /* the owner closed the connection: rxbuf is gone */
		if (rc < 0) {
			if (c->step != TI_CONN_FAILED)
				ti_conn_fail(c, -EPROTO, "%s:%u: protocol error in a %s", c->host,
					     c->port, tt_opcode_name(in.raw[0] & TT_OP_MASK));
			return;
		}
	}
	if (off && c->rxbuf) {
		memmove(c->rxbuf, c->rxbuf + off, c->rxlen - off);
		c->rxlen -= off;
	}
}

static void rx_ready(struct ti_conn *c)
{
	for (int i = 0; i < 16 && c->fd >= 0 && c->step != TI_CONN_FAILED; i++) {
		ssize_t n = recv(c->fd, c->rxbuf + c->rxlen, c->rxcap - c->rxlen, 0);

		if (n == 0) {
			ti_conn_fail(c, -ECONNRESET, "%s:%u closed the connection", c->host,
				     c->port);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			ti_conn_fail(c, -errno, "receive from %s:%u: %s", c->host, c->port,
				     strerror(errno));
			return;
		}
		c->last_rx_ns = tt_now_ns();
		c->rxlen += (size_t)n;
		rx_parse(c);
	}
}

static void conn_watch_fn(struct tt_watch *w, uint32_t events)
{
	struct ti_conn *c = tt_container_of(w, struct ti_conn, watch);

	/* an event of a batch whose earlier callback closed this connection */
	if (c->fd < 0 || w->fd < 0)
		return;
	if (c->step == TI_CONN_TCP) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			ti_conn_fail(c, -err, "connect to %s:%u: %s", c->host, c->port,
				     strerror(err));
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		c->last_rx_ns = tt_now_ns();
		tt_watch_mod(&c->watch, EPOLLIN);
		if (login_begin(c)) {
			ti_conn_fail(c, -EINVAL, "login to %s:%u: cannot build the request",
				     c->host, c->port);
			return;
		}
		ti_conn_flush(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rx_ready(c);
	if (c->fd >= 0 && c->step != TI_CONN_FAILED)
		ti_conn_flush(c);
}
