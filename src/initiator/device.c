/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device: one logical unit from tether_open to tether_close, whatever its paths do. Its
 * queue holds commands waiting for a usable path; with none, they wait up to no_path_timeout_ms
 * and then fail with -EIO (and so does new I/O, until a path is back). Completed commands'
 * callbacks run from deferred work, i.e. from tether_service().
 */
#include "initiator/initiator.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

void ti_dev_error(struct tether_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->errmsg, sizeof(dev->errmsg), fmt, ap);
	va_end(ap);
}

void ti_req_complete(struct ti_req *r, int status)
{
	struct tether_dev *dev = r->dev;

	r->error = status;
	r->where = TI_REQ_DONE;
	r->path = NULL;
	tt_list_add_tail(&dev->done, &r->node);
	tt_work_queue(&dev->done_work);
}

static void run_callbacks(struct tether_dev *dev)
{
	struct tt_list *n;

	while ((n = tt_list_pop(&dev->done))) {
		struct ti_req *r = tt_list_entry(n, struct ti_req, node);

		if (r->user) {
			r->user->status = r->status;
			r->user->sense_len = r->sense_len;
			memcpy(r->user->sense, r->sense, r->sense_len);
			r->user->resid = r->resid;
		}
		if (r->cb)
			r->cb(dev, r->error, r->arg);
		free(r->owned);
		free(r->iov_owned);
		free(r);
	}
}

static void done_work_fn(struct tt_work *w)
{
	run_callbacks(tt_container_of(w, struct tether_dev, done_work));
}

void ti_dev_kick(struct tether_dev *dev)
{
	tt_work_queue(&dev->kick_work);
}

void ti_dev_requeue(struct tether_dev *dev, struct ti_req *r)
{
	r->path = NULL;
	r->on_wire = false;
	r->where = TI_REQ_QUEUED;
	tt_list_add(&dev->queue, &r->node);
	ti_dev_kick(dev);
}

static bool any_usable(const struct tether_dev *dev)
{
	for (int i = 0; i < dev->npaths; i++)
		if (ti_path_usable(dev->paths[i]) && ti_alua_rank(dev->paths[i]->alua) >= 0)
			return true;
	return false;
}

static void fail_list(struct tt_list *l, int status)
{
	struct tt_list *n;

	while ((n = tt_list_pop(l)))
		ti_req_complete(tt_list_entry(n, struct ti_req, node), status);
}

static void nopath_timer_fn(struct tt_timer *t)
{
	struct tether_dev *dev = tt_container_of(t, struct tether_dev, nopath_timer);
	size_t n = 0;
	struct tt_list *pos;

	if (any_usable(dev))
		return;
	dev->nopath_expired = true;
	tt_list_for_each(pos, &dev->queue)
		n++;
	tt_list_for_each(pos, &dev->delayed)
		n++;
	for (int i = 0; i < dev->npaths; i++)
		tt_list_for_each(pos, &dev->paths[i]->fence.held)
			n++;
	ti_dev_error(dev, "no live path for %lld ms (no_path_timeout_ms): I/O fails with EIO "
		     "until a path is back", (long long)dev->opts.no_path_timeout_ms);
	ti_log(&dev->opts, TI_LOG_ERR, "%s (%zu commands failed now)", dev->errmsg, n);
	fail_list(&dev->queue, -EIO);
	fail_list(&dev->delayed, -EIO);
	for (int i = 0; i < dev->npaths; i++)
		ti_fence_stop(dev->paths[i], -EIO);
}

static void dispatch(struct tether_dev *dev)
{
	struct tt_list *n;
	bool usable = any_usable(dev);

	if (!usable) {
		if (!dev->nopath_since_ns && !dev->closing) {
			dev->nopath_since_ns = tt_now_ns();
			if (dev->opts.no_path_timeout_ms >= 0)
				tt_timer_arm_ms(&dev->nopath_timer,
						(uint64_t)dev->opts.no_path_timeout_ms);
		}
		if (dev->nopath_expired)
			fail_list(&dev->queue, -EIO);
		return;
	}
	dev->nopath_since_ns = 0;
	dev->nopath_expired = false;
	tt_timer_cancel(&dev->nopath_timer);
	while (!tt_list_empty(&dev->queue)) {
		struct ti_path *p = ti_select_path(dev->paths, dev->npaths, dev->opts.selector,
						   &dev->rr);
		struct ti_req *r;

		if (!p)
			break;
		n = tt_list_pop(&dev->queue);
		r = tt_list_entry(n, struct ti_req, node);
		if (ti_conn_window_open(&p->conn) && tt_list_empty(&p->waiting)) {
			if (ti_req_send(p, r)) {
				ti_conn_fail(&p->conn, -ENOMEM, "out of memory");
				break;
			}
		} else {
			r->path = p;
			r->where = TI_REQ_INFLIGHT;
			r->on_wire = false;
			tt_list_add_tail(&p->waiting, &r->node);
		}
	}
	for (int i = 0; i < dev->npaths; i++) {
		struct ti_path *p = dev->paths[i];

		if (p->conn_open && p->conn.step == TI_CONN_FFP)
			ti_conn_flush(&p->conn);
	}
}

static void kick_work_fn(struct tt_work *w)
{
	dispatch(tt_container_of(w, struct tether_dev, kick_work));
}

static void delay_timer_fn(struct tt_timer *t)
{
	struct tether_dev *dev = tt_container_of(t, struct tether_dev, delay_timer);
	struct tt_list *n;

	while ((n = tt_list_pop(&dev->delayed)))
		ti_dev_requeue(dev, tt_list_entry(n, struct ti_req, node));
}

int ti_dev_submit(struct tether_dev *dev, struct ti_req *r)
{
	r->dev = dev;
	r->queued_ns = tt_now_ns();
	if (dev->closing) {
		free(r->owned);
		free(r->iov_owned);
		free(r);
		return -ESHUTDOWN;
	}
	if (dev->nopath_expired && !any_usable(dev)) {
		ti_req_complete(r, -EIO);
		return 0;
	}
	r->where = TI_REQ_QUEUED;
	tt_list_add_tail(&dev->queue, &r->node);
	ti_dev_kick(dev);
	return 0;
}

void ti_dev_path_down(struct tether_dev *dev, struct ti_path *p)
{
	struct tt_list mods, *pos, *tmp;
	unsigned retried = 0, held = 0;

	tt_list_init(&mods);
	tt_list_for_each_safe(pos, tmp, &p->tasks) {
		struct ti_req *r = tt_list_entry(pos, struct ti_req, node);

		tt_list_del(&r->node);
		if (r->on_wire)
			p->errors++;
		if (r->on_wire && r->modifying) {
			r->where = TI_REQ_HELD;
			r->path = NULL;
			tt_list_add_tail(&mods, &r->node);
			held++;
			continue;
		}
		if (r->on_wire) {
			p->retried++;
			r->retries++;
		}
		retried++;
		r->path = NULL;
		r->on_wire = false;
		r->where = TI_REQ_QUEUED;
		tt_list_add_tail(&dev->queue, &r->node);
	}
	if (retried || held)
		ti_log(&dev->opts, TI_LOG_WARN, "path %s down: %u commands sent again at once, %u "
		       "modifying commands held until the old session is fenced", p->url_text,
		       retried, held);
	if (held)
		ti_fence_start(p, &mods);
	ti_dev_kick(dev);
}

void ti_dev_path_live(struct tether_dev *dev, struct ti_path *p)
{
	(void)p;
	dev->nopath_since_ns = 0;
	dev->nopath_expired = false;
	tt_timer_cancel(&dev->nopath_timer);
	ti_fence_kick(dev);
	ti_dev_kick(dev);
}

void ti_dev_finish(struct tether_dev *dev, struct ti_req *r)
{
	struct ti_path *p = r->path;
	struct ti_sense s;
	enum ti_verdict v;
	int err;

	ti_sense_parse(r->sense, r->sense_len, &s);
	v = ti_scsi_verdict(r->status, &s, &err);
	r->path = NULL;
	if (r->user && v != TI_V_DONE && !(s.valid && s.key == 6)) {
		/* pass-through: the caller reads the status; only unit attentions are ours */
		ti_req_complete(r, 0);
		return;
	}
	switch (v) {
	case TI_V_DONE:
		if (err && p)
			p->errors++;
		ti_req_complete(r, r->user ? 0 : err);
		return;
	case TI_V_RETRY_ALUA:
		if (p && s.key == 2 && s.asc == 0x04)
			p->alua = s.ascq == 0x0b ? TI_ALUA_STANDBY : TI_ALUA_UNAVAILABLE;
		for (int i = 0; i < dev->npaths; i++)
			ti_path_reread_alua(dev->paths[i]);
		/* fall through */
	case TI_V_RETRY:
		if (++r->ua_retries > 32) {
			ti_req_complete(r, -EIO);
			return;
		}
		ti_dev_requeue(dev, r);
		return;
	case TI_V_RETRY_LATER:
		if (++r->ua_retries > 600) {
			ti_req_complete(r, -EIO);
			return;
		}
		r->where = TI_REQ_QUEUED;
		tt_list_add_tail(&dev->delayed, &r->node);
		if (!tt_timer_armed(&dev->delay_timer))
			tt_timer_arm_ms(&dev->delay_timer, 50);
		return;
	}
}

/* ---- open, service, close -------------------------------------------------------------------- */

int ti_dev_wait(struct tether_dev *dev, bool (*done)(void *arg), void *arg, uint64_t deadline_ns)
{
	if (dev->servicing)
		return -EBUSY;
	while (!done(arg)) {
		struct pollfd pfd = { .fd = tt_loop_fd(dev->loop), .events = POLLIN };
		int tmo = tt_loop_timeout_ms(dev->loop), rc;
		uint64_t now = tt_now_ns();

		if (deadline_ns) {
			int64_t left;

			if (now >= deadline_ns)
				return -ETIMEDOUT;
			left = (int64_t)((deadline_ns - now + TT_NS_PER_MS - 1) / TT_NS_PER_MS);
			if (tmo < 0 || tmo > left)
				tmo = (int)left;
		}
		if (tmo != 0 && poll(&pfd, 1, tmo) < 0 && errno != EINTR)
			return -errno;
		rc = tt_loop_service(dev->loop);
		if (rc && rc != -EINTR)
			return rc;
	}
	return 0;
}

static bool open_done(void *arg)
{
	struct tether_dev *dev = arg;
	bool any_alive = false;

	for (int i = 0; i < dev->npaths; i++) {
		if (ti_path_usable(dev->paths[i]))
			return true;
		if (dev->paths[i]->state != TI_PATH_DEAD)
			any_alive = true;
	}
	return !any_alive;
}

void ti_dev_destroy(struct tether_dev *dev)
{
	struct tt_list *n;

	dev->closing = true;
	for (int i = 0; i < dev->npaths; i++)
		ti_path_free(dev->paths[i]);
	dev->npaths = 0;
	tt_timer_cancel(&dev->nopath_timer);
	tt_timer_cancel(&dev->delay_timer);
	fail_list(&dev->queue, -ECANCELED);
	fail_list(&dev->delayed, -ECANCELED);
	tt_work_cancel(&dev->kick_work);
	tt_work_cancel(&dev->done_work);
	run_callbacks(dev);
	while ((n = tt_list_pop(&dev->done)))
		free(tt_list_entry(n, struct ti_req, node));
	tt_loop_destroy(dev->loop);
	explicit_bzero(&dev->opts, sizeof(dev->opts));
	free(dev);
}

int ti_dev_create(struct tether_dev **out, const struct tether_opts *opts)
{
	struct tether_dev *dev = calloc(1, sizeof(*dev));
	int rc;

	*out = NULL;
	if (!dev)
		return -ENOMEM;
	if (opts)
		dev->opts = *opts;
	else
		ti_opts_defaults(&dev->opts);
	dev->opts.errmsg[0] = 0;
	rc = tt_loop_create(&dev->loop, 0);
	if (rc) {
		free(dev);
		return rc;
	}
	tt_list_init(&dev->queue);
	tt_list_init(&dev->done);
	tt_list_init(&dev->delayed);
	tt_work_init(&dev->kick_work, dev->loop, kick_work_fn);
	tt_work_init(&dev->done_work, dev->loop, done_work_fn);
	tt_timer_init(&dev->nopath_timer, dev->loop, nopath_timer_fn);
	tt_timer_init(&dev->delay_timer, dev->loop, delay_timer_fn);
	*out = dev;
	return 0;
}

int tether_open(struct tether_dev **out, const char *const *urls, size_t npaths,
		const struct tether_opts *opts, char *errbuf, size_t errsize)
{
	struct tether_dev *dev;
	int rc;

	if (errbuf && errsize)
		errbuf[0] = 0;
	*out = NULL;
	if (!urls || npaths == 0) {
		if (errbuf && errsize)
			snprintf(errbuf, errsize, "no path given");
		return -EINVAL;
	}
	rc = ti_dev_create(&dev, opts);
	if (rc)
		return rc;
	for (size_t i = 0; i < npaths; i++) {
		char err[TI_ERRMSG] = "";

		rc = ti_path_add(dev, urls[i], err, sizeof(err));
		if (rc) {
			if (errbuf && errsize)
				snprintf(errbuf, errsize, "%s", err[0] ? err : strerror(-rc));
			ti_dev_destroy(dev);
			return rc;
		}
	}
	rc = ti_dev_wait(dev, open_done, dev,
			 tt_now_ns() + (uint64_t)dev->opts.login_timeout_ms * TT_NS_PER_MS +
				 200 * TT_NS_PER_MS);
	if (rc == 0 && !open_done(dev))
		rc = -ETIMEDOUT;
	if (rc == 0) {
		bool live = false, auth = false;

		for (int i = 0; i < dev->npaths; i++) {
			live |= ti_path_usable(dev->paths[i]);
			auth |= dev->paths[i]->auth_failed;
		}
		if (!live)
			rc = auth ? -EACCES : -EIO;
	}
	if (rc) {
		if (errbuf && errsize)
			snprintf(errbuf, errsize, "%s%s", rc == -ETIMEDOUT ?
				 "no path came up within login_timeout_ms: " : "",
				 dev->errmsg[0] ? dev->errmsg : strerror(-rc));
		ti_dev_destroy(dev);
		return rc;
	}
	ti_log(&dev->opts, TI_LOG_INFO, "opened %s: %llu blocks of %u bytes", dev->ident.lu_text,
	       (unsigned long long)dev->blocks, dev->block_size);
	*out = dev;
	return 0;
}

int tether_add_path(struct tether_dev *dev, const char *url)
{
	char err[TI_ERRMSG] = "";
	int rc = ti_path_add(dev, url, err, sizeof(err));

	if (rc)
		ti_dev_error(dev, "%s", err[0] ? err : strerror(-rc));
	return rc;
}

static bool idle(void *arg)
{
	struct tether_dev *dev = arg;

	if (!tt_list_empty(&dev->queue) || !tt_list_empty(&dev->delayed))
		return false;
	for (int i = 0; i < dev->npaths; i++)
		if (!tt_list_empty(&dev->paths[i]->tasks) ||
		    !tt_list_empty(&dev->paths[i]->waiting) ||
		    (dev->paths[i]->fence.active && !tt_list_empty(&dev->paths[i]->fence.held)))
			return false;
	return true;
}

static bool logged_out(void *arg)
{
	struct tether_dev *dev = arg;

	for (int i = 0; i < dev->npaths; i++) {
		struct ti_path *p = dev->paths[i];

		if (p->state == TI_PATH_LIVE && !p->logged_out && p->conn_open &&
		    p->conn.step == TI_CONN_FFP)
			return false;
	}
	return true;
}

void tether_close(struct tether_dev *dev)
{
	if (!dev)
		return;
	/* outstanding I/O: a short bound, then cancelled */
	ti_dev_wait(dev, idle, dev, tt_now_ns() + 5 * TT_NS_PER_SEC);
	dev->closing = true;
	for (int i = 0; i < dev->npaths; i++) {
		struct ti_path *p = dev->paths[i];

		if (p->state == TI_PATH_LIVE && p->conn_open && p->conn.step == TI_CONN_FFP) {
			ti_path_send_logout(&p->conn);
			ti_conn_flush(&p->conn);
		}
	}
	ti_dev_wait(dev, logged_out, dev, tt_now_ns() + TT_NS_PER_SEC);
	run_callbacks(dev);
	ti_dev_destroy(dev);
}

const char *tether_errmsg(const struct tether_dev *dev)
{
	return dev ? dev->errmsg : "";
}

uint64_t tether_size(const struct tether_dev *dev)
{
	return dev->blocks * dev->block_size;
}

uint32_t tether_block_size(const struct tether_dev *dev)
{
	return dev->block_size;
}

const char *tether_lu_id(const struct tether_dev *dev)
{
	return dev->ident.lu_text;
}

int tether_fd(const struct tether_dev *dev)
{
	return tt_loop_fd(dev->loop);
}

uint32_t tether_events(const struct tether_dev *dev)
{
	return tt_loop_events(dev->loop);
}

int tether_timeout_ms(const struct tether_dev *dev)
{
	return tt_loop_timeout_ms(dev->loop);
}

int tether_service(struct tether_dev *dev)
{
	int rc;

	dev->servicing++;
	rc = tt_loop_service(dev->loop);
	dev->servicing--;
	return rc;
}

int tether_path_count(const struct tether_dev *dev)
{
	return dev->npaths;
}

int tether_path_info(const struct tether_dev *dev, int index, struct tether_path_info *out)
{
	const struct ti_path *p;
	uint64_t now = tt_now_ns();

	if (index < 0 || index >= dev->npaths)
		return -ENOENT;
	p = dev->paths[index];
	memset(out, 0, sizeof(*out));
	snprintf(out->url, sizeof(out->url), "%s", p->url_text);
	snprintf(out->state, sizeof(out->state), "%s", ti_path_state_name(p->state));
	snprintf(out->alua, sizeof(out->alua), "%s", ti_alua_name(p->alua));
	out->tpg = p->ident.have_tpg ? p->ident.tpg : 0;
	out->ios = p->ios;
	out->errors = p->errors;
	out->retried = p->retried;
	out->failures = p->failures;
	out->inflight = p->inflight;
	(void)now;
	out->last_change_ms = p->state_ns / TT_NS_PER_MS;
	return 0;
}
