/* SPDX-License-Identifier: BSD-3-Clause */
#include "base/log.h"
#include "base/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TT_LOG_MAX_DEBUG 32

static enum tt_log_level log_level = TT_LOG_NOTICE;
static int log_fd = 2;
static int log_journal = -1;   /* log_fd is journald's stream: -1 not checked yet, 0, 1 */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char debug_comps[TT_LOG_MAX_DEBUG][16];
static bool debug_all;

static const char *const level_names[] = {
	[TT_LOG_ERR] = "err", [TT_LOG_WARN] = "warn", [TT_LOG_NOTICE] = "notice",
	[TT_LOG_INFO] = "info", [TT_LOG_DEBUG] = "debug",
};

void tt_log_set_level(enum tt_log_level lvl) { log_level = lvl; }
enum tt_log_level tt_log_get_level(void) { return log_level; }
void tt_log_set_fd(int fd)
{
	log_fd = fd < 0 ? 2 : fd;
	__atomic_store_n(&log_journal, -1, __ATOMIC_RELAXED);
}

/*
 * Whether log_fd is the stream systemd connected to the journal ($JOURNAL_STREAM is its
 * "device:inode"): then each line starts with its syslog priority, "<5>" (the levels are
 * syslog's), which journald takes as the message's priority, and without a timestamp, which
 * the journal keeps anyway. Elsewhere lines start with the time, in seconds since the epoch.
 */
static bool log_to_journal(void)
{
	const char *env;
	unsigned long long dev, ino;
	struct stat st;
	int j = __atomic_load_n(&log_journal, __ATOMIC_RELAXED);

	if (j >= 0) /* threads racing to the first line all find the same answer */
		return j;
	env = getenv("JOURNAL_STREAM");
	j = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && fstat(log_fd, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	__atomic_store_n(&log_journal, j, __ATOMIC_RELAXED);
	return j;
}

int tt_log_parse_level(const char *s)
{
	for (int i = TT_LOG_ERR; i <= TT_LOG_DEBUG; i++)
		if (level_names[i] && strcasecmp(s, level_names[i]) == 0)
			return i;
	return -EINVAL;
}

int tt_log_debug_enable(const char *component, bool on)
{
	int free_slot = -1;

	if (strcmp(component, "all") == 0) {
		debug_all = on;
		return 0;
	}
	if (strlen(component) >= sizeof(debug_comps[0]))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < TT_LOG_MAX_DEBUG; i++) {
		if (strcmp(debug_comps[i], component) == 0) {
			if (!on)
				debug_comps[i][0] = '\0';
			pthread_mutex_unlock(&log_lock);
			return 0;
		}
		if (!debug_comps[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (on && free_slot >= 0)
		snprintf(debug_comps[free_slot], sizeof(debug_comps[0]), "%s", component);
	pthread_mutex_unlock(&log_lock);
	return on && free_slot < 0 ? -ENOSPC : 0;
}

bool tt_log_debug_enabled(const char *component)
{
	if (log_level >= TT_LOG_DEBUG || debug_all)
		return true;
	for (int i = 0; i < TT_LOG_MAX_DEBUG; i++)
		if (debug_comps[i][0] && strcmp(debug_comps[i], component) == 0)
			return true;
	return false;
}

void tt_vlog(enum tt_log_level lvl, const char *component, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	int n, m;

	if (lvl > log_level && !(lvl == TT_LOG_DEBUG && tt_log_debug_enabled(component)))
		return;
	if (log_to_journal()) {
		n = snprintf(line, sizeof(line), "<%d>%s %s: ", (int)lvl,
			     level_names[lvl] ? level_names[lvl] : "?", component);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(line, sizeof(line), "%lld.%03ld %s %s: ", (long long)ts.tv_sec,
			     ts.tv_nsec / 1000000, level_names[lvl] ? level_names[lvl] : "?",
			     component);
	}
	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* one write() per line keeps lines from different threads whole */
	if (write(log_fd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

void tt_log(enum tt_log_level lvl, const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tt_vlog(lvl, component, fmt, ap);
	va_end(ap);
}

bool tt_ratelimit_ok(struct tt_ratelimit *rl)
{
	unsigned long long now = tt_now_ns();

	if (now - rl->window_start_ns > 1000000000ULL) {
		rl->window_start_ns = now;
		rl->count = 0;
	}
	return ++rl->count <= rl->burst;
}
