/* redis.c - ceiling-redis: one blocking hiredis GET of a fixed key per request,
 * answering the value. Each pool thread keeps its own connection (a thread-specific
 * slot, freed when the thread ends), opened on first use and after an error.
 *
 *   ceiling-redis [PORT [REDIS_HOST [REDIS_PORT [KEY]]]]
 *   (or $PORT, $REDIS_HOST, $REDIS_PORT, $CEILING_REDIS_KEY; defaults 127.0.0.1,
 *   6379, craftista:bench:ceiling)
 */
#include "ceiling.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#define TIMEOUT_MS 1000

struct redis_ceiling {
	const char *host;
	unsigned port;
	const char *key;
	pthread_key_t slot; /* this thread's redisContext */
};

static void free_context(void *c)
{
	redisFree(c);
}

/* This thread's connection, opened when missing or broken; NULL when Redis is
 * unreachable (the next request tries again). */
static redisContext *thread_context(struct redis_ceiling *rc)
{
	redisContext *c = pthread_getspecific(rc->slot);
	if (c && !c->err)
		return c;
	redisFree(c);
	pthread_setspecific(rc->slot, NULL);
	struct timeval tv = {.tv_sec = TIMEOUT_MS / 1000, .tv_usec = (TIMEOUT_MS % 1000) * 1000};
	c = redisConnectWithTimeout(rc->host, (int)rc->port, tv);
	if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		fprintf(stderr, "ceiling-redis: cannot connect to %s:%u: %s\n", rc->host, rc->port,
			c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	pthread_setspecific(rc->slot, c);
	return c;
}

static enum MHD_Result redis_get(void *ctx, struct MHD_Connection *conn)
{
	static const char DOWN[] = "{\"error\":\"redis unavailable\"}";
	static const char UNSET[] = "{\"error\":\"key not set\"}";
	redisContext *c = thread_context(ctx);
	if (!c)
		return ceiling_reply(conn, MHD_HTTP_BAD_GATEWAY, DOWN, sizeof(DOWN) - 1);
	const struct redis_ceiling *rc = ctx;
	redisReply *r = redisCommand(c, "GET %s", rc->key);
	enum MHD_Result result;
	if (r && r->type == REDIS_REPLY_STRING)
		result = ceiling_reply(conn, MHD_HTTP_OK, r->str, r->len);
	else if (r && r->type == REDIS_REPLY_NIL)
		result = ceiling_reply(conn, MHD_HTTP_NOT_FOUND, UNSET, sizeof(UNSET) - 1);
	else
		result = ceiling_reply(conn, MHD_HTTP_BAD_GATEWAY, DOWN, sizeof(DOWN) - 1);
	freeReplyObject(r);
	return result;
}

int main(int argc, char **argv)
{
	struct redis_ceiling rc = {
	    .host = ceiling_arg(argc, argv, 2, "REDIS_HOST", "127.0.0.1"),
	    .port =
		ceiling_parse_port(ceiling_arg(argc, argv, 3, "REDIS_PORT", "6379"), "REDIS_PORT"),
	    .key = ceiling_arg(argc, argv, 4, "CEILING_REDIS_KEY", "craftista:bench:ceiling"),
	};
	unsigned port = ceiling_parse_port(ceiling_arg(argc, argv, 1, "PORT", NULL), "PORT");
	if (pthread_key_create(&rc.slot, free_context) != 0) {
		fprintf(stderr, "ceiling-redis: pthread_key_create failed\n");
		return EXIT_FAILURE;
	}
	int status = ceiling_serve("ceiling-redis", port, redis_get, &rc);
	pthread_key_delete(rc.slot);
	return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
