/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-thread pools of data buffers (task buffers for reads and writes): 4 KiB-aligned, in
 * power-of-two size classes from 4 KiB to 16 MiB. A buffer goes back to the pool of the thread
 * that frees it (each loop allocates and frees its own), so the data path takes no lock and no
 * system call once the pool is warm. The pool of a thread that runs or services loops is released
 * with its other caches (tt_loops_run_thread_exit() in base/loop.h): when a loop thread ends, when
 * a standalone loop is destroyed, when a thread that serviced a loop ends.
 */
#ifndef TT_BASE_BUFPOOL_H
#define TT_BASE_BUFPOOL_H

#include <stddef.h>

/* A buffer of at least @len bytes (4096-aligned, contents undefined), or NULL. *cap is set to
 * its real size, to be passed back to tt_buf_free. */
void *tt_buf_alloc(size_t len, size_t *cap);
void tt_buf_free(void *buf, size_t cap);
/* Bytes the calling thread's pool holds (at most 64 MiB). */
size_t tt_buf_pool_cached(void);
/* Frees the calling thread's cached buffers. */
void tt_buf_pool_drain(void);

#endif
