/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource limits against a hostile peer (docs/security.md): how many connections the daemon,
 * one peer address (before login) and one initiator name may hold, how long a login may go on,
 * how many commands a session may have outstanding, and how much buffer memory the commands of
 * one session and of the whole daemon may hold.
 *
 * The values are global settings (global.max_* in the configuration file), changed at run time
 * by tt_limits_set (tetherctl apply); a change applies to what is admitted from then on, never
 * to what is held already. The accounting is thread-safe: connections of every loop count
 * against the same tables.
 */
#ifndef TT_TARGET_LIMITS_H
#define TT_TARGET_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define TT_LIMITS_MAX_CONNECTIONS 4096u
#define TT_LIMITS_MAX_PRELOGIN_PER_ADDRESS 64u
#define TT_LIMITS_MAX_CONNECTIONS_PER_INITIATOR 64u
#define TT_LIMITS_MAX_LOGIN_PDUS 64u
#define TT_LIMITS_MAX_LOGIN_TEXT 65536u
#define TT_LIMITS_CMD_WINDOW 128u
#define TT_LIMITS_MAX_SESSION_BUFFER (256ull << 20)
#define TT_LIMITS_MAX_BUFFER (2ull << 30)

struct tt_limits {
	uint32_t max_connections;               /* connections of the daemon, all states */
	uint32_t max_prelogin_per_address;      /* of one peer address, login not complete */
	uint32_t max_connections_per_initiator; /* logged in, all sessions of one initiator name */
	uint32_t max_login_pdus;                /* Login Requests in one login */
	uint32_t max_login_text;                /* bytes of login text in one login */
	uint32_t cmd_window;                    /* commands one session may have outstanding */
	uint64_t max_session_buffer;            /* bytes of command buffers held by one session */
	uint64_t max_buffer;                    /* bytes of command buffers held by the daemon */
};

void tt_limits_defaults(struct tt_limits *l);
/* The limits in force (a copy), and a new set for what is admitted from now on. */
void tt_limits_get(struct tt_limits *l);
void tt_limits_set(const struct tt_limits *l);
/* One limit in force, read without the lock (a relaxed load). */
uint32_t tt_limits_cmd_window(void);
uint32_t tt_limits_max_login_pdus(void);
uint32_t tt_limits_max_login_text(void);

/*
 * A new connection from @peer (only its address counts, not its port). Returns 0 (admitted:
 * it holds one of max_connections and one pre-login place of its address), -EMFILE
 * (max_connections reached) or -EAGAIN (max_prelogin_per_address reached for the address).
 */
int tt_limits_conn_admit(const struct sockaddr_storage *peer);
/* The connection admitted for @peer completed its login or went: its pre-login place is free. */
void tt_limits_prelogin_end(const struct sockaddr_storage *peer);
/* An admitted connection was released. */
void tt_limits_conn_end(void);

/* A connection of @initiator completes its login: 0, or -EUSERS when the initiator already
 * holds max_connections_per_initiator. tt_limits_initiator_del when it goes. */
int tt_limits_initiator_add(const char *initiator);
void tt_limits_initiator_del(const char *initiator);

/*
 * A command asks for a buffer of @bytes. *@session_held (owned by the session's loop) is what
 * its session holds. Returns 0 (charged to both), -ENOSPC (the session would exceed
 * max_session_buffer: TASK SET FULL) or -EBUSY (the daemon would exceed max_buffer: BUSY).
 */
int tt_limits_buf_charge(uint64_t *session_held, uint64_t bytes);
void tt_limits_buf_uncharge(uint64_t *session_held, uint64_t bytes);

/* Counters, for tests and the control socket. */
struct tt_limits_usage {
	uint32_t connections;       /* admitted and not released */
	uint32_t addresses;         /* peer addresses with a connection before login */
	uint32_t initiators;        /* initiator names with a logged-in connection */
	uint64_t buffer;            /* bytes of command buffers held */
	uint64_t refused_connections, refused_prelogin, refused_initiator;
	uint64_t refused_session_buffer, refused_buffer;
};
void tt_limits_usage(struct tt_limits_usage *u);
/* Pre-login connections of @peer's address and logged-in connections of @initiator now. */
uint32_t tt_limits_prelogin_count(const struct sockaddr_storage *peer);
uint32_t tt_limits_initiator_count(const char *initiator);

#endif
