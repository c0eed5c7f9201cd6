/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tetherctl: the command line of tetherd's control socket (JSON-RPC 2.0, one request per line).
 * Each command is one request; the answer is printed as a table, or as JSON with --json.
 * Exit status: 0 success, 1 failure (message on stderr), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/iostat.h"
#include "target/rpc.h"

#define EXIT_USAGE 2
#define MAX_POS 8
#define MAX_OPTS 64

struct args {
	const char *pos[MAX_POS];
	int npos;
	struct {
		char name[32];   /* without the leading "--" */
		const char *val; /* NULL for flags */
	} opts[MAX_OPTS];
	int nopts;
};

struct cmd;

struct ctx {
	const char *socket;
	bool json;
	int timeout_ms;
	const struct cmd *cmd;
	struct args a;
};

struct cmd {
	const char *w1, *w2;    /* "target", "create"; w2 NULL for one-word commands */
	int pos_min, pos_max;
	const char *opts;       /* "alias=,flag": names, '=' takes a value */
	const char *usage;
	int (*run)(struct ctx *c);
};

static const char *prog = "tetherctl";

__attribute__((format(printf, 1, 2)))
static int error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

/* --- the socket ------------------------------------------------------------------------------ */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one response line (or everything up to EOF). */
static int read_response(int fd, int timeout_ms, char **out)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	struct timespec start, now;

	if (!buf)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long elapsed;
		ssize_t n;
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms) {
			free(buf);
			return -ETIMEDOUT;
		}
		rc = poll(&pfd, 1, (int)(timeout_ms - elapsed));
		if (rc < 0 && errno != EINTR) {
			free(buf);
			return -errno;
		}
		if (rc <= 0)
			continue;
		if (cap - len < 4096) {
			char *p = realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			free(buf);
			return -errno;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (n == 0 || memchr(buf + len - (size_t)n, '\n', (size_t)n)) {
			if (len == 0) {
				free(buf);
				return -ECONNRESET;
			}
			*out = buf;
			return 0;
		}
	}
}

/*
 * Calls @method with @params (stolen; NULL for none). On success *result is the "result" member
 * (a new reference). On failure prints the problem and returns 1.
 */
static int rpc_call_data(struct ctx *c, const char *method, json_t *params, json_t **result,
			 void (*on_error)(json_t *err));

static int rpc_call(struct ctx *c, const char *method, json_t *params, json_t **result)
{
	return rpc_call_data(c, method, params, result, NULL);
}

/* rpc_call, and @on_error (may be NULL) sees the error object after its message is printed. */
static int rpc_call_data(struct ctx *c, const char *method, json_t *params, json_t **result,
			 void (*on_error)(json_t *err))
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	json_t *req, *resp, *err;
	json_error_t jerr;
	char *line, *reply = NULL;
	int fd, rc;

	*result = NULL;
	if (strlen(c->socket) >= sizeof(sun.sun_path)) {
		json_decref(params);
		return error("socket path \"%s\" is too long", c->socket);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->socket);
	req = json_pack("{ss ss si}", "jsonrpc", "2.0", "method", method, "id", 1);
	if (params)
		json_object_set_new(req, "params", params);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		return error("out of memory");

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(line);
		return error("socket: %s", strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = errno;
		close(fd);
		free(line);
		return error("cannot connect to %s: %s (is tetherd running? -s or "
			     "TETHER_RPC_SOCKET select the socket)", c->socket, strerror(rc));
	}
	rc = write_all(fd, line, strlen(line));
	if (!rc)
		rc = write_all(fd, "\n", 1);
	free(line);
	if (!rc)
		shutdown(fd, SHUT_WR);
	if (!rc)
		rc = read_response(fd, c->timeout_ms, &reply);
	close(fd);
	if (rc)
		return error("%s: %s", c->socket, rc == -ETIMEDOUT ? "no answer (timed out)"
				       : rc == -ECONNRESET ? "connection closed without an answer"
				       : strerror(-rc));
	resp = json_loads(reply, JSON_DISABLE_EOF_CHECK, &jerr);
	free(reply);
	if (!resp)
		return error("bad answer from tetherd: %s", jerr.text);
	err = json_object_get(resp, "error");
	if (err) {
		json_t *data = json_object_get(err, "data");
		const char *en = json_string_value(json_object_get(data, "errno"));

		if (c->json) {
			char *s = json_dumps(err, JSON_INDENT(2));

			fprintf(stderr, "%s\n", s ? s : "");
			free(s);
		}
		rc = error("%s: %s%s%s%s", method,
			   json_string_value(json_object_get(err, "message")) ?: "error",
			   en ? " (" : "", en ? en : "", en ? ")" : "");
		if (on_error && !c->json)
			on_error(err);
		json_decref(resp);
		return rc;
	}
	*result = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	if (!*result)
		return error("bad answer from tetherd: no result");
	return 0;
}

/* --- printing -------------------------------------------------------------------------------- */

static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));

	if (s)
		printf("%s\n", s);
	free(s);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* Runs a call and prints its result: as JSON with --json, else with @print (NULL: quiet). */
static int run_and_print(struct ctx *c, const char *method, json_t *params,
			 void (*print)(json_t *result))
{
	json_t *result;
	int rc = rpc_call(c, method, params, &result);

	if (rc)
		return rc;
	if (c->json)
		print_json(result);
	else if (print)
		print(result);
	json_decref(result);
	return 0;
}

static void print_targets(json_t *list)
{
	size_t i, j, k;
	json_t *t, *g, *p, *l, *a;

	if (json_array_size(list) == 0)
		printf("no targets\n");
	json_array_foreach(list, i, t) {
		printf("%s%s%s%s\n", str(t, "name"), str(t, "alias")[0] ? "  (alias " : "",
		       str(t, "alias"), str(t, "alias")[0] ? ")" : "");
		json_array_foreach(json_object_get(t, "tpgs"), j, g) {
			printf("  tpg %lld  auth %s%s%s\n", num(g, "tag"), str(g, "auth"),
			       str(g, "alua_state")[0] ? "  alua " : "", str(g, "alua_state"));
			json_array_foreach(json_object_get(g, "portals"), k, p)
				printf("    portal %-28s %s%s%s\n", str(p, "addr"), str(p, "state"),
				       str(p, "error")[0] ? ": " : "", str(p, "error"));
		}
		json_array_foreach(json_object_get(t, "luns"), j, l) {
			char size[32];

			human_size((uint64_t)num(l, "size"), size, sizeof(size));
			printf("  lun %-4lld %-30s %10s  bs %lld%s\n", num(l, "id"), str(l, "backend"),
			       size, num(l, "block_size"),
			       json_is_true(json_object_get(l, "write_protect")) ? "  write-protected"
										  : "");
		}
		json_array_foreach(json_object_get(t, "acls"), j, a)
			printf("  acl %s%s\n", str(a, "initiator"),
			       json_is_true(json_object_get(a, "mutual_chap")) ? "  (mutual CHAP)"
			       : json_is_true(json_object_get(a, "chap")) ? "  (CHAP)" : "");
	}
}

static void print_portals(json_t *list)
{
	size_t i;
	json_t *p;

	printf("%-40s %5s  %-28s %-10s %s\n", "TARGET", "TPG", "PORTAL", "STATE", "ERROR");
	json_array_foreach(list, i, p)
		printf("%-40s %5lld  %-28s %-10s %s\n", str(p, "target"), num(p, "tag"),
		       str(p, "addr"), str(p, "state"), str(p, "error"));
}

static void print_alua(json_t *list)
{
	size_t i;
	json_t *g;

	printf("%-40s %5s %6s %9s  %s\n", "TARGET", "TPG", "GROUP", "REL PORT", "STATE");
	json_array_foreach(list, i, g)
		printf("%-40s %5lld %6lld %9lld  %s\n", str(g, "target"), num(g, "tag"),
		       num(g, "group"), num(g, "rel_port"), str(g, "state"));
}

static void print_sessions(json_t *list)
{
	size_t i, j;
	json_t *s, *cn;

	if (json_array_size(list) == 0) {
		printf("no sessions\n");
		return;
	}
	printf("%-6s %-6s %-12s %-14s %-9s %s\n", "ID", "TSIH", "ISID", "STATE", "COMMANDS",
	       "INITIATOR -> TARGET (TPG)");
	json_array_foreach(list, i, s) {
		printf("%-6lld %-6lld %-12s %-14s %-9lld %s -> %s (%lld)\n", num(s, "id"),
		       num(s, "tsih"), str(s, "isid"), str(s, "state"), num(s, "commands"),
		       str(s, "initiator"),
		       json_is_true(json_object_get(s, "discovery")) ? "discovery" : str(s, "target"),
		       num(s, "tpgt"));
		json_array_foreach(json_object_get(s, "connections"), j, cn)
			printf("       cid %lld  %s -> %s  %s  loop %lld\n", num(cn, "cid"),
			       str(cn, "peer"), str(cn, "local"), str(cn, "state"), num(cn, "loop"));
	}
}

static void print_srp_channels(json_t *list)
{
	size_t i, j;
	json_t *ch, *l;

	if (json_array_size(list) == 0) {
		printf("no SRP channels\n");
		return;
	}
	printf("%-16s %-12s %-7s %-7s %-6s %s\n", "ID", "STATE", "REQLIM", "CREDITS", "TASKS",
	       "INITIATOR PORT -> TARGET PORT (TARGET, TPG)");
	json_array_foreach(list, i, ch) {
		printf("%-16lld %-12s %-7lld %-7lld %-6lld %s -> %s (%s, %lld)\n", num(ch, "id"),
		       str(ch, "state"), num(ch, "req_limit"), num(ch, "credits"), num(ch, "tasks"),
		       str(ch, "initiator"), str(ch, "target_port"), str(ch, "target"),
		       num(ch, "tpgt"));
		printf("       peer %s  LUNs", str(ch, "peer"));
		if (!json_array_size(json_object_get(ch, "luns")))
			printf(" none");
		json_array_foreach(json_object_get(ch, "luns"), j, l)
			printf(" %lld", (long long)json_integer_value(l));
		printf("\n");
	}
}

static void print_log(json_t *r)
{
	size_t i;
	json_t *d;

	printf("level %s", str(r, "level"));
	if (json_array_size(json_object_get(r, "debug"))) {
		printf(", debug");
		json_array_foreach(json_object_get(r, "debug"), i, d)
			printf(" %s", json_string_value(d));
	}
	printf("\n");
}

/* --- argument helpers ------------------------------------------------------------------------ */

static const char *opt(const struct ctx *c, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < c->a.nopts; i++)
		if (strcmp(c->a.opts[i].name, name) == 0)
			v = c->a.opts[i].val ? c->a.opts[i].val : "";
	return v;
}

static int usage_error(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s %s\n", prog, c->cmd->usage);
	return EXIT_USAGE;
}

/* A non-negative integer argument. */
static int arg_int(const struct ctx *c, const char *what, const char *s, json_int_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v > INT64_MAX)
		return usage_error(c, "%s must be a non-negative integer, not \"%s\"", what, s);
	*out = (json_int_t)v;
	return 0;
}

/* Seconds, possibly fractional: an integer or a real. */
static int arg_seconds(const struct ctx *c, const char *what, const char *s, json_t **out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || v < 0)
		return usage_error(c, "%s must be a number of seconds, not \"%s\"", what, s);
	*out = v == (double)(json_int_t)v ? json_integer((json_int_t)v) : json_real(v);
	return 0;
}

static json_t *param_value(const char *key, const char *val)
{
	const char *p;

	if (strcmp(key, "HeaderDigest") == 0 || strcmp(key, "DataDigest") == 0) {
		json_t *a = json_array();
		char *copy = strdup(val), *save = NULL;

		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(a, json_string(tok));
		free(copy);
		return a;
	}
	if (!strcasecmp(val, "yes") || !strcasecmp(val, "true"))
		return json_true();
	if (!strcasecmp(val, "no") || !strcasecmp(val, "false"))
		return json_false();
	for (p = val; *p >= '0' && *p <= '9'; p++)
		;
	if (*val && !*p)
		return json_integer(strtoll(val, NULL, 10));
	return json_string(val);
}

/* --- commands -------------------------------------------------------------------------------- */

static int c_target_create(struct ctx *c)
{
	json_t *p = json_pack("{ss}", "name", c->a.pos[0]);

	if (opt(c, "alias"))
		json_object_set_new(p, "alias", json_string(opt(c, "alias")));
	return run_and_print(c, "target_create", p, NULL);
}

static int c_target_delete(struct ctx *c)
{
	return run_and_print(c, "target_delete", json_pack("{ss}", "name", c->a.pos[0]), NULL);
}

static int c_target_list(struct ctx *c)
{
	json_t *p = c->a.npos ? json_pack("{ss}", "name", c->a.pos[0]) : NULL;

	return run_and_print(c, "target_list", p, print_targets);
}

static int c_tpg_create(struct ctx *c)
{
	static const struct { const char *opt, *key; } secs[] = {
		{ "nop-interval", "nop_interval" },
		{ "nop-timeout", "nop_timeout" },
		{ "login-timeout", "login_timeout" },
	};
	json_t *p, *params = NULL, *portals = NULL, *v = NULL;
	json_int_t tag;
	int rc;

	if ((rc = arg_int(c, "TAG", c->a.pos[1], &tag)))
		return rc;
	p = json_pack("{ss sI}", "target", c->a.pos[0], "tag", tag);
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		if (!opt(c, secs[i].opt))
			continue;
		if ((rc = arg_seconds(c, secs[i].opt, opt(c, secs[i].opt), &v))) {
			json_decref(p);
			return rc;
		}
		json_object_set_new(p, secs[i].key, v);
	}
	if (opt(c, "auth"))
		json_object_set_new(p, "auth", json_string(opt(c, "auth")));
	if (opt(c, "alua-state"))
		json_object_set_new(p, "alua_state", json_string(opt(c, "alua-state")));
	if (opt(c, "allow-any-initiator")) {
		const char *s = opt(c, "allow-any-initiator");

		if (strcmp(s, "yes") && strcmp(s, "no")) {
			json_decref(p);
			return usage_error(c, "--allow-any-initiator takes yes or no");
		}
		json_object_set_new(p, "allow_any_initiator", json_boolean(!strcmp(s, "yes")));
	}
	for (int i = 0; i < c->a.nopts; i++) {
		const char *name = c->a.opts[i].name, *val = c->a.opts[i].val, *eq;

		if (strcmp(name, "portal") == 0) {
			if (!portals)
				portals = json_array();
			json_array_append_new(portals, json_string(val));
		} else if (strcmp(name, "param") == 0) {
			char key[64];

			eq = strchr(val, '=');
			if (!eq || eq == val || (size_t)(eq - val) >= sizeof(key)) {
				json_decref(p);
				json_decref(params);
				json_decref(portals);
				return usage_error(c, "--param takes KEY=VALUE, not \"%s\"", val);
			}
			snprintf(key, sizeof(key), "%.*s", (int)(eq - val), val);
			if (!params)
				params = json_object();
			json_object_set_new(params, key, param_value(key, eq + 1));
		}
	}
	if (params)
		json_object_set_new(p, "params", params);
	if (portals)
		json_object_set_new(p, "portals", portals);
	return run_and_print(c, "tpg_create", p, NULL);
}

static int c_tpg_delete(struct ctx *c)
{
	json_int_t tag;
	int rc;

	if ((rc = arg_int(c, "TAG", c->a.pos[1], &tag)))
		return rc;
	return run_and_print(c, "tpg_delete", json_pack("{ss sI}", "target", c->a.pos[0],
							  "tag", tag), NULL);
}

static int portal_call(struct ctx *c, const char *method)
{
	json_int_t tag;
	int rc;

	if ((rc = arg_int(c, "TAG", c->a.pos[1], &tag)))
		return rc;
	return run_and_print(c, method, json_pack("{ss sI ss}", "target", c->a.pos[0], "tag", tag,
						  "addr", c->a.pos[2]), NULL);
}

static int c_portal_add(struct ctx *c) { return portal_call(c, "portal_add"); }
static int c_portal_remove(struct ctx *c) { return portal_call(c, "portal_remove"); }

static int c_portal_list(struct ctx *c)
{
	json_t *p = c->a.npos ? json_pack("{ss}", "target", c->a.pos[0]) : NULL;

	return run_and_print(c, "portal_list", p, print_portals);
}

static int c_alua_list(struct ctx *c)
{
	json_t *p = c->a.npos ? json_pack("{ss}", "target", c->a.pos[0]) : NULL;

	return run_and_print(c, "alua_list", p, print_alua);
}

static int c_alua_set(struct ctx *c)
{
	json_int_t tag;
	int rc;

	if ((rc = arg_int(c, "TAG", c->a.pos[1], &tag)))
		return rc;
	return run_and_print(c, "alua_set", json_pack("{ss sI ss}", "target", c->a.pos[0],
							"tag", tag, "state", c->a.pos[2]), NULL);
}

static void print_ana(json_t *list)
{
	size_t i, j;
	json_t *g, *p;

	printf("%6s  %-16s %8s  %s\n", "GROUP", "STATE", "CHANGES", "PORTS");
	json_array_foreach(list, i, g) {
		printf("%6lld  %-16s %8lld  ", num(g, "group"), str(g, "state"),
		       num(g, "change_count"));
		json_array_foreach(json_object_get(g, "ports"), j, p)
			printf("%s%s", j ? ", " : "", json_string_value(p));
		printf("\n");
	}
}

static int c_ana_list(struct ctx *c)
{
	return run_and_print(c, "ana_list", NULL, print_ana);
}

static int c_ana_set(struct ctx *c)
{
	json_int_t group;
	int rc;

	if ((rc = arg_int(c, "GROUP", c->a.pos[0], &group)))
		return rc;
	return run_and_print(c, "ana_set", json_pack("{sI ss}", "group", group, "state",
						      c->a.pos[1]), NULL);
}

static void print_nvmf_ports(json_t *list)
{
	size_t i;
	json_t *p;

	printf("%-34s %6s %6s  %-16s %10s %10s %10s\n", "PORT", "PORTID", "GROUP", "ANA STATE",
	       "READS", "WRITES", "REFUSED");
	json_array_foreach(list, i, p)
		printf("%-34s %6lld %6lld  %-16s %10lld %10lld %10lld\n", str(p, "address"),
		       num(p, "portid"), num(p, "ana_group"), str(p, "ana_state"),
		       num(p, "read_cmds"), num(p, "write_cmds"), num(p, "ana_refused"));
}

static int c_nvmf_port_list(struct ctx *c)
{
	return run_and_print(c, "nvmf_port_list", NULL, print_nvmf_ports);
}

static int c_nvmf_port_remove(struct ctx *c)
{
	return run_and_print(c, "nvmf_port_remove", json_pack("{ss}", "addr", c->a.pos[0]), NULL);
}

static void print_nvmf_port(json_t *p)
{
	json_t *list = json_array();

	json_array_append(list, p);
	print_nvmf_ports(list);
	json_decref(list);
}

static int c_nvmf_port_set(struct ctx *c)
{
	json_int_t group;
	int rc;

	if (!opt(c, "ana-group"))
		return usage_error(c, "nothing to set (--ana-group N)");
	if ((rc = arg_int(c, "--ana-group", opt(c, "ana-group"), &group)))
		return rc;
	return run_and_print(c, "nvmf_port_set", json_pack("{ss sI}", "addr", c->a.pos[0],
							    "ana_group", group), print_nvmf_port);
}

static void print_subsystems(json_t *list)
{
	size_t i, j;
	json_t *s, *x;

	json_array_foreach(list, i, s) {
		printf("%s  serial %s  model \"%s\"  controllers %lld\n", str(s, "nqn"),
		       str(s, "serial"), str(s, "model"), num(s, "controllers"));
		if (json_is_true(json_object_get(s, "allow_any_host")))
			printf("  hosts: any\n");
		else
			json_array_foreach(json_object_get(s, "hosts"), j, x)
				printf("  host %s\n", json_string_value(x));
		json_array_foreach(json_object_get(s, "namespaces"), j, x)
			printf("  namespace %lld  nguid %s  %lld bytes, blocks of %lld\n",
			       num(x, "nsid"), str(x, "nguid"), num(x, "size"),
			       num(x, "block_size"));
	}
}

static int c_subsystem_list(struct ctx *c)
{
	return run_and_print(c, "nvmf_subsystem_list", NULL, print_subsystems);
}

static void print_controllers(json_t *list)
{
	size_t i;
	json_t *x;

	if (json_array_size(list) == 0) {
		printf("no controllers\n");
		return;
	}
	printf("%-40s %6s  %-10s %-28s %5s %6s  %s\n", "SUBSYSTEM", "CNTLID", "STATE", "PORT",
	       "GROUP", "QUEUES", "HOST");
	json_array_foreach(list, i, x)
		printf("%-40s %6lld  %-10s %-28s %5lld %6lld  %s\n", str(x, "subsystem"),
		       num(x, "cntlid"), str(x, "state"), str(x, "port"), num(x, "ana_group"),
		       num(x, "queues"), str(x, "host"));
}

static int c_controller_list(struct ctx *c)
{
	return run_and_print(c, "nvmf_controller_list", NULL, print_controllers);
}

static int c_lun_add(struct ctx *c)
{
	static const char *const strs[] = { "vendor", "product", "serial" };
	json_int_t id;
	json_t *p;
	int rc;

	if ((rc = arg_int(c, "ID", c->a.pos[1], &id)))
		return rc;
	p = json_pack("{ss sI ss}", "target", c->a.pos[0], "id", id, "backend", c->a.pos[2]);
	for (size_t i = 0; i < 3; i++)
		if (opt(c, strs[i]))
			json_object_set_new(p, strs[i], json_string(opt(c, strs[i])));
	if (opt(c, "write-protect"))
		json_object_set_new(p, "write_protect", json_true());
	return run_and_print(c, "lun_add", p, NULL);
}

static int c_lun_remove(struct ctx *c)
{
	json_int_t id;
	int rc;

	if ((rc = arg_int(c, "ID", c->a.pos[1], &id)))
		return rc;
	return run_and_print(c, "lun_remove", json_pack("{ss sI}", "target", c->a.pos[0],
							  "id", id), NULL);
}

static int c_acl_add(struct ctx *c)
{
	const char *user = opt(c, "chap-user"), *secret = opt(c, "chap-secret");
	const char *muser = opt(c, "mutual-user"), *msecret = opt(c, "mutual-secret");
	json_t *p;

	if (!user != !secret)
		return usage_error(c, "--chap-user and --chap-secret go together");
	if (!muser != !msecret)
		return usage_error(c, "--mutual-user and --mutual-secret go together");
	if (muser && !user)
		return usage_error(c, "mutual CHAP needs --chap-user and --chap-secret too");
	p = json_pack("{ss ss}", "target", c->a.pos[0], "initiator", c->a.pos[1]);
	if (user) {
		json_t *chap = json_pack("{ss ss}", "user", user, "secret", secret);

		if (muser) {
			json_object_set_new(chap, "mutual_user", json_string(muser));
			json_object_set_new(chap, "mutual_secret", json_string(msecret));
		}
		json_object_set_new(p, "chap", chap);
	}
	return run_and_print(c, "acl_add", p, NULL);
}

static int c_acl_remove(struct ctx *c)
{
	return run_and_print(c, "acl_remove", json_pack("{ss ss}", "target", c->a.pos[0],
							  "initiator", c->a.pos[1]), NULL);
}

static int c_session_list(struct ctx *c)
{
	return run_and_print(c, "session_list", NULL, print_sessions);
}

static int c_srp_list(struct ctx *c)
{
	return run_and_print(c, "srp_channel_list", NULL, print_srp_channels);
}

/* --- stats ---------------------------------------------------------------------------------- */

/* One row of the table: the counters of a LUN or a session in one sample. */
struct stats_row {
	char name[512];
	uint64_t cmds[TT_IO_OPS], bytes[2], errors;
	struct tt_iostat_hist io; /* reads and writes together */
};

static void hist_from_json(json_t *h, struct tt_iostat_hist *out)
{
	size_t i;
	json_t *b;

	out->count += (uint64_t)num(h, "commands");
	out->sum_ns += (uint64_t)num(h, "sum_ns");
	json_array_foreach(json_object_get(h, "buckets"), i, b) {
		long long idx = json_integer_value(json_array_get(b, 0));

		if (idx >= 0 && idx < TT_IOSTAT_BUCKETS)
			out->buckets[idx] += (uint64_t)json_integer_value(json_array_get(b, 1));
	}
}

static void row_from_json(json_t *o, struct stats_row *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned op = 0; op < TT_IO_OPS; op++) {
		json_t *h = json_object_get(o, tt_io_op_name(op));

		r->cmds[op] = (uint64_t)num(h, "commands");
		if (op < 2) {
			r->bytes[op] = (uint64_t)num(h, "bytes");
			hist_from_json(h, &r->io);
		}
	}
	r->errors = (uint64_t)num(o, "errors");
}

/* The rows of a sample: LUNs, then sessions. */
static size_t rows_from_json(json_t *s, struct stats_row **out)
{
	json_t *luns = json_object_get(s, "luns"), *sess = json_object_get(s, "sessions"), *o;
	size_t n = json_array_size(luns) + json_array_size(sess), k = 0, i;
	struct stats_row *rows = calloc(n ? n : 1, sizeof(*rows));

	if (!rows)
		return 0;
	json_array_foreach(luns, i, o) {
		row_from_json(o, &rows[k]);
		snprintf(rows[k++].name, sizeof(rows[0].name), "lun %s/%lld", str(o, "target"),
			 num(o, "lun"));
	}
	json_array_foreach(sess, i, o) {
		row_from_json(o, &rows[k]);
		snprintf(rows[k++].name, sizeof(rows[0].name), "session %lld %s", num(o, "id"),
			 str(o, "initiator"));
	}
	*out = rows;
	return k;
}

static uint64_t minus(uint64_t a, uint64_t b) { return a >= b ? a - b : a; }

/* Prints one sample: totals when @prev is NULL, else rates over @dt seconds. */
static void print_stats(struct stats_row *cur, size_t n, const struct stats_row *prev,
			size_t nprev, double dt)
{
	size_t w = 24;

	for (size_t i = 0; i < n; i++)
		if (strlen(cur[i].name) > w)
			w = strlen(cur[i].name);
	if (prev)
		printf("%-*s %9s %9s %8s %8s %7s %9s %9s\n", (int)w, "DEVICE", "r/s", "w/s", "rMB/s",
		       "wMB/s", "err/s", "avg_us", "p99_us");
	else
		printf("%-*s %9s %9s %8s %8s %7s %9s %9s  (since start)\n", (int)w, "DEVICE", "reads",
		       "writes", "rMB", "wMB", "errors", "avg_us", "p99_us");
	for (size_t i = 0; i < n; i++) {
		struct stats_row d = cur[i];
		const struct stats_row *p = NULL;
		double div = prev ? (dt > 0 ? dt : 1) : 1;
		char avg[16] = "-", p99[16] = "-";

		for (size_t j = 0; prev && j < nprev; j++)
			if (!strcmp(prev[j].name, cur[i].name))
				p = &prev[j];
		if (p) {
			for (unsigned op = 0; op < TT_IO_OPS; op++)
				d.cmds[op] = minus(cur[i].cmds[op], p->cmds[op]);
			for (unsigned k = 0; k < 2; k++)
				d.bytes[k] = minus(cur[i].bytes[k], p->bytes[k]);
			d.errors = minus(cur[i].errors, p->errors);
			tt_iostat_hist_delta(&d.io, &cur[i].io, &p->io);
		}
		if (d.io.count) {
			snprintf(avg, sizeof(avg), "%.1f", (double)d.io.sum_ns / (double)d.io.count / 1e3);
			snprintf(p99, sizeof(p99), "%.1f", (double)tt_iostat_percentile(&d.io, 0.99) / 1e3);
		}
		printf("%-*s %9.*f %9.*f %8.2f %8.2f %7.*f %9s %9s\n", (int)w, d.name,
		       prev ? 1 : 0, (double)d.cmds[TT_IO_READ] / div,
		       prev ? 1 : 0, (double)d.cmds[TT_IO_WRITE] / div,
		       (double)d.bytes[0] / 1e6 / div, (double)d.bytes[1] / 1e6 / div,
		       prev ? 1 : 0, (double)d.errors / div, avg, p99);
	}
	if (!n)
		printf("no LUNs and no sessions\n");
}

static volatile sig_atomic_t stats_stop;
static void on_stats_signal(int sig) { (void)sig; stats_stop = 1; }

static int c_stats(struct ctx *c)
{
	struct stats_row *prev = NULL;
	size_t nprev = 0;
	double watch = 0, tprev = 0;
	long count = 0;
	int rc = 0;

	for (int i = 0; i < c->a.nopts; i++) {
		const char *name = c->a.opts[i].name, *val = c->a.opts[i].val;
		char *end;

		if (!strcmp(name, "watch")) {
			watch = strtod(val, &end);
			if (*end || end == val || !(watch > 0 && watch <= 86400))
				return usage_error(c, "--watch needs a number of seconds");
		} else if (!strcmp(name, "count")) {
			count = strtol(val, &end, 10);
			if (*end || end == val || count < 1)
				return usage_error(c, "--count needs a positive number");
		}
	}
	if (!watch && !count)
		count = 1;
	if (!watch)
		watch = 1;
	signal(SIGINT, on_stats_signal);
	signal(SIGTERM, on_stats_signal);
	for (long k = 0; !stats_stop && (count == 0 || k < count); k++) {
		json_t *res;
		struct stats_row *rows = NULL;
		size_t n;
		double t;

		if (k) {
			struct timespec ts = { (time_t)watch, (long)((watch - (double)(time_t)watch) * 1e9) };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stats_stop)
				;
			if (stats_stop)
				break;
		}
		if ((rc = rpc_call(c, "stats", NULL, &res)))
			break;
		if (c->json) {
			char *s = json_dumps(res, (count == 1 ? JSON_INDENT(2) : JSON_COMPACT) |
					     JSON_REAL_PRECISION(12));

			if (s)
				printf("%s\n", s);
			free(s);
			fflush(stdout);
			json_decref(res);
			continue;
		}
		t = json_real_value(json_object_get(res, "time"));
		n = rows_from_json(res, &rows);
		json_decref(res);
		if (k)
			printf("\n");
		print_stats(rows, n, k ? prev : NULL, nprev, t - tprev);
		fflush(stdout);
		free(prev);
		prev = rows;
		nprev = n;
		tprev = t;
	}
	free(prev);
	return rc;
}

/* Writes the running configuration to FILE (mode 0600: it holds CHAP secrets), atomically. */
static int c_save(struct ctx *c)
{
	const char *path = c->a.pos[0];
	char tmp[4096];
	json_t *cfg;
	char *text;
	int fd, rc;

	/* the secrets are asked for: the file must load again; it is created owner-only */
	if ((rc = rpc_call(c, "config_dump", json_pack("{sb}", "secrets", 1), &cfg)))
		return rc;
	text = json_dumps(cfg, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
	json_decref(cfg);
	if (!text)
		return error("out of memory");
	if (strcmp(path, "-") == 0) {
		printf("%s\n", text);
		free(text);
		return 0;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) {
		free(text);
		return error("%s: path too long", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = errno;
		free(text);
		return error("%s: %s", tmp, strerror(rc));
	}
	rc = 0;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0)
		rc = errno ? errno : EIO;
	if (close(fd) < 0 && !rc)
		rc = errno;
	free(text);
	if (!rc && rename(tmp, path) < 0)
		rc = errno;
	if (rc) {
		unlink(tmp);
		return error("%s: %s", path, strerror(rc));
	}
	return 0;
}

static void print_lines(FILE *f, json_t *list, const char *prefix)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		fprintf(f, "%s%s\n", prefix, json_string_value(v) ? json_string_value(v) : "");
}

/* A run that stopped midway: what was done (stdout) and what was not (stderr). */
static void print_apply_failure(json_t *err)
{
	json_t *data = json_object_get(err, "data");

	print_lines(stdout, json_object_get(data, "done"), "");
	print_lines(stderr, json_object_get(data, "not_done"), "not done: ");
}

/*
 * Sends FILE (the configuration file's schema) to config_apply: prints the changes made (or, with
 * --dry-run, the ones that would be), one per line, or "nothing to do".
 */
static int c_apply(struct ctx *c)
{
	const char *path = c->a.pos[0];
	bool dry = opt(c, "dry-run") != NULL;
	json_t *cfg, *params, *result;
	json_error_t jerr;
	int rc;

	if (strcmp(path, "-") == 0)
		cfg = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	else
		cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!cfg) {
		if (jerr.line > 0)
			return error("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return error("%s: %s", path, jerr.text);
	}
	params = json_pack("{so sb}", "config", cfg, "dry_run", dry);
	rc = rpc_call_data(c, "config_apply", params, &result, print_apply_failure);
	if (rc)
		return rc;
	if (c->json) {
		print_json(result);
	} else {
		json_t *list = json_object_get(result, dry ? "changes" : "done");

		if (json_array_size(list) == 0)
			printf("nothing to do\n");
		else
			print_lines(stdout, list, "");
	}
	json_decref(result);
	return 0;
}

static int c_log(struct ctx *c)
{
	json_t *p = json_object(), *debug = NULL, *nodebug = NULL;

	for (int i = 0; i < c->a.nopts; i++) {
		const char *name = c->a.opts[i].name, *val = c->a.opts[i].val;

		if (strcmp(name, "level") == 0) {
			json_object_set_new(p, "level", json_string(val));
		} else if (strcmp(name, "debug") == 0) {
			if (!debug)
				debug = json_array();
			json_array_append_new(debug, json_string(val));
		} else if (strcmp(name, "no-debug") == 0) {
			if (!nodebug)
				nodebug = json_array();
			json_array_append_new(nodebug, json_string(val));
		}
	}
	if (debug)
		json_object_set_new(p, "debug", debug);
	if (nodebug)
		json_object_set_new(p, "nodebug", nodebug);
	return run_and_print(c, "log_set", p, print_log);
}

static int c_shutdown(struct ctx *c)
{
	return run_and_print(c, "shutdown", NULL, NULL);
}

static int c_call(struct ctx *c)
{
	json_t *params = NULL, *result;
	json_error_t jerr;
	int rc;

	if (c->a.npos > 1) {
		params = json_loads(c->a.pos[1], 0, &jerr);
		if (!params)
			return usage_error(c, "JSON params: %s (column %d)", jerr.text, jerr.column);
	}
	if ((rc = rpc_call(c, c->a.pos[0], params, &result)))
		return rc;
	print_json(result);
	json_decref(result);
	return 0;
}

static const struct cmd commands[] = {
	{ "target", "create", 1, 1, "alias=", "target create NAME [--alias ALIAS]", c_target_create },
	{ "target", "delete", 1, 1, "", "target delete NAME", c_target_delete },
	{ "target", "list", 0, 1, "", "target list [NAME]", c_target_list },
	{ "tpg", "create", 2, 2,
	  "auth=,nop-interval=,nop-timeout=,login-timeout=,allow-any-initiator=,param=,portal=,"
	  "alua-state=",
	  "tpg create TARGET TAG [--auth none|chap] [--nop-interval S] [--nop-timeout S]\n"
	  "         [--login-timeout S] [--allow-any-initiator yes|no] [--param KEY=VALUE]...\n"
	  "         [--alua-state STATE] [--portal ADDR]...", c_tpg_create },
	{ "tpg", "delete", 2, 2, "", "tpg delete TARGET TAG", c_tpg_delete },
	{ "portal", "add", 3, 3, "", "portal add TARGET TAG ADDR[:PORT]", c_portal_add },
	{ "portal", "remove", 3, 3, "", "portal remove TARGET TAG ADDR[:PORT]", c_portal_remove },
	{ "portal", "list", 0, 1, "", "portal list [TARGET]", c_portal_list },
	{ "alua", "list", 0, 1, "", "alua list [TARGET]", c_alua_list },
	{ "alua", "set", 3, 3, "",
	  "alua set TARGET TAG active-optimized|active-non-optimized|standby|unavailable|\n"
	  "         transitioning", c_alua_set },
	{ "subsystem", "list", 0, 0, "", "subsystem list", c_subsystem_list },
	{ "controller", "list", 0, 0, "", "controller list", c_controller_list },
	{ "port", "list", 0, 0, "", "port list", c_nvmf_port_list },
	{ "port", "remove", 1, 1, "", "port remove ADDR", c_nvmf_port_remove },
	{ "port", "set", 1, 1, "ana-group=", "port set ADDR --ana-group N", c_nvmf_port_set },
	{ "ana", "list", 0, 0, "", "ana list", c_ana_list },
	{ "ana", "set", 2, 2, "",
	  "ana set GROUP optimized|non-optimized|inaccessible|persistent-loss|change", c_ana_set },
	{ "lun", "add", 3, 3, "vendor=,product=,serial=,write-protect",
	  "lun add TARGET ID BACKEND [--vendor V] [--product P] [--serial S] [--write-protect]",
	  c_lun_add },
	{ "lun", "remove", 2, 2, "", "lun remove TARGET ID", c_lun_remove },
	{ "acl", "add", 2, 2, "chap-user=,chap-secret=,mutual-user=,mutual-secret=",
	  "acl add TARGET INITIATOR [--chap-user U --chap-secret S\n"
	  "         [--mutual-user U --mutual-secret S]]", c_acl_add },
	{ "acl", "remove", 2, 2, "", "acl remove TARGET INITIATOR", c_acl_remove },
	{ "session", "list", 0, 0, "", "session list", c_session_list },
	{ "srp", "list", 0, 0, "", "srp list", c_srp_list },
	{ "stats", NULL, 0, 0, "watch=,count=",
	  "stats [--watch SECONDS [--count N]]",
	  c_stats },
	{ "save", NULL, 1, 1, "", "save FILE|-", c_save },
	{ "apply", NULL, 1, 1, "dry-run", "apply [--dry-run] FILE|-", c_apply },
	{ "log", NULL, 0, 0, "level=,debug=,no-debug=",
	  "log [--level err|warn|notice|info|debug] [--debug COMP]... [--no-debug COMP]...", c_log },
	{ "shutdown", NULL, 0, 0, "", "shutdown", c_shutdown },
	{ "call", NULL, 1, 2, "", "call METHOD [JSON-PARAMS]", c_call },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [-s SOCKET] [--json] [--timeout SECONDS] COMMAND [ARGS]\n\n"
		"Commands:\n", prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nThe socket is %s unless TETHER_RPC_SOCKET or -s says otherwise.\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n", TT_RPC_DEFAULT_SOCKET);
}

/* Does the command accept option @name; does it take a value? */
static bool option_known(const struct cmd *cmd, const char *name, bool *takes_value)
{
	size_t len = strlen(name);
	const char *p = cmd->opts;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool val = n && p[n - 1] == '=';

		if ((val ? n - 1 : n) == len && strncmp(p, name, len) == 0) {
			*takes_value = val;
			return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Splits the command's arguments into positionals and --options. */
static int parse_args(struct ctx *c, int argc, char **argv)
{
	bool only_pos = false;

	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		char name[32];
		const char *val = NULL, *eq;
		bool takes;

		if (only_pos || s[0] != '-' || s[1] == '\0' ||
		    (s[1] >= '0' && s[1] <= '9')) {
			if (c->a.npos >= MAX_POS || c->a.npos >= c->cmd->pos_max)
				return usage_error(c, "unexpected argument \"%s\"", s);
			c->a.pos[c->a.npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(s, "--json") == 0) {
			c->json = true;
			continue;
		}
		if (s[1] != '-')
			return usage_error(c, "unknown option \"%s\"", s);
		eq = strchr(s + 2, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - s - 2) : (int)strlen(s + 2),
			 s + 2);
		if (!option_known(c->cmd, name, &takes))
			return usage_error(c, "unknown option \"--%s\"", name);
		if (takes) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_error(c, "option --%s needs a value", name);
		} else if (eq) {
			return usage_error(c, "option --%s takes no value", name);
		}
		if (c->a.nopts >= MAX_OPTS)
			return usage_error(c, "too many options");
		snprintf(c->a.opts[c->a.nopts].name, sizeof(c->a.opts[0].name), "%s", name);
		c->a.opts[c->a.nopts].val = val;
		c->a.nopts++;
	}
	if (c->a.npos < c->cmd->pos_min)
		return usage_error(c, "missing argument%s", c->cmd->pos_min - c->a.npos > 1 ? "s" : "");
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c = { .timeout_ms = 30000 };
	const struct cmd *cmd = NULL;
	int i;

	c.socket = getenv("TETHER_RPC_SOCKET");
	if (!c.socket || !*c.socket)
		c.socket = TT_RPC_DEFAULT_SOCKET;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *s = argv[i];

		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(s, "--json")) {
			c.json = true;
		} else if (!strcmp(s, "-s") || !strcmp(s, "--socket")) {
			if (++i >= argc) {
				fprintf(stderr, "%s: %s needs a path\n", prog, s);
				return EXIT_USAGE;
			}
			c.socket = argv[i];
		} else if (!strncmp(s, "--socket=", 9)) {
			c.socket = s + 9;
		} else if (!strcmp(s, "-t") || !strcmp(s, "--timeout")) {
			char *end;
			double t;

			if (++i >= argc || (t = strtod(argv[i], &end)) <= 0 || *end || t > 86400) {
				fprintf(stderr, "%s: %s needs a number of seconds\n", prog, s);
				return EXIT_USAGE;
			}
			c.timeout_ms = (int)(t * 1000);
		} else {
			fprintf(stderr, "%s: unknown option \"%s\"\n", prog, s);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < NCOMMANDS; k++) {
		if (strcmp(commands[k].w1, argv[i]) != 0)
			continue;
		if (!commands[k].w2 || (i + 1 < argc && strcmp(commands[k].w2, argv[i + 1]) == 0)) {
			cmd = &commands[k];
			break;
		}
	}
	if (!cmd) {
		bool known = false;

		for (size_t k = 0; k < NCOMMANDS; k++)
			known |= strcmp(commands[k].w1, argv[i]) == 0;
		if (known)
			fprintf(stderr, "%s: unknown or missing subcommand for \"%s\"\n", prog, argv[i]);
		else
			fprintf(stderr, "%s: unknown command \"%s\"\n", prog, argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	c.cmd = cmd;
	i += cmd->w2 ? 2 : 1;
	{
		int rc = parse_args(&c, argc - i, argv + i);

		if (rc)
			return rc;
	}
	return cmd->run(&c);
}
