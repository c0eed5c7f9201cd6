/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging: component + object + message; per-component debug switchable at run time. */
#ifndef TT_BASE_LOG_H
#define TT_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum tt_log_level {
	TT_LOG_ERR = 3,
	TT_LOG_WARN = 4,
	TT_LOG_NOTICE = 5,
	TT_LOG_INFO = 6,
	TT_LOG_DEBUG = 7,
};

/* Messages above this level are dropped (default TT_LOG_NOTICE, env TETHER_LOG=debug|info|...). */
void tt_log_set_level(enum tt_log_level lvl);
enum tt_log_level tt_log_get_level(void);
/* Enable debug output for one component ("iscsi", "scsi", ...) or "all"; returns 0 or -errno. */
int tt_log_debug_enable(const char *component, bool on);
bool tt_log_debug_enabled(const char *component);
/* Parse "err", "warn", "notice", "info", "debug"; returns the level or -EINVAL. */
int tt_log_parse_level(const char *s);
/* Log to stderr (default) or, with a non-negative fd, to that fd. */
void tt_log_set_fd(int fd);

__attribute__((format(printf, 3, 4)))
void tt_log(enum tt_log_level lvl, const char *component, const char *fmt, ...);
void tt_vlog(enum tt_log_level lvl, const char *component, const char *fmt, va_list ap);

/* Rate-limited variant for the data path: at most @burst messages per second per call site. */
#define tt_log_ratelimited(lvl, comp, ...)                                     \
	do {                                                                   \
		static struct tt_ratelimit tt__rl = { .burst = 10 };           \
		if (tt_ratelimit_ok(&tt__rl))                                  \
			tt_log(lvl, comp, __VA_ARGS__);                        \
	} while (0)

#define tt_err(comp, ...)    tt_log(TT_LOG_ERR, comp, __VA_ARGS__)
#define tt_warn(comp, ...)   tt_log(TT_LOG_WARN, comp, __VA_ARGS__)
#define tt_notice(comp, ...) tt_log(TT_LOG_NOTICE, comp, __VA_ARGS__)
#define tt_info(comp, ...)   tt_log(TT_LOG_INFO, comp, __VA_ARGS__)
#define tt_debug(comp, ...)                                                    \
	do {                                                                   \
		if (tt_log_debug_enabled(comp))                                \
			tt_log(TT_LOG_DEBUG, comp, __VA_ARGS__);               \
	} while (0)

struct tt_ratelimit {
	unsigned burst;
	unsigned count;
	unsigned long long window_start_ns;
	unsigned suppressed;
};
bool tt_ratelimit_ok(struct tt_ratelimit *rl);

#endif
