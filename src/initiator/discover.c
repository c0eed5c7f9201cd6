/* SPDX-License-Identifier: BSD-3-Clause */
/* Discovery: a discovery session to a portal, SendTargets=All (RFC 7143 §12.3, Appendix C),
 * every TargetName/TargetAddress pair reported, then Logout. Synchronous, on a loop of its own. */
#include "initiator/initiator.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/errmsg.h"

struct disc {
	struct ti_conn conn;
	struct tt_text text;
	int rc;
	bool done;
	uint32_t itt;
	tether_discover_cb cb;
	void *arg;
	char err[TI_ERRMSG];
};

static int send_text(struct disc *d, uint32_t ttt, bool with_key)
{
	static const char key[] = "SendTargets=All";
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_text_req *t = (struct tt_bhs_text_req *)bhs;
	uint8_t *data = NULL;
	struct iovec v;

	t->opcode = TT_OP_TEXT_REQ | TT_OP_IMMEDIATE;
	t->flags = TT_FLAG_FINAL;
	d->itt = d->conn.next_itt++;
	tt_put_be32(t->itt, d->itt);
	tt_put_be32(t->ttt, ttt);
	tt_put_be32(t->cmdsn, d->conn.cmdsn);
	if (with_key) {
		data = malloc(sizeof(key));
		if (!data)
			return -ENOMEM;
		memcpy(data, key, sizeof(key));
		v.iov_base = data;
		v.iov_len = sizeof(key);
	}
	return ti_conn_send(&d->conn, bhs, with_key ? &v : NULL, with_key ? 1 : 0,
			    with_key ? sizeof(key) : 0, data);
}

static void disc_up(struct ti_conn *c, int rc)
{
	struct disc *d = c->owner;

	if (rc) {
		snprintf(d->err, sizeof(d->err), "%s", c->errmsg);
		d->rc = rc;
		d->done = true;
		return;
	}
	if (send_text(d, TT_RSVD_TAG, true)) {
		d->rc = -ENOMEM;
		d->done = true;
		return;
	}
	ti_conn_flush(c);
}

static void report(struct disc *d)
{
	const char *target = NULL;

	for (size_t i = 0; i < tt_text_count(&d->text); i++) {
		struct tt_text_pair kv = tt_text_get(&d->text, i);

		if (!strcmp(kv.key, "TargetName"))
			target = kv.value;
		else if (!strcmp(kv.key, "TargetAddress") && target)
			d->cb(target, kv.value, d->arg);
	}
}

static int disc_pdu(struct ti_conn *c, const struct ti_pdu_in *in)
{
	struct disc *d = c->owner;
	const struct tt_bhs_text_rsp *t = (const void *)in->raw;
	int rc;

	switch (in->raw[0] & TT_OP_MASK) {
	case TT_OP_TEXT_RSP: {
		bool final = t->flags & TT_FLAG_FINAL;

		ti_conn_update_window(c, t->expcmdsn, t->maxcmdsn);
		c->expstatsn = tt_get_be32(t->statsn) + 1;
		rc = tt_text_append(&d->text, in->data, in->dlen, final);
		if (rc) {
			snprintf(d->err, sizeof(d->err), "malformed SendTargets response (%s)",
				 strerror(-rc));
			d->rc = -EPROTO;
			d->done = true;
			return 0;
		}
		if (!final) {
			rc = send_text(d, tt_get_be32(t->ttt), false);
			ti_conn_flush(c);
			return rc;
		}
		report(d);
		d->rc = 0;
		ti_path_send_logout(c);
		ti_conn_flush(c);
		return 0;
	}
	case TT_OP_LOGOUT_RSP:
		d->done = true;
		return 0;
	case TT_OP_NOP_IN:
	case TT_OP_ASYNC:
		return 0;
	}
	snprintf(d->err, sizeof(d->err), "unexpected %s in a discovery session",
		 tt_opcode_name(in->raw[0] & TT_OP_MASK));
	d->rc = -EPROTO;
	d->done = true;
	return 0;
}

static void disc_down(struct ti_conn *c, int rc)
{
	struct disc *d = c->owner;

	if (!d->done && !d->err[0]) {
		snprintf(d->err, sizeof(d->err), "%s", c->errmsg);
		/* a target that closes after answering has still answered */
		if (d->rc != 0 || tt_text_count(&d->text) == 0)
			d->rc = rc ? rc : -EIO;
	}
	d->done = true;
}

static const struct ti_conn_ops disc_ops = { .up = disc_up, .pdu = disc_pdu, .down = disc_down };

int tether_discover(const char *url, const struct tether_opts *opts, tether_discover_cb cb,
		    void *arg, char *errbuf, size_t errsize)
{
	struct tether_opts o;
	struct ti_url u;
	struct tt_loop *loop;
	struct disc *d;
	uint8_t isid[6];
	uint64_t deadline;
	int rc;

	if (errbuf && errsize)
		errbuf[0] = 0;
	rc = ti_url_parse(url, &u, false, errbuf, errsize);
	if (rc)
		return rc;
	if (!cb)
		return tt_errmsg(errbuf, errsize, -EINVAL, "no callback");
	if (opts)
		o = *opts;
	else
		ti_opts_defaults(&o);
	rc = tt_loop_create(&loop, 0);
	if (rc)
		return tt_errmsg(errbuf, errsize, rc, "cannot create a loop: %s", strerror(-rc));
	d = calloc(1, sizeof(*d));
	if (!d) {
		tt_loop_destroy(loop);
		return -ENOMEM;
	}
	d->cb = cb;
	d->arg = arg;
	d->rc = -EINPROGRESS;
	tt_text_init(&d->text, 0);
	ti_conn_fill_isid(isid);
	rc = ti_conn_start(&d->conn, loop, &o, &disc_ops, d, u.host, u.port, "", isid,
			   u.user[0] ? u.user : o.chap_user, u.user[0] ? u.secret : o.chap_secret);
	if (rc) {
		tt_errmsg(errbuf, errsize, rc, "%s:%u: %s", u.host, u.port,
			  d->conn.errmsg[0] ? d->conn.errmsg : strerror(-rc));
		goto out;
	}
	deadline = tt_now_ns() + 2 * (uint64_t)o.login_timeout_ms * TT_NS_PER_MS;
	while (!d->done) {
		struct pollfd pfd = { .fd = tt_loop_fd(loop), .events = POLLIN };
		int tmo = tt_loop_timeout_ms(loop);
		uint64_t now = tt_now_ns();
		int left;

		if (now >= deadline) {
			snprintf(d->err, sizeof(d->err), "no answer within %lld ms",
				 2 * (long long)o.login_timeout_ms);
			d->rc = -ETIMEDOUT;
			break;
		}
		left = (int)((deadline - now) / TT_NS_PER_MS) + 1;
		if (tmo < 0 || tmo > left)
			tmo = left;
		if (tmo)
			poll(&pfd, 1, tmo);
		tt_loop_service(loop);
	}
	rc = d->rc == -EINPROGRESS ? -EIO : d->rc;
	if (rc)
		tt_errmsg(errbuf, errsize, rc, "discovery at %s:%u: %s", u.host, u.port,
			  d->err[0] ? d->err : strerror(-rc));
out:
	ti_conn_close(&d->conn);
	tt_text_fini(&d->text);
	free(d);
	tt_loop_destroy(loop);
	explicit_bzero(&o, sizeof(o));
	explicit_bzero(&u, sizeof(u));
	return rc;
}
