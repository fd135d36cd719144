/* ceiling.c - the daemon, arguments and signals the ceiling servers share. */
#include "ceiling.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS     256
#define MAX_CONNECTIONS 4096
#define CONN_TIMEOUT_S  30

struct server {
	ceiling_handler handler;
	void *ctx;
};

const char *ceiling_arg(int argc, char **argv, int index, const char *env, const char *fallback)
{
	if (index < argc && argv[index][0])
		return argv[index];
	const char *value = env ? getenv(env) : NULL;
	return value && value[0] ? value : fallback;
}

unsigned ceiling_parse_port(const char *text, const char *what)
{
	char *end = NULL;
	errno = 0;
	long port = text ? strtol(text, &end, 10) : 0;
	if (!text || errno || end == text || *end || port < 1 || port > 65535) {
		fprintf(stderr, "%s: not a TCP port: %s\n", what, text ? text : "(missing)");
		exit(2);
	}
	return (unsigned)port;
}

static unsigned pool_size(void)
{
	const char *text = getenv("THREADS");
	if (text && text[0]) {
		char *end = NULL;
		long n = strtol(text, &end, 10);
		if (*end == '\0' && n > 0 && n <= MAX_THREADS)
			return (unsigned)n;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (unsigned)cores : 2u;
}

enum MHD_Result ceiling_reply(struct MHD_Connection *conn, unsigned status, const char *body,
			      size_t len)
{
	/* MUST_COPY: the bytes are copied, never written through the non-const pointer. */
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* libmicrohttpd calls this at least twice per request: the first call only marks the
 * connection (queueing there would turn keep-alive off in 0.9.75), later calls drain
 * any body, and the call with no body left answers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	const struct server *srv = cls;
	if (!*con_cls) {
		*con_cls = conn;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	return srv->handler(srv->ctx, conn);
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int ceiling_serve(const char *name, unsigned port, ceiling_handler handler, void *ctx)
{
	sigset_t set;
	block_signals(&set); /* before the pool starts, so its threads inherit the mask */
	struct server srv = {.handler = handler, .ctx = ctx};
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	unsigned threads = pool_size();
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    on_request, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "%s: cannot listen on 127.0.0.1:%u\n", name, port);
		return -1;
	}
	fprintf(stderr, "%s: listening on 127.0.0.1:%u with %u threads\n", name, port, threads);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(d);
	fprintf(stderr, "%s: stopped (signal %d)\n", name, sig);
	return 0;
}
