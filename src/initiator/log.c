/* SPDX-License-Identifier: BSD-3-Clause */
/* Log lines of a device: to the application's function, or to stderr (warnings and worse by
 * default). No process-wide state: the destination lives in the device's options. */
#include "initiator/initiator.h"

#include <stdarg.h>
#include <stdio.h>

void ti_log(const struct tether_opts *o, int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char msg[1024];
	va_list ap;

	if (!o || level > o->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->log_fn)
		o->log_fn(level, msg, o->log_arg);
	else
		fprintf(stderr, "libtether: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level],
			msg);
}
