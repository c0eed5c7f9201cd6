/* SPDX-License-Identifier: BSD-3-Clause */
/* GET /metrics over HTTP with libmicrohttpd (target/metrics.h). */
#include "target/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/log.h"
#include "target/stats.h"
#include "xport/listener.h"

#if MHD_VERSION < 0x00097002
typedef int tt_mhd_result;
#else
typedef enum MHD_Result tt_mhd_result;
#endif

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct {
	struct MHD_Daemon *d;
	char addr[TT_PORTAL_ADDR_MAX];
} metrics;

int tt_metrics_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			  char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	struct tt_portal_addr a;
	char msg[256];
	bool v6 = s[0] == '[';

	if (strstr(s, "://") || !colon || colon == s || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    (v6 ? colon[-1] != ']' : memchr(s, ':', (size_t)(colon - s)) != NULL)) {
		tt_errmsg(err, errlen, 0, "metrics address \"%s\": expected ADDR:PORT or "
			  "[V6ADDR]:PORT", s);
		return -EINVAL;
	}
	if (tt_portal_addr_parse(s, &a, msg, sizeof(msg)) < 0) {
		tt_errmsg(err, errlen, 0, "metrics address \"%s\": %s", s, msg);
		return -EINVAL;
	}
	*ss = a.ss;
	*len = a.sslen;
	return 0;
}

static tt_mhd_result reply(struct MHD_Connection *c, unsigned code, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	tt_mhd_result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static tt_mhd_result handle(void *cls, struct MHD_Connection *c, const char *url,
			    const char *method, const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *r;
	struct tt_stats *s;
	char *text = NULL;
	size_t len = 0;
	tt_mhd_result ret;
	FILE *f;
	int rc;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (!*con_cls) {
		/* first call: headers only; answer on the next */
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body is ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	rc = tt_stats_collect(&s);
	if (rc)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	f = open_memstream(&text, &len);
	if (!f) {
		tt_stats_free(s);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	rc = tt_stats_prometheus(s, f);
	tt_stats_free(s);
	if (fclose(f) != 0 || rc) {
		free(text);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int tt_metrics_start(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY;
	int rc;

	if (metrics.d) {
		tt_errmsg(err, errlen, 0, "metrics are served already on %s", metrics.addr);
		return -EALREADY;
	}
	rc = tt_metrics_addr_parse(addr, &ss, &len, err, errlen);
	if (rc)
		return rc;
	(void)len; /* libmicrohttpd takes the length from the family */
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	metrics.d = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				     MHD_OPTION_END);
	if (!metrics.d) {
		rc = errno ? -errno : -EADDRNOTAVAIL;
		tt_errmsg(err, errlen, 0, "metrics address %s: cannot listen: %s", addr,
			  strerror(-rc));
		return rc;
	}
	tt_sockaddr_format(&ss, metrics.addr, sizeof(metrics.addr));
	tt_notice("metrics", "serving /metrics on http://%s", metrics.addr);
	return 0;
}

void tt_metrics_stop(void)
{
	if (!metrics.d)
		return;
	MHD_stop_daemon(metrics.d);
	metrics.d = NULL;
	metrics.addr[0] = '\0';
}

const char *tt_metrics_addr(void)
{
	return metrics.d ? metrics.addr : NULL;
}
