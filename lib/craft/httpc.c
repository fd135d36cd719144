/* httpc.c - outbound HTTP on libcurl (see httpc.h and docs/httpc.md). */
#include "httpc.h"
#include "httpc_internal.h"

#include "clock.h"
#include "buf.h"
#include "common.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#define DEFAULT_TIMEOUT_MS  5000u
#define DEFAULT_CONNECT_MS  1000u
#define DEFAULT_MAX_BODY    (1024u * 1024u)
#define DEFAULT_CONTEXTS    32u
#define DEFAULT_IDLE_CONNS  8u
#define DEFAULT_USER_AGENT  "craftista"
#define MAX_CONTEXTS        1024u
#define IDLE_CONN_MAX_AGE_S 20L   /* below the services' 30 s keep-alive timeout */
#define HEADER_VALUE_MAX    1024u /* bytes kept of a wanted response header */
#define REQUEST_HEADER_MAX  8192u /* bytes of one request header value */
#define SAFETY_MARGIN_MS    1000u /* beyond the longest timeout, the loop gives up */
#define POLL_SLICE_MS       1000

/* A transfer context: a multi handle, whose connection cache keeps
 * connections alive between calls, and its easy handles. One call at a time. */
struct context {
	CURLM *multi;
	CURL *easy[CRAFT_HTTPC_MULTI_MAX]; /* created on first use */
	struct context *next_idle;
};

/* ---- small helpers ---- */

static void count(atomic_ulong *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

const char *craft_httpc_method_name(enum craft_httpc_method method)
{
	switch (method) {
	case CRAFT_HTTPC_GET: return "GET";
	case CRAFT_HTTPC_POST: return "POST";
	case CRAFT_HTTPC_PUT: return "PUT";
	case CRAFT_HTTPC_DELETE: return "DELETE";
	}
	return NULL;
}

/* RFC 9110 token characters. */
static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch)))
			return false;
	}
	return true;
}

static bool is_field_value(const char *s)
{
	return s && strlen(s) <= REQUEST_HEADER_MAX && !strpbrk(s, "\r\n");
}

static int map_code(CURLcode code, bool too_big)
{
	switch (code) {
	case CURLE_OK: return CRAFT_OK;
	case CURLE_OPERATION_TIMEDOUT: return CRAFT_ETIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return CRAFT_EUNAVAIL;
	case CURLE_FILESIZE_EXCEEDED: return CRAFT_ETOOBIG;
	case CURLE_WRITE_ERROR: return too_big ? CRAFT_ETOOBIG : CRAFT_EIO;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL: return CRAFT_EINVAL;
	default: return CRAFT_EIO;
	}
}

/* ---- client lifecycle ---- */

int craft_httpc_new(const struct craft_httpc_options *opts, craft_httpc **out)
{
	*out = NULL;
	int result = craft_curl_global_init();
	if (result)
		return result;
	const struct craft_httpc_options none = {.timeout_ms = 0};
	if (!opts)
		opts = &none;
	craft_httpc *client = craft_xcalloc(1, sizeof(*client));
	pthread_mutex_init(&client->mu, NULL);
	craft_cond_init_monotonic(&client->cv);
	client->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	client->connect_timeout_ms =
	    opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_MS;
	client->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	client->max_contexts = opts->max_contexts ? opts->max_contexts : DEFAULT_CONTEXTS;
	if (client->max_contexts > MAX_CONTEXTS)
		client->max_contexts = MAX_CONTEXTS;
	client->max_idle =
	    opts->max_idle_per_context ? opts->max_idle_per_context : DEFAULT_IDLE_CONNS;
	client->user_agent =
	    craft_xstrdup(opts->user_agent ? opts->user_agent : DEFAULT_USER_AGENT);
	client->tracer = opts->tracer;
	client->all = craft_xcalloc(client->max_contexts, sizeof(struct context *));
	*out = client;
	return CRAFT_OK;
}

static void context_free(struct context *ctx)
{
	for (size_t i = 0; i < CRAFT_HTTPC_MULTI_MAX; i++)
		if (ctx->easy[i])
			curl_easy_cleanup(ctx->easy[i]);
	curl_multi_cleanup(ctx->multi); /* closes the kept-alive connections */
	free(ctx);
}

void craft_httpc_free(craft_httpc *client)
{
	if (!client)
		return;
	httpc_loop_free(client->loop);
	for (unsigned i = 0; i < client->ncontexts; i++)
		context_free(client->all[i]);
	free(client->all);
	free(client->user_agent);
	pthread_cond_destroy(&client->cv);
	pthread_mutex_destroy(&client->mu);
	free(client);
}

/* ---- contexts ---- */

static struct context *context_new(const craft_httpc *client)
{
	struct context *ctx = craft_xcalloc(1, sizeof(*ctx));
	ctx->multi = curl_multi_init();
	if (!ctx->multi)
		craft_oom(sizeof(*ctx));
	curl_multi_setopt(ctx->multi, CURLMOPT_MAXCONNECTS, (long)client->max_idle);
	return ctx;
}

/* Borrow a context: an idle one, a new one below the limit, or wait at most
 * wait_ms for one to come back. NULL when none did. */
static struct context *context_take(craft_httpc *client, unsigned wait_ms)
{
	struct timespec deadline = craft_deadline_ms(wait_ms);
	struct context *ctx = NULL;
	pthread_mutex_lock(&client->mu);
	while (!client->idle && client->ncontexts >= client->max_contexts)
		if (pthread_cond_timedwait(&client->cv, &client->mu, &deadline) == ETIMEDOUT)
			break;
	if (client->idle) {
		ctx = client->idle;
		client->idle = ctx->next_idle;
	} else if (client->ncontexts < client->max_contexts) {
		ctx = context_new(client);
		client->all[client->ncontexts++] = ctx;
	}
	if (ctx)
		client->in_use++;
	pthread_mutex_unlock(&client->mu);
	return ctx;
}

static void context_give(craft_httpc *client, struct context *ctx)
{
	pthread_mutex_lock(&client->mu);
	ctx->next_idle = client->idle;
	client->idle = ctx;
	client->in_use--;
	pthread_cond_signal(&client->cv);
	pthread_mutex_unlock(&client->mu);
}

/* ---- callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nmemb;
	if (craft_buf_append(&t->body, data, len) != CRAFT_OK) {
		t->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return len;
}

/* Keep the values of the wanted response headers (first occurrence). */
static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nitems;
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* A new response head (after 1xx): forget what the last one said. */
		memset(t->resp->headers, 0, sizeof(t->resp->headers));
		return len;
	}
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return len;
	size_t name_len = (size_t)(colon - line);
	const char *v = colon + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t vlen = (size_t)(end - v);
	for (size_t i = 0; i < t->req->nwant && i < CRAFT_HTTPC_WANT_MAX; i++) {
		const char *want = t->req->want_headers[i];
		if (!t->resp->headers[i] && want && strlen(want) == name_len &&
		    strncasecmp(line, want, name_len) == 0)
			t->resp->headers[i] = craft_arena_strndup(
			    t->arena, v, vlen < HEADER_VALUE_MAX ? vlen : HEADER_VALUE_MAX);
	}
	return len;
}

/* ---- request set-up ---- */

/* Check the URL (absolute, http or https) and keep what spans need. */
static int url_check(struct transfer *t, const char *url, char **full)
{
	int result = CRAFT_EINVAL;
	char *scheme = NULL, *host = NULL, *port = NULL;
	*full = NULL;
	CURLU *u = curl_url();
	if (!u)
		craft_oom(0);
	if (!url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	/* url.full never carries credentials. */
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, full, 0) != CURLUE_OK)
		goto out;
	size_t hlen = strlen(host);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']')
		t->host = craft_arena_strndup(t->arena, host + 1, hlen - 2);
	else
		t->host = craft_arena_strdup(t->arena, host);
	t->port = strtol(port, NULL, 10);
	result = CRAFT_OK;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return result;
}

static bool header_is(const char *name, const char *want)
{
	return strcasecmp(name, want) == 0;
}

static void add_header(struct transfer *t, const char *line)
{
	struct curl_slist *next = curl_slist_append(t->headers, line);
	if (!next)
		craft_oom(strlen(line));
	t->headers = next;
}

/* Caller's headers (checked), Content-Type, trace context, no Expect. */
static int headers_build(struct transfer *t, const craft_trace_ctx *trace)
{
	const struct craft_httpc_request *req = t->req;
	bool has_type = false;
	if (req->nheaders > CRAFT_HTTPC_HEADERS_MAX || (req->nheaders && !req->headers))
		return CRAFT_EINVAL;
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct craft_httpc_header *h = &req->headers[i];
		if (!is_token(h->name) || !is_field_value(h->value))
			return CRAFT_EINVAL;
		if (header_is(h->name, "traceparent") || header_is(h->name, "tracestate"))
			continue; /* ours, from the client span, win */
		has_type = has_type || header_is(h->name, "Content-Type");
		/* "Name;" is libcurl's way to send a header with an empty value. */
		add_header(t, *h->value ? craft_arena_sprintf(t->arena, "%s: %s", h->name, h->value)
					: craft_arena_sprintf(t->arena, "%s;", h->name));
	}
	if (req->body && !has_type) {
		const char *type = req->content_type ? req->content_type : "application/json";
		if (!is_field_value(type))
			return CRAFT_EINVAL;
		add_header(t, craft_arena_sprintf(t->arena, "Content-Type: %s", type));
	}
	if (trace) {
		char tp[CRAFT_TRACEPARENT_LEN + 1];
		craft_traceparent_format(trace, tp);
		add_header(t, craft_arena_sprintf(t->arena, "traceparent: %s", tp));
		if (trace->tracestate[0])
			add_header(
			    t, craft_arena_sprintf(t->arena, "tracestate: %s", trace->tracestate));
	}
	add_header(t, "Expect:"); /* no 100-continue round trip for bodies */
	return CRAFT_OK;
}

static void set_method(struct transfer *t)
{
	const struct craft_httpc_request *req = t->req;
	CURL *e = t->easy;
	if (req->method == CRAFT_HTTPC_GET) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (req->method != CRAFT_HTTPC_POST)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
	if (req->body || req->method != CRAFT_HTTPC_DELETE) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
}

static void set_options(struct transfer *t, const char *url)
{
	const craft_httpc *client = t->client;
	const struct craft_httpc_request *req = t->req;
	CURL *e = t->easy;
	size_t max_body = req->max_body ? req->max_body : client->max_body;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy from the environment */
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, IDLE_CONN_MAX_AGE_S);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 (long)(req->timeout_ms ? req->timeout_ms : client->timeout_ms));
	curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(req->connect_timeout_ms ? req->connect_timeout_ms : client->connect_timeout_ms));
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
	craft_buf_init(&t->body, max_body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, client->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	set_method(t);
}

static craft_span *span_begin(struct transfer *t, const craft_span *parent, const char *url_full)
{
	const struct craft_httpc_request *req = t->req;
	if (!t->client->tracer || !parent) /* background work is not traced */
		return NULL;
	char *name = req->url_template
			 ? craft_arena_sprintf(t->arena, "%s %s", t->method, req->url_template)
			 : craft_arena_sprintf(t->arena, "HTTP %s", t->method);
	craft_span *span =
	    craft_span_start(t->client->tracer, parent, NULL, CRAFT_SPAN_CLIENT, name);
	craft_span_set_str(span, "http.request.method", t->method);
	craft_span_set_str(span, "url.full", url_full);
	craft_span_set_str(span, "url.template", req->url_template);
	craft_span_set_str(span, "server.address", t->host);
	craft_span_set_int(span, "server.port", t->port);
	return span;
}

int httpc_transfer_prepare(struct transfer *t, const craft_span *parent)
{
	const struct craft_httpc_request *req = t->req;
	t->method = craft_httpc_method_name(req->method);
	if (!t->method || (req->method == CRAFT_HTTPC_GET && req->body) ||
	    (req->nwant && !req->want_headers) || req->nwant > CRAFT_HTTPC_WANT_MAX)
		return CRAFT_EINVAL;
	char *full;
	int result = url_check(t, req->url, &full);
	if (result)
		return result;
	t->span = span_begin(t, parent, full);
	curl_free(full);
	const craft_span *ctx = t->span ? t->span : parent;
	result = headers_build(t, ctx ? craft_span_context(ctx) : NULL);
	if (result) {
		craft_span_set_error(t->span, "invalid request headers");
		craft_span_end(t->span);
		t->span = NULL;
		return result;
	}
	return CRAFT_OK;
}

void httpc_transfer_apply(struct transfer *t)
{
	set_options(t, t->req->url);
}

/* ---- completion ---- */

static void log_failure(const struct transfer *t, int result, CURLcode code)
{
	const craft_span *ctx = t->span;
	craft_log(CRAFT_LOG_WARN, ctx, "http client call failed", "{s:s, s:s, s:i, s:s*, s:s, s:s}",
		  "method", t->method, "server.address", t->host, "server.port", (int)t->port,
		  "url.template", t->req->url_template, "result", craft_strerror(result), "error",
		  t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
}

void httpc_transfer_complete(struct transfer *t, CURLcode code)
{
	struct craft_httpc_response *resp = t->resp;
	t->done = true;
	long status = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status > 0 && status < 1000 ? (unsigned)status : 0;
	resp->result = map_code(code, t->too_big);
	if (resp->result == CRAFT_OK) {
		char *type = NULL;
		curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &type);
		resp->content_type = type ? craft_arena_strdup(t->arena, type) : NULL;
		resp->body = craft_buf_steal(&t->body, &resp->body_len);
		craft_arena_cleanup_add(t->arena, free, resp->body);
	} else {
		memset(resp->headers, 0, sizeof(resp->headers));
		count(&t->client->failures);
		if (resp->result == CRAFT_ETIMEOUT)
			count(&t->client->timeouts);
		log_failure(t, resp->result, code);
	}
	if (resp->status)
		craft_span_set_int(t->span, "http.response.status_code", resp->status);
	if (resp->result) {
		craft_span_set_str(t->span, "error.type", craft_strerror(resp->result));
		craft_span_set_error(t->span, craft_strerror(resp->result));
	} else if (resp->status >= 400) {
		char code_text[16];
		snprintf(code_text, sizeof(code_text), "%u", resp->status);
		craft_span_set_str(t->span, "error.type", code_text);
		craft_span_set_error(t->span, code_text);
	}
	craft_span_end(t->span);
	t->span = NULL;
}

void httpc_transfer_release(struct transfer *t, CURLM *multi)
{
	if (t->added)
		curl_multi_remove_handle(multi, t->easy);
	if (t->easy)
		curl_easy_reset(t->easy);
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	craft_buf_cleanup(&t->body);
}

static void collect_done(CURLM *multi)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		char *priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		struct transfer *t = (struct transfer *)priv;
		if (t && !t->done)
			httpc_transfer_complete(t, msg->data.result);
	}
}

/* Drive every added transfer to its end (or the safety deadline). */
static void run_all(CURLM *multi, struct transfer *ts, size_t n, uint64_t deadline)
{
	int running = 0;
	CURLMcode mc = curl_multi_perform(multi, &running);
	collect_done(multi);
	while (mc == CURLM_OK && running > 0 && craft_clock_ms() < deadline) {
		uint64_t left = deadline - craft_clock_ms();
		int wait = left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS;
		mc = curl_multi_poll(multi, NULL, 0, wait, NULL);
		if (mc == CURLM_OK)
			mc = curl_multi_perform(multi, &running);
		collect_done(multi);
	}
	for (size_t i = 0; i < n; i++)
		if (ts[i].added && !ts[i].done)
			httpc_transfer_complete(&ts[i], mc == CURLM_OK ? CURLE_OPERATION_TIMEDOUT
								       : CURLE_RECV_ERROR);
}

/* ---- public API ---- */

static unsigned longest_timeout(const craft_httpc *client, const struct craft_httpc_request *reqs,
				size_t n)
{
	unsigned longest = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned ms = reqs[i].timeout_ms ? reqs[i].timeout_ms : client->timeout_ms;
		longest = ms > longest ? ms : longest;
	}
	return longest;
}

void httpc_transfer_refuse(struct transfer *t, int result, const craft_span *parent)
{
	t->resp->result = result;
	t->done = true;
	count(&t->client->failures);
	craft_span_end(t->span);
	t->span = NULL;
	craft_log(CRAFT_LOG_WARN, parent, "http client request rejected", "{s:s*, s:s}", "method",
		  t->method, "result", craft_strerror(result));
}

/* Set up and add each transfer; bad requests are answered at once. */
static void start_all(struct context *ctx, struct transfer *ts, size_t n, const craft_span *parent)
{
	for (size_t i = 0; i < n; i++) {
		struct transfer *t = &ts[i];
		count(&t->client->requests);
		if (!ctx->easy[i] && !(ctx->easy[i] = curl_easy_init()))
			craft_oom(0);
		t->easy = ctx->easy[i];
		int result = httpc_transfer_prepare(t, parent);
		if (result == CRAFT_OK) {
			httpc_transfer_apply(t);
			if (curl_multi_add_handle(ctx->multi, t->easy) == CURLM_OK) {
				t->added = true;
				continue;
			}
		}
		httpc_transfer_refuse(t, result ? result : CRAFT_EINTERNAL, parent);
	}
}

int craft_httpc_multi(craft_httpc *client, craft_arena *arena, const craft_span *parent,
		      const struct craft_httpc_request *reqs, struct craft_httpc_response *resps,
		      size_t n)
{
	if (n == 0 || n > CRAFT_HTTPC_MULTI_MAX || !reqs || !resps || !arena)
		return CRAFT_EINVAL;
	for (size_t i = 0; i < n; i++)
		resps[i] = (struct craft_httpc_response){.result = CRAFT_EUNAVAIL};
	struct context *ctx = context_take(client, client->connect_timeout_ms);
	if (!ctx) {
		craft_log(CRAFT_LOG_WARN, parent, "http client busy: no free context", "{s:i}",
			  "max_contexts", (int)client->max_contexts);
		count(&client->failures);
		return CRAFT_EUNAVAIL;
	}
	struct transfer ts[CRAFT_HTTPC_MULTI_MAX];
	for (size_t i = 0; i < n; i++)
		ts[i] = (struct transfer){
		    .client = client, .req = &reqs[i], .resp = &resps[i], .arena = arena};
	uint64_t deadline = craft_clock_ms() + longest_timeout(client, reqs, n) + SAFETY_MARGIN_MS;
	start_all(ctx, ts, n, parent);
	run_all(ctx->multi, ts, n, deadline);
	for (size_t i = 0; i < n; i++)
		httpc_transfer_release(&ts[i], ctx->multi);
	context_give(client, ctx);
	return CRAFT_OK;
}

int craft_httpc_do(craft_httpc *client, craft_arena *arena, const craft_span *parent,
		   const struct craft_httpc_request *req, struct craft_httpc_response *resp)
{
	if (!resp)
		return CRAFT_EINVAL;
	int result = craft_httpc_multi(client, arena, parent, req, resp, 1);
	if (result == CRAFT_EINVAL)
		*resp = (struct craft_httpc_response){.result = CRAFT_EINVAL};
	return resp->result;
}

void craft_httpc_stats(craft_httpc *client, struct craft_httpc_stats *out)
{
	pthread_mutex_lock(&client->mu);
	out->contexts = client->ncontexts;
	out->in_use = client->in_use;
	pthread_mutex_unlock(&client->mu);
	out->requests = atomic_load_explicit(&client->requests, memory_order_relaxed);
	out->failures = atomic_load_explicit(&client->failures, memory_order_relaxed);
	out->timeouts = atomic_load_explicit(&client->timeouts, memory_order_relaxed);
}
