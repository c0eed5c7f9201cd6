/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource limits: the values in force and the accounting against them (limits.h). Two small
 * hash tables under one mutex count the connections of each peer address before login and the
 * logged-in connections of each initiator name; an entry exists only while its count is not
 * zero, so a peer cannot make the tables grow beyond the connections it holds. Buffer bytes
 * are counted per session by the session's loop (no lock) and for the daemon atomically.
 */
#include "target/limits.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NBUCKETS 256

struct addr_key {
	uint8_t family;
	uint8_t addr[16];
};

struct entry {
	struct entry *next;
	uint32_t count;
	union {
		struct addr_key addr;
		char name[1];            /* initiator names: allocated to their length */
	} key;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_limits cur = {
	.max_connections = TT_LIMITS_MAX_CONNECTIONS,
	.max_prelogin_per_address = TT_LIMITS_MAX_PRELOGIN_PER_ADDRESS,
	.max_connections_per_initiator = TT_LIMITS_MAX_CONNECTIONS_PER_INITIATOR,
	.max_login_pdus = TT_LIMITS_MAX_LOGIN_PDUS,
	.max_login_text = TT_LIMITS_MAX_LOGIN_TEXT,
	.cmd_window = TT_LIMITS_CMD_WINDOW,
	.max_session_buffer = TT_LIMITS_MAX_SESSION_BUFFER,
	.max_buffer = TT_LIMITS_MAX_BUFFER,
};
/* under the lock */
static struct entry *addrs[NBUCKETS], *initiators[NBUCKETS];
static uint32_t nconns, naddrs, ninitiators;
static uint64_t refused_conns, refused_prelogin, refused_initiator;
/* atomic */
static uint64_t buf_held, refused_sbuf, refused_buf;

void tt_limits_defaults(struct tt_limits *l)
{
	*l = (struct tt_limits){
		.max_connections = TT_LIMITS_MAX_CONNECTIONS,
		.max_prelogin_per_address = TT_LIMITS_MAX_PRELOGIN_PER_ADDRESS,
		.max_connections_per_initiator = TT_LIMITS_MAX_CONNECTIONS_PER_INITIATOR,
		.max_login_pdus = TT_LIMITS_MAX_LOGIN_PDUS,
		.max_login_text = TT_LIMITS_MAX_LOGIN_TEXT,
		.cmd_window = TT_LIMITS_CMD_WINDOW,
		.max_session_buffer = TT_LIMITS_MAX_SESSION_BUFFER,
		.max_buffer = TT_LIMITS_MAX_BUFFER,
	};
}

void tt_limits_get(struct tt_limits *l)
{
	pthread_mutex_lock(&lock);
	*l = cur;
	pthread_mutex_unlock(&lock);
}

void tt_limits_set(const struct tt_limits *l)
{
	pthread_mutex_lock(&lock);
	/* fields read without the lock are stored atomically */
	__atomic_store_n(&cur.max_connections, l->max_connections, __ATOMIC_RELAXED);
	__atomic_store_n(&cur.max_prelogin_per_address, l->max_prelogin_per_address,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&cur.max_connections_per_initiator, l->max_connections_per_initiator,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&cur.max_login_pdus, l->max_login_pdus, __ATOMIC_RELAXED);
	__atomic_store_n(&cur.max_login_text, l->max_login_text, __ATOMIC_RELAXED);
	__atomic_store_n(&cur.cmd_window, l->cmd_window, __ATOMIC_RELAXED);
	__atomic_store_n(&cur.max_session_buffer, l->max_session_buffer, __ATOMIC_RELAXED);
	__atomic_store_n(&cur.max_buffer, l->max_buffer, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
}

uint32_t tt_limits_cmd_window(void) { return __atomic_load_n(&cur.cmd_window, __ATOMIC_RELAXED); }
uint32_t tt_limits_max_login_pdus(void)
{
	return __atomic_load_n(&cur.max_login_pdus, __ATOMIC_RELAXED);
}
uint32_t tt_limits_max_login_text(void)
{
	return __atomic_load_n(&cur.max_login_text, __ATOMIC_RELAXED);
}

/* ---- tables ---- */

static uint32_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static void addr_key(const struct sockaddr_storage *ss, struct addr_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(k->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(k->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* Where the entry of @k is, or would be linked (lock held). */
static struct entry **addr_slot(const struct addr_key *k)
{
	struct entry **pp = &addrs[hash_bytes(k, sizeof(*k)) % NBUCKETS];

	while (*pp && memcmp(&(*pp)->key.addr, k, sizeof(*k)))
		pp = &(*pp)->next;
	return pp;
}

/* iSCSI names compare without case (RFC 7143 §4.2.7.1): one initiator is one entry. */
static uint32_t hash_name(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)tolower((unsigned char)*name)) * 16777619u;
	return h;
}

static struct entry **name_slot(const char *name)
{
	struct entry **pp = &initiators[hash_name(name) % NBUCKETS];

	while (*pp && strcasecmp((*pp)->key.name, name))
		pp = &(*pp)->next;
	return pp;
}

/* Drops one count of *@pp, and the entry with its last (lock held). */
static void entry_drop(struct entry **pp, uint32_t *nentries)
{
	struct entry *e = *pp;

	if (!e || !e->count)
		return;
	if (--e->count == 0) {
		*pp = e->next;
		free(e);
		(*nentries)--;
	}
}

int tt_limits_conn_admit(const struct sockaddr_storage *peer)
{
	struct addr_key k;
	struct entry **pp, *e;
	int rc = 0;

	addr_key(peer, &k);
	pthread_mutex_lock(&lock);
	pp = addr_slot(&k);
	if (nconns >= cur.max_connections) {
		refused_conns++;
		rc = -EMFILE;
	} else if (*pp && (*pp)->count >= cur.max_prelogin_per_address) {
		refused_prelogin++;
		rc = -EAGAIN;
	} else if (!*pp) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			rc = -ENOMEM;
		} else {
			e->key.addr = k;
			*pp = e;
			naddrs++;
		}
	}
	if (rc == 0) {
		(*pp)->count++;
		nconns++;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void tt_limits_prelogin_end(const struct sockaddr_storage *peer)
{
	struct addr_key k;

	addr_key(peer, &k);
	pthread_mutex_lock(&lock);
	entry_drop(addr_slot(&k), &naddrs);
	pthread_mutex_unlock(&lock);
}

void tt_limits_conn_end(void)
{
	pthread_mutex_lock(&lock);
	if (nconns)
		nconns--;
	pthread_mutex_unlock(&lock);
}

int tt_limits_initiator_add(const char *initiator)
{
	size_t len = strlen(initiator);
	struct entry **pp, *e;
	int rc = 0;

	pthread_mutex_lock(&lock);
	pp = name_slot(initiator);
	if (*pp && (*pp)->count >= cur.max_connections_per_initiator) {
		refused_initiator++;
		rc = -EUSERS;
	} else if (!*pp) {
		e = calloc(1, sizeof(*e) + len);
		if (!e) {
			rc = -ENOMEM;
		} else {
			memcpy(e->key.name, initiator, len + 1);
			*pp = e;
			ninitiators++;
		}
	}
	if (rc == 0)
		(*pp)->count++;
	pthread_mutex_unlock(&lock);
	return rc;
}

void tt_limits_initiator_del(const char *initiator)
{
	pthread_mutex_lock(&lock);
	entry_drop(name_slot(initiator), &ninitiators);
	pthread_mutex_unlock(&lock);
}

uint32_t tt_limits_prelogin_count(const struct sockaddr_storage *peer)
{
	struct addr_key k;
	uint32_t n;

	addr_key(peer, &k);
	pthread_mutex_lock(&lock);
	n = *addr_slot(&k) ? (*addr_slot(&k))->count : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

uint32_t tt_limits_initiator_count(const char *initiator)
{
	uint32_t n;

	pthread_mutex_lock(&lock);
	n = *name_slot(initiator) ? (*name_slot(initiator))->count : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

/* ---- buffers ---- */

int tt_limits_buf_charge(uint64_t *session_held, uint64_t bytes)
{
	uint64_t max_s = __atomic_load_n(&cur.max_session_buffer, __ATOMIC_RELAXED);
	uint64_t max_g = __atomic_load_n(&cur.max_buffer, __ATOMIC_RELAXED);
	uint64_t now;

	if (bytes > max_s || *session_held > max_s - bytes) {
		__atomic_fetch_add(&refused_sbuf, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	now = __atomic_add_fetch(&buf_held, bytes, __ATOMIC_RELAXED);
	if (now > max_g || now < bytes) {
		__atomic_fetch_sub(&buf_held, bytes, __ATOMIC_RELAXED);
		__atomic_fetch_add(&refused_buf, 1, __ATOMIC_RELAXED);
		return -EBUSY;
	}
	*session_held += bytes;
	return 0;
}

void tt_limits_buf_uncharge(uint64_t *session_held, uint64_t bytes)
{
	*session_held -= bytes < *session_held ? bytes : *session_held;
	__atomic_fetch_sub(&buf_held, bytes, __ATOMIC_RELAXED);
}

void tt_limits_usage(struct tt_limits_usage *u)
{
	pthread_mutex_lock(&lock);
	u->connections = nconns;
	u->addresses = naddrs;
	u->initiators = ninitiators;
	u->refused_connections = refused_conns;
	u->refused_prelogin = refused_prelogin;
	u->refused_initiator = refused_initiator;
	pthread_mutex_unlock(&lock);
	u->buffer = __atomic_load_n(&buf_held, __ATOMIC_RELAXED);
	u->refused_session_buffer = __atomic_load_n(&refused_sbuf, __ATOMIC_RELAXED);
	u->refused_buffer = __atomic_load_n(&refused_buf, __ATOMIC_RELAXED);
}
