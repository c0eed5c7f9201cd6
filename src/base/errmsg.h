/* SPDX-License-Identifier: BSD-3-Clause */
/* Error messages for callers: functions that fail return -errno and explain why in a buffer the
 * caller passes (err, errlen), naming the object and the problem. */
#ifndef TT_BASE_ERRMSG_H
#define TT_BASE_ERRMSG_H

#include <stddef.h>

/* Formats the message into @err (when @err is not NULL and @errlen > 0) and returns @rc. */
__attribute__((format(printf, 4, 5)))
int tt_errmsg(char *err, size_t errlen, int rc, const char *fmt, ...);

#endif
