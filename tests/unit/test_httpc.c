/* test_httpc.c - the HTTP client against a libmicrohttpd server started in
 * this process on a free port: bodies, statuses, timeouts, bounds, refused
 * connections, trace propagation, keep-alive reuse and parallel fan-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "craft/arena.h"
#include "craft/buf.h"
#include "craft/common.h"
#include "craft/httpc.h"
#include "craft/trace.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- the test server ---- */

struct visit {
	char tag[16];
	uint64_t start_ms, end_ms;
};

struct server {
	struct MHD_Daemon *daemon;
	unsigned port;
	atomic_uint connections; /* TCP connections accepted */
	pthread_mutex_t mu;
	struct visit visits[32];
	size_t nvisits;
};

/* Per request: the body received so far and when the request started. */
struct exchange {
	craft_buf body;
	uint64_t start_ms;
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)c;
	(void)socket_ctx;
	struct server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&s->connections, 1);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct exchange *x = *con_cls;
	if (x) {
		craft_buf_cleanup(&x->body);
		free(x);
	}
	*con_cls = NULL;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	return v ? v : "";
}

static long num_arg(struct MHD_Connection *c, const char *name, long fallback)
{
	const char *v = arg(c, name);
	return v ? strtol(v, NULL, 10) : fallback;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				const void *data, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Test", "yes");
	if (status == 429)
		MHD_add_response_header(r, "Retry-After", "7");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	uint64_t total = (uint64_t)(uintptr_t)cls;
	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = total - pos < max ? (size_t)(total - pos) : max;
	if (n > 4096)
		n = 4096;
	memset(buf, 'y', n);
	return (ssize_t)n;
}

static enum MHD_Result send_big(struct MHD_Connection *c, long n, bool chunked)
{
	struct MHD_Response *r;
	if (chunked) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_reader,
						      (void *)(uintptr_t)n, NULL);
	} else {
		char *data = malloc((size_t)n + 1);
		memset(data, 'x', (size_t)n);
		r = MHD_create_response_from_buffer((size_t)n, data, MHD_RESPMEM_MUST_FREE);
	}
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* What the client sent, for the client's assertions. */
static enum MHD_Result send_echo(struct MHD_Connection *c, const char *method,
				 const struct exchange *x)
{
	craft_buf out;
	craft_buf_init(&out, 1 << 20);
	craft_buf_printf(&out, "tp=%s\nts=%s\nmethod=%s\ntype=%s\nkey=%s\nexpect=%s\nbody=",
			 header(c, "traceparent"), header(c, "tracestate"), method,
			 header(c, "Content-Type"), header(c, "X-Api-Key"), header(c, "Expect"));
	craft_buf_append(&out, x->body.data ? x->body.data : "", x->body.len);
	enum MHD_Result ret = send_buf(c, 200, "text/plain", out.data, out.len);
	craft_buf_cleanup(&out);
	return ret;
}

static void record_visit(struct server *s, struct MHD_Connection *c, const struct exchange *x)
{
	const char *tag = arg(c, "tag");
	if (!tag)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->nvisits < CRAFT_ARRAY_LEN(s->visits)) {
		struct visit *v = &s->visits[s->nvisits++];
		snprintf(v->tag, sizeof(v->tag), "%s", tag);
		v->start_ms = x->start_ms;
		v->end_ms = now_ms();
	}
	pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result respond(struct server *s, struct MHD_Connection *c, const char *url,
			       const char *method, struct exchange *x)
{
	if (strcmp(url, "/json") == 0)
		return send_buf(c, 200, "application/json", "{\"ok\":true}", 11);
	if (strcmp(url, "/sleep") == 0) {
		sleep_ms((unsigned)num_arg(c, "ms", 500));
		record_visit(s, c, x);
		return send_buf(c, 200, "text/plain", "slept", 5);
	}
	if (strcmp(url, "/big") == 0)
		return send_big(c, num_arg(c, "n", 1000), false);
	if (strcmp(url, "/chunked") == 0)
		return send_big(c, num_arg(c, "n", 1000), true);
	if (strcmp(url, "/echo") == 0)
		return send_echo(c, method, x);
	if (strcmp(url, "/retry") == 0)
		return send_buf(c, 429, "application/json", "{}", 2);
	return send_buf(c, 404, NULL, "", 0);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)version;
	struct exchange *x = *con_cls;
	if (!x) {
		/* First call: headers only. Replying later keeps the connection alive. */
		x = calloc(1, sizeof(*x));
		craft_buf_init(&x->body, 1 << 20);
		x->start_ms = now_ms();
		*con_cls = x;
		return MHD_YES;
	}
	if (*upload_size) {
		craft_buf_append(&x->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return respond(cls, c, url, method, x);
}

static struct server *server_start(void)
{
	struct server *s = calloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->daemon = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler,
	    s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	assert_non_null(s->daemon);
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	assert_true(s->port > 0);
	return s;
}

static void server_stop(struct server *s)
{
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static const struct visit *visit_of(struct server *s, const char *tag)
{
	for (size_t i = 0; i < s->nvisits; i++)
		if (strcmp(s->visits[i].tag, tag) == 0)
			return &s->visits[i];
	return NULL;
}

/* ---- spans ---- */

struct sink {
	pthread_mutex_t mu;
	craft_span *spans[16];
	size_t n;
};

static void sink_put(void *ctx, craft_span *span)
{
	struct sink *k = ctx;
	pthread_mutex_lock(&k->mu);
	if (k->n < CRAFT_ARRAY_LEN(k->spans))
		k->spans[k->n++] = span;
	else
		craft_span_free(span);
	pthread_mutex_unlock(&k->mu);
}

static const struct craft_span_attr *attr(const craft_span *span, const char *key)
{
	for (size_t i = 0; i < craft_span_attr_count(span); i++)
		if (strcmp(craft_span_attr_at(span, i)->key, key) == 0)
			return craft_span_attr_at(span, i);
	return NULL;
}

/* ---- fixture ---- */

struct fx {
	struct server *server;
	craft_httpc *client;
	craft_tracer *tracer;
	craft_span *root; /* the request the calls belong to (client spans need a parent) */
	struct sink sink;
	craft_arena *arena;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->server = server_start();
	pthread_mutex_init(&fx->sink.mu, NULL);
	fx->tracer = craft_tracer_new("test", "1", "test");
	craft_tracer_set_sink(fx->tracer, sink_put, &fx->sink);
	fx->root = craft_span_start(fx->tracer, NULL, NULL, CRAFT_SPAN_SERVER, "test request");
	struct craft_httpc_options opts = {.timeout_ms = 2000,
					   .connect_timeout_ms = 500,
					   .max_body = 64 * 1024,
					   .tracer = fx->tracer};
	assert_int_equal(craft_httpc_new(&opts, &fx->client), 0);
	fx->arena = craft_arena_new(0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	craft_arena_free(fx->arena);
	craft_httpc_free(fx->client);
	for (size_t i = 0; i < fx->sink.n; i++)
		craft_span_free(fx->sink.spans[i]);
	craft_span_free(fx->root);
	craft_tracer_free(fx->tracer);
	pthread_mutex_destroy(&fx->sink.mu);
	server_stop(fx->server);
	free(fx);
	return 0;
}

static char *url(struct fx *fx, const char *path)
{
	return craft_arena_sprintf(fx->arena, "http://127.0.0.1:%u%s", fx->server->port, path);
}

static int get(struct fx *fx, const char *path, struct craft_httpc_response *resp)
{
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = url(fx, path)};
	return craft_httpc_do(fx->client, fx->arena, fx->root, &req, resp);
}

/* A port nothing listens on. */
static unsigned closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	close(fd);
	return ntohs(sa.sin_port);
}

/* ---- tests ---- */

static void test_get_json(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	const char *want[] = {"x-test", "X-Missing"};
	struct craft_httpc_request req = {
	    .method = CRAFT_HTTPC_GET, .url = url(fx, "/json"), .want_headers = want, .nwant = 2};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp), 0);
	assert_int_equal(resp.result, 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "{\"ok\":true}");
	assert_int_equal(resp.body_len, 11);
	assert_string_equal(resp.content_type, "application/json");
	assert_string_equal(resp.headers[0], "yes");
	assert_null(resp.headers[1]);
}

static void test_http_errors_are_results(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	const char *want[] = {"Retry-After"};
	struct craft_httpc_request req = {
	    .method = CRAFT_HTTPC_GET, .url = url(fx, "/retry"), .want_headers = want, .nwant = 1};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp), 0);
	assert_int_equal(resp.status, 429);
	assert_string_equal(resp.headers[0], "7");
	assert_int_equal(get(fx, "/nowhere", &resp), 0);
	assert_int_equal(resp.status, 404);
	assert_string_equal(resp.body, "");
	assert_int_equal(resp.body_len, 0);
	/* A 4xx client span is marked failed (OpenTelemetry HTTP conventions). */
	assert_int_equal(fx->sink.n, 2);
	assert_string_equal(craft_span_error(fx->sink.spans[1]), "404");
}

static void test_methods_and_bodies(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	const char body[] = {'{', '}', '\0', 'z'};
	const struct craft_httpc_header hdrs[] = {{.name = "X-Api-Key", .value = "s3cret-key"}};
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_POST,
					  .url = url(fx, "/echo"),
					  .headers = hdrs,
					  .nheaders = 1,
					  .body = body,
					  .body_len = sizeof(body)};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp), 0);
	assert_non_null(strstr(resp.body, "method=POST\n"));
	assert_non_null(strstr(resp.body, "type=application/json\n"));
	assert_non_null(strstr(resp.body, "key=s3cret-key\n"));
	assert_non_null(strstr(resp.body, "expect=\n")); /* no 100-continue */
	assert_non_null(memmem(resp.body, resp.body_len, body, sizeof(body)));
	/* The header reached the server but not the span. */
	const craft_span *span = fx->sink.spans[fx->sink.n - 1];
	for (size_t i = 0; i < craft_span_attr_count(span); i++) {
		const struct craft_span_attr *a = craft_span_attr_at(span, i);
		assert_true(a->type != CRAFT_ATTR_STR || !strstr(a->str, "s3cret"));
	}
	req.method = CRAFT_HTTPC_PUT;
	req.content_type = "text/plain";
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp), 0);
	assert_non_null(strstr(resp.body, "method=PUT\n"));
	assert_non_null(strstr(resp.body, "type=text/plain\n"));
	req.method = CRAFT_HTTPC_DELETE;
	req.body = NULL;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp), 0);
	assert_non_null(strstr(resp.body, "method=DELETE\n"));
	assert_string_equal(strstr(resp.body, "body=") + 5, "");
}

static void test_timeout(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	struct craft_httpc_request req = {
	    .method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=500"), .timeout_ms = 100};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_ETIMEOUT);
	assert_int_equal(resp.result, CRAFT_ETIMEOUT);
	assert_null(resp.body);
	struct craft_httpc_stats st;
	craft_httpc_stats(fx->client, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.in_use, 0);
	/* The client stays usable. */
	assert_int_equal(get(fx, "/json", &resp), 0);
}

static void test_refused(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	char *u = craft_arena_sprintf(fx->arena, "http://127.0.0.1:%u/x", closed_port());
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = u};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EUNAVAIL);
	assert_int_equal(resp.status, 0);
	assert_null(resp.body);
}

static void test_body_bound(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	assert_int_equal(get(fx, "/big?n=65536", &resp), 0); /* exactly the bound */
	assert_int_equal(resp.body_len, 65536);
	assert_int_equal(get(fx, "/big?n=65537", &resp), CRAFT_ETOOBIG); /* Content-Length */
	assert_null(resp.body);
	assert_int_equal(get(fx, "/chunked?n=65536", &resp), 0);
	assert_int_equal(resp.body_len, 65536);
	assert_int_equal(get(fx, "/chunked?n=300000", &resp), CRAFT_ETOOBIG); /* streamed */
	struct craft_httpc_request req = {
	    .method = CRAFT_HTTPC_GET, .url = url(fx, "/big?n=2000"), .max_body = 1000};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_ETOOBIG);
	assert_int_equal(get(fx, "/json", &resp), 0);
}

static void test_invalid_requests(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = "ftp://127.0.0.1/x"};
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EINVAL);
	req.url = "not a url";
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EINVAL);
	req.url = NULL;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EINVAL);
	req.url = url(fx, "/json");
	const struct craft_httpc_header split[] = {{.name = "X-A", .value = "a\r\nX-B: b"}};
	req.headers = split;
	req.nheaders = 1;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EINVAL);
	const struct craft_httpc_header badname[] = {{.name = "X A", .value = "a"}};
	req.headers = badname;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EINVAL);
	req.headers = NULL;
	req.nheaders = 0;
	req.body = "x";
	req.body_len = 1;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp),
			 CRAFT_EINVAL);
	assert_int_equal(craft_httpc_multi(fx->client, fx->arena, fx->root, &req, &resp, 0),
			 CRAFT_EINVAL);
	assert_int_equal(atomic_load(&fx->server->connections), 0); /* nothing was sent */
}

static void test_trace_propagation(void **state)
{
	struct fx *fx = *state;
	craft_trace_ctx remote;
	const char *tp_in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	assert_int_equal(craft_traceparent_parse(tp_in, strlen(tp_in), &remote), 0);
	assert_int_equal(craft_tracestate_parse("vendor=abc", 10, &remote), 0);
	craft_span *parent = craft_span_start(fx->tracer, NULL, &remote, CRAFT_SPAN_SERVER, "req");
	/* A caller's traceparent is replaced by the client span's. */
	const struct craft_httpc_header hdrs[] = {{.name = "traceparent", .value = tp_in}};
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET,
					  .url = url(fx, "/echo?q=1"),
					  .headers = hdrs,
					  .nheaders = 1,
					  .url_template = "/echo"};
	struct craft_httpc_response resp;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, parent, &req, &resp), 0);
	assert_int_equal(fx->sink.n, 1);
	const craft_span *span = fx->sink.spans[0];
	char expect[CRAFT_TRACEPARENT_LEN + 1];
	craft_traceparent_format(craft_span_context(span), expect);
	char *line = craft_arena_sprintf(fx->arena, "tp=%s\n", expect);
	assert_non_null(strstr(resp.body, line));
	assert_non_null(strstr(resp.body, "ts=vendor=abc\n"));
	assert_memory_equal(craft_span_context(span)->trace_id, remote.trace_id, 16);
	assert_memory_equal(craft_span_parent_id(span), craft_span_context(parent)->span_id, 8);
	assert_int_equal(craft_span_kind_of(span), CRAFT_SPAN_CLIENT);
	assert_string_equal(craft_span_name(span), "GET /echo");
	assert_string_equal(attr(span, "http.request.method")->str, "GET");
	assert_string_equal(attr(span, "url.full")->str, req.url);
	assert_string_equal(attr(span, "server.address")->str, "127.0.0.1");
	assert_int_equal(attr(span, "server.port")->num, fx->server->port);
	assert_int_equal(attr(span, "http.response.status_code")->num, 200);
	assert_null(craft_span_error(span));
	craft_span_end(parent);
}

static void test_trace_without_tracer(void **state)
{
	struct fx *fx = *state;
	craft_httpc *plain;
	assert_int_equal(craft_httpc_new(NULL, &plain), 0);
	craft_span *parent = craft_span_start(NULL, NULL, NULL, CRAFT_SPAN_SERVER, "req");
	char *u =
	    craft_arena_sprintf(fx->arena, "http://user:pw@127.0.0.1:%u/echo", fx->server->port);
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = u};
	struct craft_httpc_response resp;
	assert_int_equal(craft_httpc_do(plain, fx->arena, parent, &req, &resp), 0);
	/* No client span to export: the parent's own context goes downstream. */
	char expect[CRAFT_TRACEPARENT_LEN + 1];
	craft_traceparent_format(craft_span_context(parent), expect);
	assert_non_null(strstr(resp.body, expect));
	craft_span_end(parent);
	craft_httpc_free(plain);
}

static void test_url_full_without_credentials(void **state)
{
	struct fx *fx = *state;
	char *u = craft_arena_sprintf(fx->arena, "http://user:pw@127.0.0.1:%u/json?a=1",
				      fx->server->port);
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = u};
	struct craft_httpc_response resp;
	assert_int_equal(craft_httpc_do(fx->client, fx->arena, fx->root, &req, &resp), 0);
	const char *full = attr(fx->sink.spans[0], "url.full")->str;
	assert_null(strstr(full, "pw"));
	assert_non_null(strstr(full, "/json?a=1"));
	assert_string_equal(craft_span_name(fx->sink.spans[0]), "HTTP GET");
}

static void test_connection_reuse(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_response resp;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(get(fx, "/json", &resp), 0);
		assert_int_equal(resp.status, 200);
	}
	assert_int_equal(atomic_load(&fx->server->connections), 1);
	struct craft_httpc_stats st;
	craft_httpc_stats(fx->client, &st);
	assert_int_equal(st.contexts, 1);
	assert_int_equal(st.requests, 5);
}

static void test_multi_overlaps(void **state)
{
	struct fx *fx = *state;
	const struct craft_httpc_request reqs[] = {
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=400&tag=a")},
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=150&tag=b")},
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=150&tag=c")},
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=600"), .timeout_ms = 100},
	    {.method = CRAFT_HTTPC_GET, .url = "ftp://nowhere/"},
	};
	struct craft_httpc_response resps[CRAFT_ARRAY_LEN(reqs)];
	assert_int_equal(
	    craft_httpc_multi(fx->client, fx->arena, fx->root, reqs, resps, CRAFT_ARRAY_LEN(reqs)),
	    0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(resps[i].result, 0);
		assert_string_equal(resps[i].body, "slept");
	}
	assert_int_equal(resps[3].result, CRAFT_ETIMEOUT);
	assert_int_equal(resps[4].result, CRAFT_EINVAL);
	/* Concurrent, not one after another: every request started before any ended. */
	const struct visit *a = visit_of(fx->server, "a"), *b = visit_of(fx->server, "b"),
			   *c = visit_of(fx->server, "c");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	uint64_t last_start = a->start_ms;
	last_start = b->start_ms > last_start ? b->start_ms : last_start;
	last_start = c->start_ms > last_start ? c->start_ms : last_start;
	uint64_t first_end = a->end_ms;
	first_end = b->end_ms < first_end ? b->end_ms : first_end;
	first_end = c->end_ms < first_end ? c->end_ms : first_end;
	assert_true(last_start < first_end);
	/* Connections opened by the fan-out stay in the context for later calls. */
	unsigned conns = atomic_load(&fx->server->connections);
	assert_int_equal(conns, 4);
	struct craft_httpc_response resp;
	assert_int_equal(get(fx, "/json", &resp), 0);
	assert_int_equal(atomic_load(&fx->server->connections), conns);
	assert_int_equal(fx->sink.n, 5); /* 4 sent (the ftp one never was), then /json */
}

struct worker {
	struct fx *fx;
	char *url;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	craft_arena *arena = craft_arena_new(0); /* one arena per thread */
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = w->url};
	for (int i = 0; i < 20; i++) {
		struct craft_httpc_response resp;
		if (craft_httpc_do(w->fx->client, arena, NULL, &req, &resp) == 0 &&
		    resp.status == 200)
			w->ok++;
	}
	craft_arena_free(arena);
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *fx = *state;
	struct worker w[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.fx = fx, .url = url(fx, "/json")};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 20);
	}
	struct craft_httpc_stats st;
	craft_httpc_stats(fx->client, &st);
	assert_true(st.contexts >= 1 && st.contexts <= 4);
	assert_int_equal(st.in_use, 0);
	assert_true(atomic_load(&fx->server->connections) <= 4);
}

struct slow_call {
	craft_httpc *client;
	char *url;
	int result;
};

static void *slow_main(void *arg)
{
	struct slow_call *s = arg;
	craft_arena *arena = craft_arena_new(0);
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = s->url};
	struct craft_httpc_response resp;
	s->result = craft_httpc_do(s->client, arena, NULL, &req, &resp);
	craft_arena_free(arena);
	return NULL;
}

static void test_contexts_bounded(void **state)
{
	struct fx *fx = *state;
	craft_httpc *one;
	struct craft_httpc_options opts = {.max_contexts = 1, .connect_timeout_ms = 50};
	assert_int_equal(craft_httpc_new(&opts, &one), 0);
	struct slow_call s = {.client = one, .url = url(fx, "/sleep?ms=400")};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_main, &s), 0);
	struct craft_httpc_stats st;
	do {
		sleep_ms(2);
		craft_httpc_stats(one, &st);
	} while (st.in_use == 0);
	struct craft_httpc_response resp;
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = url(fx, "/json")};
	assert_int_equal(craft_httpc_do(one, fx->arena, NULL, &req, &resp), CRAFT_EUNAVAIL);
	pthread_join(t, NULL);
	assert_int_equal(s.result, 0);
	assert_int_equal(craft_httpc_do(one, fx->arena, NULL, &req, &resp), 0);
	craft_httpc_free(one);
}

/* ---- asynchronous calls ---- */

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int calls;
	pthread_t thread;
};

static void waiter_done(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->calls++;
	w->thread = pthread_self();
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void waiter_wait(struct waiter *w, int calls)
{
	pthread_mutex_lock(&w->mu);
	while (w->calls < calls)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void test_submit_without_loop(void **state)
{
	struct fx *fx = *state;
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET, .url = url(fx, "/json")};
	struct craft_httpc_response resp;
	struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	assert_int_equal(
	    craft_httpc_submit(fx->client, fx->arena, fx->root, &req, &resp, 1, waiter_done, &w),
	    CRAFT_EUNAVAIL);
	assert_int_equal(resp.result, CRAFT_EUNAVAIL);
	assert_int_equal(w.calls, 0);
}

static void test_submit_overlaps(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(craft_httpc_loop_start(fx->client, 8), 0);
	const struct craft_httpc_request reqs[] = {
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=300&tag=a")},
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=100&tag=b")},
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/sleep?ms=600"), .timeout_ms = 100},
	    {.method = CRAFT_HTTPC_GET, .url = "ftp://nowhere/"},
	    {.method = CRAFT_HTTPC_GET, .url = url(fx, "/retry")},
	};
	size_t n = CRAFT_ARRAY_LEN(reqs);
	struct craft_httpc_response resps[CRAFT_ARRAY_LEN(reqs)];
	struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	uint64_t t0 = now_ms();
	assert_int_equal(
	    craft_httpc_submit(fx->client, fx->arena, fx->root, reqs, resps, n, waiter_done, &w),
	    0);
	/* The caller is not held up by the network. */
	assert_true(now_ms() - t0 < 250);
	waiter_wait(&w, 1);
	assert_false(pthread_equal(w.thread, pthread_self()));
	assert_int_equal(resps[0].result, 0);
	assert_string_equal(resps[0].body, "slept");
	assert_int_equal(resps[1].result, 0);
	assert_int_equal(resps[2].result, CRAFT_ETIMEOUT);
	assert_int_equal(resps[3].result, CRAFT_EINVAL);
	assert_int_equal(resps[4].result, 0);
	assert_int_equal(resps[4].status, 429);
	const struct visit *a = visit_of(fx->server, "a"), *b = visit_of(fx->server, "b");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(b->start_ms < a->end_ms && a->start_ms < b->end_ms);
	/* Spans of the four sent requests, ended on the loop thread. */
	assert_int_equal(fx->sink.n, 4);
}

static void test_submit_many_batches(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(craft_httpc_loop_start(fx->client, 0), 0);
	enum { BATCHES = 40 };
	struct craft_httpc_request reqs[BATCHES];
	struct craft_httpc_response resps[BATCHES];
	struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	for (int i = 0; i < BATCHES; i++) {
		reqs[i] = (struct craft_httpc_request){.method = CRAFT_HTTPC_GET,
						       .url = url(fx, "/sleep?ms=50")};
		assert_int_equal(craft_httpc_submit(fx->client, fx->arena, NULL, &reqs[i],
						    &resps[i], 1, waiter_done, &w),
				 0);
	}
	waiter_wait(&w, BATCHES);
	for (int i = 0; i < BATCHES; i++)
		assert_int_equal(resps[i].result, 0);
	/* Kept alive: fewer connections than calls. */
	assert_true(atomic_load(&fx->server->connections) <= BATCHES);
}

static void test_loop_stops_in_flight(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(craft_httpc_loop_start(fx->client, 0), 0);
	struct craft_httpc_request req = {.method = CRAFT_HTTPC_GET,
					  .url = url(fx, "/sleep?ms=1500")};
	struct craft_httpc_response resp;
	struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	assert_int_equal(
	    craft_httpc_submit(fx->client, fx->arena, fx->root, &req, &resp, 1, waiter_done, &w),
	    0);
	sleep_ms(100);
	craft_httpc_free(fx->client); /* completes what is in flight */
	fx->client = NULL;
	assert_int_equal(w.calls, 1);
	assert_int_equal(resp.result, CRAFT_EUNAVAIL);
}

int main(void)
{
	assert_int_equal(craft_curl_global_init(), 0);
	assert_int_equal(craft_curl_global_init(), 0); /* idempotent */
	assert_string_equal(craft_httpc_method_name(CRAFT_HTTPC_DELETE), "DELETE");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_json, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_http_errors_are_results, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_methods_and_bodies, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_refused, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_body_bound, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_requests, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_trace_propagation, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_trace_without_tracer, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_url_full_without_credentials, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_connection_reuse, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_multi_overlaps, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_threads, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_contexts_bounded, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_submit_without_loop, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_submit_overlaps, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_submit_many_batches, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_loop_stops_in_flight, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
