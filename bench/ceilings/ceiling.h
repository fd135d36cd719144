/* ceiling.h - what the ceiling servers share: the services' threading model on
 * libmicrohttpd (internal polling thread + epoll, a thread pool of one thread per
 * core, the response queued on the handler's second call so keep-alive stays on),
 * argument handling, and a clean stop on SIGINT/SIGTERM.
 *
 * A ceiling is the fastest a minimal server can answer with a given amount of
 * work per request; bench/run.sh measures our endpoints against it.
 */
#ifndef CEILING_H
#define CEILING_H

#include <stddef.h>

#include <microhttpd.h>

/* Answers one request; called once per request, after the headers (and any body)
 * have arrived. Must queue a response (ceiling_reply) and return its result. */
typedef enum MHD_Result (*ceiling_handler)(void *ctx, struct MHD_Connection *conn);

/* Positional argument `index` of argv when present, else the environment variable
 * `env` when set and non-empty, else `fallback`. Never copies. */
const char *ceiling_arg(int argc, char **argv, int index, const char *env, const char *fallback);

/* A TCP port (1..65535) from `text`; exits with a message naming `what` otherwise. */
unsigned ceiling_parse_port(const char *text, const char *what);

/* Queue `body` (copied, `len` bytes) as an application/json response with `status`.
 * Returns libmicrohttpd's result of queueing it. */
enum MHD_Result ceiling_reply(struct MHD_Connection *conn, unsigned status, const char *body,
			      size_t len);

/* Serve on 127.0.0.1:`port` with `handler` (given `ctx`) until SIGINT or SIGTERM,
 * then stop the daemon (joining its threads). The pool has $THREADS threads, or one
 * per core when THREADS is unset or 0. Returns 0 after a clean stop, -1 when the
 * server cannot start (a message is on stderr). */
int ceiling_serve(const char *name, unsigned port, ceiling_handler handler, void *ctx);

#endif
