#include "http.h"

#include "buf.h"
#include "clock.h"
#include "common.h"
#include "log.h"
#include "metrics.h"
#include "utf8.h"
#include "workq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY        (1024u * 1024u)
#define DEFAULT_MAX_HEADER      (32u * 1024u)
#define DEFAULT_MAX_CONNECTIONS 1024u
#define DEFAULT_CONN_TIMEOUT    30u
#define DEFAULT_DRAIN           10u
#define HSTS_VALUE              "max-age=31536000; includeSubDomains"
#define DRAIN_FACTOR            16u /* bodies up to 16x the limit are drained, not reset */

static const char HTML_CSP[] = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
			       "script-src 'self'; object-src 'none'; base-uri 'none'; "
			       "form-action 'self'; frame-ancestors 'none'";

struct craft_server {
	struct MHD_Daemon *daemon;
	struct craft_server_options opts;
	unsigned port;
	atomic_uint inflight;
	atomic_bool stopping; /* set when the drain starts */
};

struct out_header {
	struct out_header *next;
	const char *name;
	const char *value;
};

struct craft_req_private {
	struct MHD_Connection *conn;
	craft_server *server;
	craft_buf body;
	bool too_big;
	struct MHD_Response *response;
	unsigned status;
	size_t response_len;
	struct out_header *headers;
	uint64_t start_ns;
	craft_handler then; /* continuation of a suspended request */
	bool suspended;
};

/* ---- request accessors ---- */

const char *craft_req_param(craft_req *req, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < req->match.nparams; i++) {
		const struct craft_route_param *p = &req->match.params[i];
		if (p->name_len == len && memcmp(p->name, name, len) == 0)
			return craft_arena_strndup(req->arena, p->value, p->value_len);
	}
	return NULL;
}

const char *craft_req_query(craft_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->priv->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *craft_req_header(craft_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->priv->conn, MHD_HEADER_KIND, name);
}

const char *craft_req_cookie(craft_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->priv->conn, MHD_COOKIE_KIND, name);
}

const char *craft_req_client_ip(craft_req *req)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->priv->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "unknown";
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
				  sizeof(text));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text,
				  sizeof(text));
	}
	return craft_arena_strdup(req->arena, text);
}

struct header_join {
	const char *name;
	craft_buf *out;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	struct header_join *j = cls;
	if (!key || !value || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	if (j->out->len > 0)
		craft_buf_append(j->out, ", ", 2);
	craft_buf_append(j->out, value, strlen(value));
	return MHD_YES;
}

const char *craft_req_header_list(craft_req *req, const char *name, size_t max)
{
	craft_buf b;
	craft_buf_init(&b, 64 * 1024); /* above any header block the server accepts */
	struct header_join j = {.name = name, .out = &b};
	MHD_get_connection_values(req->priv->conn, MHD_HEADER_KIND, join_header, &j);
	const char *text = NULL;
	if (b.len > 0) {
		size_t from = b.len > max ? b.len - max : 0;
		text = craft_arena_strndup(req->arena, b.data + from, b.len - from);
	}
	craft_buf_cleanup(&b);
	return text;
}

const char *craft_req_client_behind(craft_req *req, const struct craft_proxy_list *trusted)
{
	const char *peer = craft_req_client_ip(req);
	if (!trusted || trusted->count == 0)
		return peer;
	char out[CRAFT_ADDR_TEXT_MAX];
	craft_proxy_client(trusted, peer, craft_req_header_list(req, "X-Forwarded-For", 2048), out);
	return craft_arena_strdup(req->arena, out);
}

/* Strict decimal: digits only, no sign, no spaces, within [min, max]. */
static int parse_long_strict(const char *s, long min, long max, long *out)
{
	if (!s || !*s || strlen(s) > 18)
		return CRAFT_EINVAL;
	long v = 0;
	const char *p = s;
	bool neg = false;
	if (*p == '-') {
		neg = true;
		p++;
		if (!*p)
			return CRAFT_EINVAL;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return CRAFT_EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return CRAFT_EINVAL;
	*out = v;
	return CRAFT_OK;
}

int craft_req_param_id(craft_req *req, const char *name, long *out)
{
	const char *v = craft_req_param(req, name);
	if (!v || v[0] == '-' || parse_long_strict(v, 1, INT32_MAX, out) != CRAFT_OK) {
		craft_reply_error(req, 400, "Invalid %s: must be a positive integer", name);
		return CRAFT_EINVAL;
	}
	return CRAFT_OK;
}

int craft_req_query_int(craft_req *req, const char *name, long min, long max, long fallback,
			long *out)
{
	const char *v = craft_req_query(req, name);
	if (!v) {
		*out = fallback;
		return CRAFT_OK;
	}
	if (parse_long_strict(v, min, max, out) != CRAFT_OK) {
		craft_reply_error(req, 400, "%s must be an integer between %ld and %ld", name, min,
				  max);
		return CRAFT_EINVAL;
	}
	return CRAFT_OK;
}

static void json_decref_cleanup(void *data)
{
	json_decref(data);
}

bool craft_req_is_json(craft_req *req)
{
	const char *ct = craft_req_header(req, "Content-Type");
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strlen("application/json");
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int craft_req_json_body(craft_req *req, json_t **out)
{
	if (!craft_req_is_json(req)) {
		craft_reply_error(req, 415, "Content-Type must be application/json");
		return CRAFT_EINVAL;
	}
	if (req->body_len == 0) {
		craft_reply_error(req, 400, "Request body is required (a JSON object)");
		return CRAFT_EINVAL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		craft_reply_error(req, 400, "Invalid JSON in request body: %s (line %d, column %d)",
				  jerr.text, jerr.line, jerr.column);
		return CRAFT_EINVAL;
	}
	craft_arena_cleanup_add(req->arena, json_decref_cleanup, root);
	if (!json_is_object(root)) {
		craft_reply_error(req, 400, "Request body must be a JSON object");
		return CRAFT_EINVAL;
	}
	*out = root;
	return CRAFT_OK;
}

/* ---- asynchronous handlers ---- */

void craft_req_suspend(craft_req *req, craft_handler then)
{
	struct craft_req_private *p = req->priv;
	p->then = then;
	p->suspended = true;
	MHD_suspend_connection(p->conn);
}

void craft_req_resume(craft_req *req)
{
	MHD_resume_connection(req->priv->conn);
}

bool craft_req_stopping(craft_req *req)
{
	return atomic_load(&req->priv->server->stopping);
}

void craft_reply_stopping(craft_req *req)
{
	craft_reply_header(req, "Retry-After", "1");
	craft_reply_header(req, "Connection", "close");
	craft_reply_error(req, 503, "Service is shutting down; try again");
}

struct offload {
	craft_req *req;
	craft_handler fn;
};

static void offload_done(craft_req *req)
{
	(void)req; /* the worker replied (check_replied catches a missing reply) */
}

static void offload_run(void *arg)
{
	struct offload *o = arg;
	if (craft_req_stopping(o->req))
		craft_reply_stopping(o->req); /* queued work is given up at stop */
	else
		o->fn(o->req);
	craft_req_resume(o->req);
}

void craft_req_offload(craft_req *req, struct craft_workq *queue, craft_handler fn)
{
	struct offload *o = craft_arena_alloc(req->arena, sizeof(*o));
	o->req = req;
	o->fn = fn;
	craft_req_suspend(req, offload_done);
	if (craft_workq_submit(queue, offload_run, o) != CRAFT_OK) {
		craft_reply_header(req, "Retry-After", "1");
		craft_reply_error(req, 503, "Server busy, try again shortly");
		craft_req_resume(req);
	}
}

/* After a handler or continuation: 500 if it neither replied nor suspended. */
static void check_replied(craft_req *req)
{
	if (craft_req_replied(req) || req->priv->suspended)
		return;
	craft_log(CRAFT_LOG_ERROR, req->span, "handler returned without a reply", "{s:s}", "route",
		  req->route ? req->route->pattern : "unmatched");
	craft_reply_error(req, 500, "Internal server error");
}

/* ---- replies ---- */

bool craft_req_replied(const craft_req *req)
{
	return req->priv->response != NULL;
}

void craft_reply_header(craft_req *req, const char *name, const char *value)
{
	struct out_header *h = craft_arena_alloc(req->arena, sizeof(*h));
	h->name = craft_arena_strdup(req->arena, name);
	h->value = craft_arena_strdup(req->arena, value);
	h->next = req->priv->headers;
	req->priv->headers = h;
}

static bool has_header(const craft_req *req, const char *name)
{
	for (const struct out_header *h = req->priv->headers; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return true;
	return false;
}

static void set_default(craft_req *req, const char *name, const char *value)
{
	if (!has_header(req, name))
		craft_reply_header(req, name, value);
}

static void finish_reply(craft_req *req, unsigned status, const char *content_type,
			 struct MHD_Response *resp, size_t len)
{
	struct craft_req_private *p = req->priv;
	if (p->response) {
		/* A second reply is a bug in the handler; keep the first. */
		craft_log(CRAFT_LOG_ERROR, req->span, "handler replied twice", "{s:s}", "path",
			  req->path);
		MHD_destroy_response(resp);
		return;
	}
	if (content_type)
		set_default(req, "Content-Type", content_type);
	set_default(req, "X-Content-Type-Options", "nosniff");
	/* Browsers reach the shop over HTTPS through the Ingress: keep them there. */
	if (p->server->opts.hsts)
		set_default(req, "Strict-Transport-Security", HSTS_VALUE);
	/* A refusal for now always says when to come back (RFC 9110 §10.2.3). */
	if (status == 503)
		set_default(req, "Retry-After", "1");
	/* headers were prepended: add them in reverse for the original order */
	struct out_header *rev = NULL;
	for (struct out_header *h = p->headers, *next; h; h = next) {
		next = h->next;
		h->next = rev;
		rev = h;
	}
	p->headers = rev;
	for (struct out_header *h = p->headers; h; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	p->response = resp;
	p->status = status;
	p->response_len = len;
}

void craft_reply(craft_req *req, unsigned status, const char *content_type, const void *data,
		 size_t len)
{
	/* The arena outlives the response (freed on completion), so no copy in MHD. */
	void *copy = craft_arena_alloc(req->arena, len ? len : 1);
	if (len)
		memcpy(copy, data, len);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		craft_oom(len);
	finish_reply(req, status, content_type, resp, len);
}

void craft_reply_take(craft_req *req, unsigned status, const char *content_type, char *data,
		      size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		craft_oom(len);
	finish_reply(req, status, content_type, resp, len);
}

void craft_reply_static(craft_req *req, unsigned status, const char *content_type, const void *data,
			size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		craft_oom(len);
	finish_reply(req, status, content_type, resp, len);
}

void craft_reply_json(craft_req *req, unsigned status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	if (!text)
		craft_oom(0);
	craft_reply_take(req, status, "application/json", text, strlen(text));
}

void craft_reply_error(craft_req *req, unsigned status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = craft_arena_vsprintf(req->arena, fmt, ap);
	va_end(ap);
	json_t *body = json_pack("{s:s, s:i, s:s}", "error", msg, "status_code", (int)status,
				 "path", req->path ? req->path : "");
	if (!body) /* only on invalid UTF-8 in the message or path */
		body = json_pack("{s:s, s:i, s:s}", "error", "request error", "status_code",
				 (int)status, "path", "");
	craft_reply_json(req, status, body);
}

void craft_reply_html(craft_req *req, unsigned status, const char *html, size_t len)
{
	set_default(req, "Content-Security-Policy", HTML_CSP);
	set_default(req, "Referrer-Policy", "strict-origin-when-cross-origin");
	set_default(req, "X-Frame-Options", "DENY");
	craft_reply(req, status, "text/html; charset=utf-8", html, len);
}

void craft_reply_redirect(craft_req *req, unsigned status, const char *location)
{
	craft_reply_header(req, "Location", location);
	craft_reply(req, status, "text/plain; charset=utf-8", "", 0);
}

/* ---- conditional requests ---- */

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The opaque part of an entity tag, W/ stripped: *len bytes from the opening
 * quote to the closing one, both included; NULL when malformed. */
static const char *opaque_tag(const char *s, size_t *len)
{
	if (s[0] == 'W' && s[1] == '/')
		s += 2;
	if (*s != '"')
		return NULL;
	const char *end = strchr(s + 1, '"');
	if (!end)
		return NULL;
	*len = (size_t)(end + 1 - s);
	return s;
}

bool craft_etag_list_matches(const char *header, const char *etag)
{
	size_t want_len;
	const char *want = etag ? opaque_tag(etag, &want_len) : NULL;
	if (!header || !want)
		return false;
	const char *p = skip_ows(header);
	if (p[0] == '*' && *skip_ows(p + 1) == '\0')
		return true;
	while (*p) {
		size_t len;
		const char *tag = opaque_tag(p, &len);
		if (!tag)
			return false; /* malformed: treated as no match */
		if (len == want_len && memcmp(tag, want, len) == 0)
			return true;
		p = skip_ows(tag + len);
		if (*p != ',')
			return false;
		p = skip_ows(p + 1);
	}
	return false;
}

bool craft_req_etag_matches(craft_req *req, const char *etag)
{
	return craft_etag_list_matches(craft_req_header(req, "If-None-Match"), etag);
}

/* A 304 carries no body: libmicrohttpd never reads one. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls, (void)pos, (void)buf, (void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

void craft_reply_not_modified(craft_req *req, const char *etag, size_t full_len)
{
	/* libmicrohttpd announces a 304's Content-Length from the response's
	 * size without sending a body: give it the 200's length. */
	struct MHD_Response *resp =
	    MHD_create_response_from_callback((uint64_t)full_len, 1024, no_body, NULL, NULL);
	if (!resp)
		craft_oom(0);
	craft_reply_header(req, "ETag", etag);
	finish_reply(req, 304, NULL, resp, 0);
}

/* ---- the request lifecycle ---- */

/* The query string as the arguments read back ("a=1&b=2", decoded), for
 * url.query; empty without arguments. */
static enum MHD_Result join_query(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	(void)kind;
	craft_buf *b = cls;
	if (!key)
		return MHD_YES;
	if (b->len > 0)
		craft_buf_append(b, "&", 1);
	craft_buf_append_str(b, key);
	if (value) {
		craft_buf_append(b, "=", 1);
		craft_buf_append_str(b, value);
	}
	return MHD_YES;
}

/* The server span's request attributes (semantic conventions), built only
 * when the span will be exported. */
static void span_request_attrs(craft_req *req, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version)
{
	craft_span_set_str(req->span, "http.request.method", method);
	craft_span_set_str(req->span, "url.path", url);
	craft_span_set_str(req->span, "url.scheme", "http");
	craft_span_set_int(req->span, "server.port", req->priv->server->port);
	const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	if (ua)
		craft_span_set_str(req->span, "user_agent.original", ua);
	craft_span_set_str(req->span, "client.address", craft_req_client_ip(req));
	if (version && strncmp(version, "HTTP/", 5) == 0)
		craft_span_set_str(req->span, "network.protocol.version", version + 5);
	craft_buf q;
	craft_buf_init(&q, 2048); /* a longer query is cut, never the span */
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, join_query, &q);
	if (q.len > 0)
		craft_span_set_str(req->span, "url.query", q.data);
	craft_buf_cleanup(&q);
}

static craft_req *req_new(craft_server *srv, struct MHD_Connection *conn, const char *url,
			  const char *method, const char *version)
{
	craft_arena *arena = craft_arena_new(0);
	craft_req *req = craft_arena_calloc(arena, 1, sizeof(*req));
	struct craft_req_private *p = craft_arena_calloc(arena, 1, sizeof(*p));
	req->arena = arena;
	req->priv = p;
	req->app = srv->opts.app;
	req->method = craft_arena_strdup(arena, method);
	req->path = craft_arena_strdup(arena, url);
	req->body = "";
	p->conn = conn;
	p->server = srv;
	p->start_ns = craft_clock_ns();
	craft_buf_init(&p->body, srv->opts.max_body);

	craft_trace_ctx remote;
	const craft_trace_ctx *parent = NULL;
	const char *tp = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent");
	if (tp && craft_traceparent_parse(tp, strlen(tp), &remote) == CRAFT_OK) {
		const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "tracestate");
		remote.tracestate[0] = '\0';
		if (ts)
			craft_tracestate_parse(ts, strlen(ts), &remote);
		parent = &remote;
	}
	req->span = craft_span_start(srv->opts.tracer, NULL, parent, CRAFT_SPAN_SERVER, method);
	if (craft_span_recording(req->span))
		span_request_attrs(req, conn, url, method, version);
	atomic_fetch_add(&srv->inflight, 1);
	return req;
}

/* A health probe or a metrics scrape: neither traced nor logged above debug. */
static bool is_probe(const craft_req *req)
{
	return req->route && (strcmp(req->route->pattern, "/health") == 0 ||
			      strcmp(req->route->pattern, "/metrics") == 0);
}

static void dispatch(craft_req *req)
{
	const struct craft_server_options *o = &req->priv->server->opts;
	char allow[128];
	int rc = craft_router_match(o->routes, o->nroutes, req->method, req->path, &req->match,
				    allow, sizeof(allow));
	if (rc == CRAFT_ENOTFOUND) {
		bool readable = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
		if (o->fallback && readable) {
			o->fallback(req);
			check_replied(req);
		} else {
			craft_reply_error(req, 404, "Not found");
		}
		return;
	}
	if (rc != CRAFT_OK) {
		craft_reply_header(req, "Allow", allow);
		craft_reply_error(req, 405, "Method %s not allowed; allowed: %s", req->method,
				  allow);
		return;
	}
	req->route = req->match.route;
	/* Probes and scrapes come every few seconds from every replica: not traced. */
	if (is_probe(req))
		craft_span_unsample(req->span);
	if (craft_span_recording(req->span)) {
		craft_span_set_name(req->span,
				    craft_arena_sprintf(req->arena, "%s %s", req->route->method,
							req->route->pattern));
		craft_span_set_str(req->span, "http.route", req->route->pattern);
	}
	if (req->route->role) {
		if (!o->authorizer) {
			craft_reply_error(req, 500,
					  "Route requires a role but no authorizer is set");
			return;
		}
		if (o->authorizer(req, req->route->role) != CRAFT_OK) {
			if (!craft_req_replied(req))
				craft_reply_error(req, 403, "Forbidden");
			return;
		}
	}
	req->route->handler(req);
	check_replied(req);
}

static enum MHD_Result queue(craft_req *req)
{
	struct craft_req_private *p = req->priv;
	enum MHD_Result r = MHD_queue_response(p->conn, p->status, p->response);
	return r;
}

/* The declared Content-Length, or -1 when absent or unparsable. */
static long long declared_length(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	if (!cl)
		return -1;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(cl, &end, 10);
	if (errno == ERANGE || v > (unsigned long long)LLONG_MAX)
		return LLONG_MAX;
	return end && *end == '\0' ? (long long)v : -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	craft_server *srv = cls;
	craft_req *req = *con_cls;
	if (!req) {
		req = req_new(srv, conn, url, method, version);
		*con_cls = req;
		long long declared = declared_length(conn);
		if (declared > (long long)srv->opts.max_body) {
			req->priv->too_big = true;
			/* A moderately large body is read and discarded so the client
			 * sees the 413 instead of a reset while it is still sending;
			 * a huge one is refused at once and the connection closed. */
			if (declared > (long long)srv->opts.max_body * DRAIN_FACTOR) {
				craft_reply_error(req, 413, "Request body larger than %zu bytes",
						  srv->opts.max_body);
				return queue(req);
			}
		}
		/* Queue on the next call: queueing now would turn off keep-alive. */
		return MHD_YES;
	}
	struct craft_req_private *p = req->priv;
	if (*upload_data_size) {
		if (!p->too_big &&
		    craft_buf_append(&p->body, upload_data, *upload_data_size) != CRAFT_OK) {
			p->too_big = true;
			craft_buf_cleanup(&p->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (p->then) { /* resumed after craft_req_suspend() */
		craft_handler then = p->then;
		p->then = NULL;
		p->suspended = false;
		then(req);
		check_replied(req);
		return p->suspended ? MHD_YES : queue(req);
	}
	if (p->response)
		return MHD_YES; /* already answered (413 on the first call) */
	if (p->too_big) {
		craft_reply_header(req, "Connection", "close");
		craft_reply_error(req, 413, "Request body larger than %zu bytes",
				  srv->opts.max_body);
		return queue(req);
	}
	if (p->body.data) {
		req->body = p->body.data;
		req->body_len = p->body.len;
	}
	dispatch(req);
	return p->suspended ? MHD_YES : queue(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	craft_server *srv = cls;
	craft_req *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	struct craft_req_private *p = req->priv;
	double secs = (double)(craft_clock_ns() - p->start_ns) / 1e9;
	unsigned status = p->status ? p->status : 499;
	const char *route = req->route ? req->route->pattern : "unmatched";
	craft_span_set_int(req->span, "http.response.status_code", status);
	if (status >= 500) {
		char code[12];
		snprintf(code, sizeof(code), "%u", status);
		craft_span_set_str(req->span, "error.type", code);
		craft_span_set_error(req->span, "server error");
	}
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		craft_span_set_error(req->span,
				     "connection terminated before the response completed");
	bool quiet = is_probe(req); /* logged at debug only */
	if (craft_log_enabled(quiet ? CRAFT_LOG_DEBUG : CRAFT_LOG_INFO))
		craft_log(quiet ? CRAFT_LOG_DEBUG : CRAFT_LOG_INFO, req->span, "request",
			  "{s:s, s:s, s:s, s:i, s:f, s:I, s:b}", "method",
			  craft_utf8_escape(req->arena, req->method), "path",
			  craft_utf8_escape(req->arena, req->path), "route", route, "status",
			  (int)status, "duration_ms", secs * 1000.0, "bytes",
			  (json_int_t)p->response_len, "completed",
			  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	if (srv->opts.metrics)
		craft_metrics_observe_request(srv->opts.metrics, req->method, route, (int)status,
					      secs);
	if (p->response)
		MHD_destroy_response(p->response);
	craft_span_end(req->span);
	craft_buf_cleanup(&p->body);
	craft_arena_free(req->arena);
	atomic_fetch_sub(&srv->inflight, 1);
}

/* Percent-decoding of paths and query values, in place. An escape that
 * would produce a NUL byte is left encoded, so a C string can never be cut
 * short by the client (the path then matches nothing). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = craft_hex_digit(r[1])) >= 0 &&
		    (lo = craft_hex_digit(r[2])) >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	craft_log(CRAFT_LOG_WARN, NULL, "http server", "{s:s}", "detail", msg);
}

/* ---- start / stop ---- */

static int open_listener(const char *host, unsigned port, unsigned *bound, bool *ipv6, char *err,
			 size_t err_len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%u", port);
	int gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0) {
		snprintf(err, err_len, "cannot resolve bind address %s: %s", host,
			 gai_strerror(gai));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*ipv6 = res->ai_family == AF_INET6;
	if (*ipv6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		snprintf(err, err_len, "cannot listen on %s:%u: %s%s", host, port, strerror(e),
			 e == EADDRINUSE
			     ? " (another process holds the port; set PORT to use another)"
			     : "");
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET)
		*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): filled by getsockname */
		*bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static unsigned cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 2u;
}

int craft_server_start(const struct craft_server_options *opts, craft_server **out, char *err,
		       size_t err_len)
{
	craft_server *srv = craft_xcalloc(1, sizeof(*srv));
	srv->opts = *opts;
	struct craft_server_options *o = &srv->opts;
	if (!o->threads)
		o->threads = cores();
	if (!o->max_connections)
		o->max_connections = DEFAULT_MAX_CONNECTIONS;
	if (!o->connection_timeout_s)
		o->connection_timeout_s = DEFAULT_CONN_TIMEOUT;
	if (!o->max_body)
		o->max_body = DEFAULT_MAX_BODY;
	if (!o->max_header)
		o->max_header = DEFAULT_MAX_HEADER;
	if (!o->drain_timeout_s)
		o->drain_timeout_s = DEFAULT_DRAIN;
	atomic_init(&srv->inflight, 0);
	atomic_init(&srv->stopping, false);

	bool ipv6 = false;
	int fd =
	    open_listener(o->host ? o->host : "0.0.0.0", o->port, &srv->port, &ipv6, err, err_len);
	if (fd < 0) {
		free(srv);
		return CRAFT_EIO;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ipv6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)o->connection_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)o->max_header, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, err_len, "cannot start the HTTP server on port %u", srv->port);
		close(fd);
		free(srv);
		return CRAFT_EIO;
	}
	craft_log(CRAFT_LOG_INFO, NULL, "listening", "{s:s, s:i, s:i}", "host",
		  o->host ? o->host : "0.0.0.0", "port", (int)srv->port, "threads",
		  (int)o->threads);
	*out = srv;
	return CRAFT_OK;
}

unsigned craft_server_port(const craft_server *server)
{
	return server->port;
}

void craft_server_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void craft_server_wait_for_signal(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	craft_log(CRAFT_LOG_INFO, NULL, "shutting down", "{s:s}", "signal",
		  sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Wait until no request is in flight or the monotonic clock reaches `until`. */
static void wait_idle(craft_server *server, uint64_t until)
{
	while (atomic_load(&server->inflight) > 0 && craft_clock_ns() < until) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

void craft_server_stop(craft_server *server)
{
	if (!server)
		return;
	MHD_socket lfd = MHD_quiesce_daemon(server->daemon);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	/* Serve what was accepted for most of the drain; near its end, give up
	 * queued work (craft_req_stopping) so that nothing is still suspended
	 * when the threads stop, within the drain timeout. */
	uint64_t drain = (uint64_t)server->opts.drain_timeout_s * 1000000000u;
	uint64_t margin = drain / 4 < 2000000000u ? drain / 4 : 2000000000u;
	uint64_t start = craft_clock_ns();
	wait_idle(server, start + drain - margin);
	atomic_store(&server->stopping, true);
	wait_idle(server, start + drain);
	unsigned left = atomic_load(&server->inflight);
	if (left)
		craft_log(CRAFT_LOG_WARN, NULL, "stopping with requests in flight", "{s:i}",
			  "inflight", (int)left);
	MHD_stop_daemon(server->daemon);
	free(server);
}
