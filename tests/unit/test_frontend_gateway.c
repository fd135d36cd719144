/* test_frontend_gateway.c - the frontend's backend gateway without any
 * incoming request: the table, the one health rule, calls against a
 * libmicrohttpd server started in this process (headers sent, answers read),
 * and what the answers tell the status board. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "craft/arena.h"
#include "craft/common.h"
#include "craft/httpc.h"

#include "frontend/gateway.h"
#include "frontend/status.h"

#include "support.h"

/* ---- the rule and the table ---- */

static void test_rule(void **state)
{
	(void)state;
	json_t *healthy = json_pack("{s:s}", "status", "healthy");
	json_t *degraded = json_pack("{s:s}", "status", "degraded");
	json_t *unhealthy = json_pack("{s:s}", "status", "unhealthy");
	json_t *list = json_pack("[i]", 1);
	assert_true(backend_up(CRAFT_OK, 200, healthy));
	assert_true(backend_up(CRAFT_OK, 200, list)); /* not an object: nothing said */
	assert_true(backend_up(CRAFT_OK, 204, NULL));
	assert_true(backend_up(CRAFT_OK, 404, NULL)); /* answered: e.g. no origami today */
	assert_true(backend_up(CRAFT_OK, 401, NULL));
	assert_false(backend_up(CRAFT_OK, 200, degraded));
	assert_false(backend_up(CRAFT_OK, 503, unhealthy));
	assert_false(backend_up(CRAFT_OK, 500, NULL));
	assert_false(backend_up(CRAFT_OK, 503, healthy));
	assert_false(backend_up(CRAFT_EUNAVAIL, 0, NULL));
	assert_false(backend_up(CRAFT_ETIMEOUT, 200, healthy));
	json_decref(healthy);
	json_decref(degraded);
	json_decref(unhealthy);
	json_decref(list);
}

static void test_table(void **state)
{
	(void)state;
	for (int i = 0; i < BACKEND_COUNT; i++) {
		assert_non_null(backend_table[i].name);
		assert_non_null(backend_table[i].service);
		assert_int_equal(backend_table[i].health[0], '/');
		/* the message names the same backend as the dashboard */
		assert_non_null(strstr(backend_table[i].service, backend_table[i].name));
	}
	assert_string_equal(backend_table[BACKEND_CATALOGUE].name, "Catalogue");
	assert_string_equal(backend_table[BACKEND_VOTING].name, "Voting");
	assert_string_equal(backend_table[BACKEND_RECOMMENDATION].name, "Recommendation");
	assert_string_equal(backend_table[BACKEND_AUTHENTICATION].name, "Authentication");
}

/* ---- a backend in this process ---- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	return v ? v : "";
}

/* Echoes what it was sent; /fail answers 503 unhealthy, /busy 429. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)cls, (void)version, (void)upload;
	if (!*con_cls) {
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	unsigned status = strcmp(url, "/fail") == 0 ? 503 : strcmp(url, "/busy") == 0 ? 429 : 200;
	json_t *body = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s}", "status", status == 503 ? "unhealthy" : "healthy",
	    "method", method, "path", url, "auth", header(c, "Authorization"), "key",
	    header(c, "X-Internal-API-Key"), "xff", header(c, "X-Forwarded-For"));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (status == 429)
		MHD_add_response_header(r, "Retry-After", "7");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

struct fixture {
	struct MHD_Daemon *daemon;
	craft_httpc *http;
	struct status_board board;
	struct gateway g;
	char bases[BACKEND_COUNT][64];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fx->daemon = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler,
	    NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	assert_non_null(fx->daemon);
	unsigned port = MHD_get_daemon_info(fx->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	/* catalogue and voting behind one base (product); recommendation the same
	 * server under another name; authentication nowhere */
	snprintf(fx->bases[BACKEND_CATALOGUE], 64, "http://127.0.0.1:%u/", port);
	snprintf(fx->bases[BACKEND_VOTING], 64, "http://127.0.0.1:%u", port);
	snprintf(fx->bases[BACKEND_RECOMMENDATION], 64, "http://localhost:%u", port);
	snprintf(fx->bases[BACKEND_AUTHENTICATION], 64, "http://127.0.0.1:%u",
		 support_closed_port());
	struct craft_httpc_options opts = {.timeout_ms = 2000, .connect_timeout_ms = 500};
	assert_int_equal(craft_httpc_new(&opts, &fx->http), 0);
	assert_int_equal(craft_httpc_loop_start(fx->http, 0), 0);
	const char *const bases[BACKEND_COUNT] = {fx->bases[0], fx->bases[1], fx->bases[2],
						  fx->bases[3]};
	gateway_init(&fx->g, fx->http, bases, 2000, "internal-key-0123456789", &fx->board);
	assert_string_equal(fx->g.base[BACKEND_CATALOGUE], fx->bases[BACKEND_VOTING]);
	const char *const trimmed[BACKEND_COUNT] = {fx->g.base[0], fx->g.base[1], fx->g.base[2],
						    fx->g.base[3]};
	assert_int_equal(status_start(&fx->board, fx->http, trimmed, 60000, 1000), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	status_stop(&fx->board);
	craft_httpc_free(fx->http);
	MHD_stop_daemon(fx->daemon);
	free(fx);
	return 0;
}

/* The first probe round, over within the probe timeout. */
static struct status_view first_probe(struct status_board *b)
{
	struct status_view v;
	for (int i = 0; i < 500; i++) {
		status_read(b, &v);
		if (v.checked)
			return v;
		struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fail_msg("the prober never finished a round");
	return v;
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool over;
};

static void over(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->over = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Make one call and wait for it; the answer lives in `arena`. */
static const struct gateway_answer *call(struct fixture *fx, craft_arena *arena,
					 const struct gateway_call *c, struct gateway_exchange *x)
{
	struct waiter w = {.over = false};
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	gateway_start(&fx->g, arena, NULL, c, x, over, &w);
	pthread_mutex_lock(&w.mu);
	while (!w.over)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return gateway_answer(x, arena);
}

static const char *member(const struct gateway_answer *a, const char *name)
{
	return json_string_value(json_object_get(a->json, name));
}

static void test_calls_send_what_they_are_given(void **state)
{
	struct fixture *fx = *state;
	craft_arena *arena = craft_arena_new(0);
	struct gateway_exchange x;
	const struct gateway_call plain = {.backend = BACKEND_VOTING,
					   .path = "/api/origamis/3/votes",
					   .route = "/api/origamis/{id}/votes",
					   .bearer = "tok"};
	const struct gateway_answer *a = call(fx, arena, &plain, &x);
	assert_int_equal(a->status, 200);
	assert_true(a->ok);
	assert_true(a->up);
	assert_string_equal(member(a, "method"), "GET");
	assert_string_equal(member(a, "path"), "/api/origamis/3/votes");
	assert_string_equal(member(a, "auth"), "Bearer tok");
	assert_string_equal(member(a, "key"), ""); /* the key goes to internal calls only */
	assert_string_equal(member(a, "xff"), "");
	assert_string_equal(a->content_type, "application/json");
	assert_ptr_equal(gateway_answer(&x, arena), a); /* read once */

	struct gateway_exchange y;
	const struct gateway_call internal = {.backend = BACKEND_RECOMMENDATION,
					      .method = CRAFT_HTTPC_POST,
					      .path = "/busy",
					      .route = "/busy",
					      .json_body = "{\"a\":1}",
					      .client = "203.0.113.7"};
	a = call(fx, arena, &internal, &y);
	assert_int_equal(a->status, 429);
	assert_false(a->ok);
	assert_true(a->up); /* it answered: a refusal is not an outage */
	assert_string_equal(a->retry_after, "7");
	assert_string_equal(member(a, "method"), "POST");
	assert_string_equal(member(a, "key"), "internal-key-0123456789");
	assert_string_equal(member(a, "xff"), "203.0.113.7");
	assert_string_equal(member(a, "auth"), "");
	craft_arena_free(arena);
}

static void test_answers_tell_the_board(void **state)
{
	struct fixture *fx = *state;
	struct status_view v = first_probe(&fx->board);
	assert_true(v.up[BACKEND_CATALOGUE]);
	assert_true(v.up[BACKEND_VOTING]);
	assert_true(v.up[BACKEND_RECOMMENDATION]);
	assert_false(v.up[BACKEND_AUTHENTICATION]);
	uint64_t gen = v.generation;
	craft_arena *arena = craft_arena_new(0);
	struct gateway_exchange x[4];

	/* a 503 from product: both backends behind its base are down */
	const struct gateway_call fail = {.backend = BACKEND_CATALOGUE, .path = "/fail"};
	const struct gateway_answer *a = call(fx, arena, &fail, &x[0]);
	assert_int_equal(a->status, 503);
	assert_false(a->up);
	status_read(&fx->board, &v);
	assert_false(v.up[BACKEND_CATALOGUE]);
	assert_false(v.up[BACKEND_VOTING]);
	assert_true(v.up[BACKEND_RECOMMENDATION]); /* another base */
	assert_true(v.generation > gen);

	/* nothing listening: status 0, down */
	const struct gateway_call auth = {.backend = BACKEND_AUTHENTICATION, .path = "/x"};
	a = call(fx, arena, &auth, &x[1]);
	assert_int_equal(a->status, 0);
	assert_false(a->up);
	assert_null(a->json);

	/* product answers again: both back up, and an unchanged answer changes nothing */
	const struct gateway_call ok = {.backend = BACKEND_VOTING, .path = "/ok"};
	assert_true(call(fx, arena, &ok, &x[2])->up);
	status_read(&fx->board, &v);
	assert_true(v.up[BACKEND_CATALOGUE]);
	assert_true(v.up[BACKEND_VOTING]);
	gen = v.generation;
	assert_true(call(fx, arena, &ok, &x[3])->up);
	status_read(&fx->board, &v);
	assert_int_equal(v.generation, gen);
	craft_arena_free(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test_setup_teardown(test_calls_send_what_they_are_given, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_answers_tell_the_board, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
