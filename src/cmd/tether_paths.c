/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tether paths [--json] [SOCKET]: asks the control socket of a running tether program (or of
 * every one in the default directory) for its paths, and prints them.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "tether_cmd.h"
#include "tool.h"

#define PROG "tether paths"
#define PATHS_TIMEOUT_MS 3000

/* Sends the request and reads the answer; -ECONNREFUSED for a socket nobody serves. */
static int ask(const char *path, json_t **out, char *err, size_t errsize)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "{\"method\":\"paths\"}\n";
	uint64_t deadline = tool_now_ns() + PATHS_TIMEOUT_MS * 1000000ull;
	size_t len = 0, cap = 65536;
	char *buf;
	json_error_t jerr;
	int fd, rc = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsize, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0) {
		rc = -errno;
		snprintf(err, errsize, "%s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, tool_ms_until(deadline)) <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len + 1 >= cap) {
			rc = -EMSGSIZE;
			break;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (rc == 0) {
		*out = json_loads(buf, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!*out)
			rc = -EBADMSG;
	}
	if (rc < 0)
		snprintf(err, errsize, "%s: %s", path, rc == -EBADMSG ? "the answer is not JSON" :
			 strerror(-rc));
	free(buf);
	return rc;
}

static void print_one(json_t *o)
{
	json_t *paths = json_object_get(o, "paths"), *p;
	size_t i;
	int live = 0;

	json_array_foreach(paths, i, p)
		live += strcmp(json_string_value(json_object_get(p, "state")) ?: "", "live") == 0;
	printf("%s pid %" JSON_INTEGER_FORMAT " (%s): %s, %" JSON_INTEGER_FORMAT " bytes, %d of %zu "
	       "paths live\n",
	       json_string_value(json_object_get(o, "program")) ?: "?",
	       json_integer_value(json_object_get(o, "pid")),
	       json_string_value(json_object_get(o, "socket")) ?: "?",
	       json_string_value(json_object_get(o, "lu_id")) ?: "?",
	       json_integer_value(json_object_get(o, "size")), live, json_array_size(paths));
	printf("  %-50s %-10s %-22s %4s %10s %7s %7s %8s %8s\n", "URL", "STATE", "ALUA", "TPG",
	       "IOS", "ERRORS", "RETRIED", "FAILURES", "INFLIGHT");
	json_array_foreach(paths, i, p)
		printf("  %-50s %-10s %-22s %4" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT
		       " %7" JSON_INTEGER_FORMAT " %7" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
		       " %8" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(p, "url")) ?: "?",
		       json_string_value(json_object_get(p, "state")) ?: "?",
		       json_string_value(json_object_get(p, "alua")) ?: "?",
		       json_integer_value(json_object_get(p, "tpg")),
		       json_integer_value(json_object_get(p, "ios")),
		       json_integer_value(json_object_get(p, "errors")),
		       json_integer_value(json_object_get(p, "retried")),
		       json_integer_value(json_object_get(p, "failures")),
		       json_integer_value(json_object_get(p, "inflight")));
}

int tether_paths_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char err[600], dir[256];
	json_t *all = json_array(), *o;
	bool json = false;
	int c, rc, failed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else {
			fprintf(c == 'h' ? stdout : stderr, "usage: tether paths [--json] [SOCKET]\n");
			json_decref(all);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "usage: tether paths [--json] [SOCKET]\n");
		json_decref(all);
		return 2;
	}
	if (optind < argc) {
		rc = ask(argv[optind], &o, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			json_decref(all);
			return 1;
		}
		json_array_append_new(all, o);
	} else {
		DIR *d;
		struct dirent *e;

		if (ctl_default_dir(dir, sizeof(dir), 0) < 0 || !(d = opendir(dir))) {
			if (!json)
				printf("no running tether program (no %s)\n", dir);
			else
				printf("[]\n");
			json_decref(all);
			return 0;
		}
		while ((e = readdir(d))) {
			char path[512];
			size_t n = strlen(e->d_name);

			/* PID.sock only: tetherd's own socket may share the directory */
			if (n < 6 || strcmp(e->d_name + n - 5, ".sock") != 0 ||
			    strspn(e->d_name, "0123456789") != n - 5)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			rc = ask(path, &o, err, sizeof(err));
			if (rc == -ECONNREFUSED || rc == -ENOENT)
				continue; /* left by a program that is gone */
			if (rc < 0) {
				fprintf(stderr, "%s: %s\n", PROG, err);
				failed = 1;
				continue;
			}
			json_array_append_new(all, o);
		}
		closedir(d);
	}
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (json_array_size(all) == 0) {
		printf("no running tether program\n");
	} else {
		size_t i;

		json_array_foreach(all, i, o)
			print_one(o);
	}
	json_decref(all);
	return failed;
}
