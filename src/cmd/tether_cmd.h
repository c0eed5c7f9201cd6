/* SPDX-License-Identifier: BSD-3-Clause */
/* The commands of the tether program (tether.c dispatches; one file each). Each returns the
 * exit status: 0 success, 1 failure, 2 usage error. @argv[0] is the command's name. */
#ifndef TT_CMD_TETHER_CMD_H
#define TT_CMD_TETHER_CMD_H

int tether_bench_main(int argc, char **argv);
int tether_attach_main(int argc, char **argv);
int tether_paths_main(int argc, char **argv);

#endif
