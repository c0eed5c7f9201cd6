/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tether: the command line of libtether, the iSCSI initiator with multipath.
 *	tether discover URL                      SendTargets through a portal
 *	tether bench [OPTIONS] URL [URL...]      I/O load, latency, stalls, data verification
 *	tether attach [OPTIONS] MOUNTPOINT URL...   the unit as the file MOUNTPOINT/disk (FUSE)
 *	tether paths [SOCKET]                    the paths of running tether programs
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tether/version.h"
#include "tether_cmd.h"
#include "tool.h"

#define PROG "tether discover"

static void usage(FILE *f)
{
	fprintf(f,
"usage: tether COMMAND [ARGS]\n"
"Commands:\n"
"  discover [-o NAME=VALUE]... URL   list the targets and addresses a portal offers\n"
"                                    (URL: iscsi://host[:port])\n"
"  bench [OPTIONS] URL [URL...]      asynchronous I/O load with latency, stalls and\n"
"                                    --verify (tether bench --help)\n"
"  attach [OPTIONS] MOUNTPOINT URL [URL...]\n"
"                                    the logical unit as the file MOUNTPOINT/disk (FUSE)\n"
"  paths [--json] [SOCKET]           paths of the running tether programs\n"
"  help, --help, --version\n"
"Manual page: tether(1).\n");
}

struct discover_out {
	int n;
};

static void on_target(const char *target, const char *address, void *arg)
{
	struct discover_out *o = arg;

	printf("%s %s\n", target, address);
	o->n++;
}

static int discover_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "opt", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct tool_dev_args a = { .nurls = 0 };
	struct discover_out out = { 0 };
	char err[512] = "";
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (tool_set_opt(&a, PROG, optarg) < 0) {
				tool_args_free(&a);
				return 2;
			}
			break;
		case 'h':
			printf("usage: tether discover [-o NAME=VALUE]... iscsi://host[:port]\n"
			       "Prints one line per target and address: TARGET ADDRESS,TPGT\n");
			tool_args_free(&a);
			return 0;
		default:
			tool_args_free(&a);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: tether discover [-o NAME=VALUE]... iscsi://host[:port]\n");
		tool_args_free(&a);
		return 2;
	}
	rc = tether_discover(argv[optind], a.opts, on_target, &out, err, sizeof(err));
	tool_args_free(&a);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s\n", PROG, argv[optind], *err ? err : strerror(-rc));
		return 1;
	}
	if (out.n == 0)
		fprintf(stderr, "%s: %s offers no target\n", PROG, argv[optind]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("tether %s\n", TETHER_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "discover"))
		return discover_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return tether_bench_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "attach"))
		return tether_attach_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "paths"))
		return tether_paths_main(argc - 1, argv + 1);
	fprintf(stderr, "tether: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
