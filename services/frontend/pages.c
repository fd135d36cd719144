#include "pages.h"

#include "app.h"

#include "craft/buf.h"
#include "craft/common.h"
#include "craft/log.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX_BYTES (2u * 1024u * 1024u)
#define SHORT_CHARS    160
#define MAX_PAGE       10000

static const char PAGE_CSP[] =
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'";

const char *page_shorten(craft_arena *a, const char *text, size_t max, bool *cut)
{
	size_t chars = 0, i = 0, last_space = 0, last_sentence = 0;
	for (; text[i]; i++) {
		if (((unsigned char)text[i] & 0xC0) == 0x80)
			continue;
		if (chars == max)
			break;
		if (text[i] == ' ') {
			last_space = i;
			if (i > 0 && strchr(".!?", text[i - 1]) && chars > max / 2)
				last_sentence = i;
		}
		chars++;
	}
	*cut = text[i] != '\0';
	if (!*cut)
		return text;
	if (last_sentence > 0) /* a whole sentence reads better than a cut one */
		return craft_arena_sprintf(a, "%.*s …", (int)last_sentence, text);
	size_t end = last_space > 0 ? last_space : i;
	while (end > 0 && strchr(" ,.;:", text[end - 1]))
		end--;
	return craft_arena_sprintf(a, "%.*s…", (int)end, text);
}

static const char *votes_label(craft_arena *a, json_int_t n)
{
	return craft_arena_sprintf(a, "%lld vote%s", (long long)n, n == 1 ? "" : "s");
}

/* The parts every page shares. */
static json_t *base_context(craft_req *req, const char *title, const struct session_user *user,
			    bool logged_in)
{
	struct frontend_app *app = req->app;
	const struct craft_sysinfo *si = &app->svc.sysinfo;
	json_t *ctx = json_pack(
	    "{s:s, s:{s:s, s:s}, s:s, s:{s:s, s:s, s:b, s:b}}", "title", title, "app", "version",
	    app->svc.config.app_version, "environment", app->svc.config.environment, "csrf",
	    "same-origin", "system", "hostname", si->hostname, "ip_address", si->ip_address,
	    "is_container", si->is_container, "is_kubernetes", si->is_kubernetes);
	json_object_set_new(
	    ctx, "user",
	    logged_in ? json_pack("{s:s, s:s}", "username", user->username, "role", user->role)
		      : json_null());
	json_t *flash = session_take_flash(req, &app->session);
	if (flash) {
		const char *kind = json_string_value(json_object_get(flash, "kind"));
		json_object_set_new(flash, "is_error",
				    json_boolean(kind && strcmp(kind, "error") == 0));
	}
	json_object_set_new(ctx, "flash", flash ? flash : json_null());
	return ctx;
}

static void reply_page(craft_req *req, const char *html, size_t len)
{
	craft_reply_header(req, "Content-Security-Policy", PAGE_CSP);
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_html(req, 200, html, len);
}

/* Render `template` with `ctx` (consumed) and reply; keep the page under
 * `key` when one is given. */
static void render(craft_req *req, const char *template, json_t *ctx, const char *key)
{
	struct frontend_app *app = req->app;
	craft_buf out;
	craft_buf_init(&out, PAGE_MAX_BYTES);
	int rc = craft_template_set_render(app->templates, template, ctx, &out);
	json_decref(ctx);
	if (rc) {
		craft_buf_cleanup(&out);
		craft_log(CRAFT_LOG_ERROR, req->span, "cannot render", "{s:s, s:s}", "template",
			  template, "error", craft_strerror(rc));
		craft_reply_error(req, 500, "Cannot render the page");
		return;
	}
	if (key)
		render_cache_put(&app->pages, key, out.data, out.len);
	reply_page(req, out.data, out.len);
	craft_buf_cleanup(&out);
}

/* ids the user voted for, from /api/votes/mine. */
static bool voted_for(json_t *mine, json_int_t id)
{
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(mine, "origami_ids"), i, v)
		if (json_integer_value(v) == id)
			return true;
	return false;
}

/* Cards for page `page` of the list, with next/prev in *pagination. */
static json_t *cards(craft_req *req, json_t *list, json_t *mine, bool logged_in, long page,
		     json_t *pagination)
{
	struct frontend_app *app = req->app;
	size_t total = json_array_size(list), size = (size_t)app->cfg.page_size;
	size_t from = (size_t)(page - 1) * size;
	json_t *out = json_array();
	for (size_t i = from; i < total && i < from + size; i++) {
		json_t *p = json_array_get(list, i);
		const char *desc = json_string_value(json_object_get(p, "description"));
		json_int_t id = json_integer_value(json_object_get(p, "id"));
		json_int_t votes = json_integer_value(json_object_get(p, "votes"));
		bool cut = false;
		const char *shortened =
		    page_shorten(req->arena, desc ? desc : "", SHORT_CHARS, &cut);
		json_t *card = json_deep_copy(p);
		json_object_set_new(card, "short", json_string(shortened));
		json_object_set_new(card, "has_more", json_boolean(cut));
		json_object_set_new(card, "votes_label",
				    json_string(votes_label(req->arena, votes)));
		json_object_set_new(card, "voted", json_boolean(logged_in && voted_for(mine, id)));
		json_object_set_new(card, "can_vote", json_boolean(logged_in));
		json_object_set_new(card, "csrf", json_string("same-origin"));
		json_object_set_new(card, "first_of_page", json_boolean(i == from && page > 1));
		json_array_append_new(out, card);
	}
	bool more = from + size < total;
	json_object_set_new(pagination, "page", json_integer(page));
	json_object_set_new(pagination, "next_page", more ? json_integer(page + 1) : json_null());
	json_object_set_new(pagination, "prev_page",
			    page > 1 ? json_integer(page - 1) : json_null());
	return out;
}

static long page_number(craft_req *req)
{
	long page = 1;
	const char *q = craft_req_query(req, "page");
	if (q) {
		char *end = NULL;
		long v = strtol(q, &end, 10);
		if (end && *end == '\0' && v >= 1 && v <= MAX_PAGE)
			page = v;
	}
	return page;
}

/* ---- gathering a page's data without holding a server thread ---- */

/* What one page view waits for: the shared catalogue and origami of the
 * day (revalidated after the view started) and, with a session, the
 * visitor's own votes. The request is suspended until all have answered. */
struct page_job {
	craft_req *req;
	atomic_int pending; /* parts still out, +1 while starting */
	bool logged_in;
	struct session_user user;
	struct reval_waiter catalogue_w, daily_w;
	struct reval_answer *catalogue, *daily;
	struct gateway_exchange mine; /* the visitor's votes */
};

#define JOB_OF(ptr, member)                                                                        \
	((struct page_job *)(void *)((char *)(ptr)-offsetof(struct page_job, member)))

static void job_cleanup(void *data)
{
	struct page_job *j = data;
	reval_answer_release(j->catalogue);
	reval_answer_release(j->daily);
}

static void part_done(struct page_job *j)
{
	if (atomic_fetch_sub_explicit(&j->pending, 1, memory_order_acq_rel) == 1)
		craft_req_resume(j->req);
}

static void catalogue_done(struct reval_waiter *w, struct reval_answer *a)
{
	struct page_job *j = JOB_OF(w, catalogue_w);
	j->catalogue = a;
	part_done(j);
}

static void daily_done(struct reval_waiter *w, struct reval_answer *a)
{
	struct page_job *j = JOB_OF(w, daily_w);
	j->daily = a;
	part_done(j);
}

static void mine_done(void *arg)
{
	part_done(arg);
}

/* Suspend the request and gather; `then` renders. */
static void gather(craft_req *req, bool want_daily, craft_handler then)
{
	struct frontend_app *app = req->app;
	struct page_job *j = craft_arena_calloc(req->arena, 1, sizeof(*j));
	j->req = req;
	j->logged_in = session_user(req, app->jwks, &app->session, &j->user);
	j->catalogue_w.done = catalogue_done;
	j->daily_w.done = daily_done;
	atomic_init(&j->pending, 2 + (want_daily ? 1 : 0) + (j->logged_in ? 1 : 0));
	req->state = j;
	craft_arena_cleanup_add(req->arena, job_cleanup, j);
	craft_req_suspend(req, then);
	reval_get(&app->catalogue, &j->catalogue_w, req->span);
	if (want_daily)
		reval_get(&app->daily, &j->daily_w, req->span);
	if (j->logged_in) {
		const struct gateway_call mine = {.backend = BACKEND_CATALOGUE,
						  .path = "/api/votes/mine",
						  .route = "/api/votes/mine",
						  .bearer = j->user.token};
		gateway_start(&app->gateway, req->arena, req->span, &mine, &j->mine, mine_done, j);
	}
	part_done(j); /* the starter's own hold */
}

/* The visitor's votes as {"origami_ids": [...]}, or NULL. */
static json_t *mine_json(craft_req *req, struct page_job *j)
{
	if (!j->logged_in)
		return NULL;
	const struct gateway_answer *a = gateway_answer(&j->mine, req->arena);
	return a->status == 200 ? a->json : NULL;
}

static bool catalogue_ok(const struct page_job *j)
{
	return j->catalogue && j->catalogue->ok && json_is_array(j->catalogue->json);
}

static bool daily_ok(const struct page_job *j)
{
	return j->daily && j->daily->ok && json_is_object(j->daily->json);
}

/* ---- the home page ---- */

static void add_status(craft_req *req, json_t *ctx)
{
	struct frontend_app *app = req->app;
	struct status_view v;
	status_read(&app->status, &v); /* already holds this view's own answers */
	json_t *status = json_array();
	for (int i = 0; i < BACKEND_COUNT; i++)
		json_array_append_new(
		    status, json_pack("{s:s, s:b}", "name", backend_table[i].name, "up", v.up[i]));
	json_object_set_new(ctx, "status", status);
	char when[64] = "";
	if (v.checked) {
		time_t secs = (time_t)(v.checked_ms / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%H:%M:%S UTC", &tm);
	}
	json_object_set_new(ctx, "status_checked", when[0] ? json_string(when) : json_null());
}

static void home_context(craft_req *req, struct page_job *j, json_t *ctx, long page)
{
	bool catalogue = catalogue_ok(j);
	json_t *pagination = json_object();
	json_object_set_new(ctx, "products",
			    catalogue ? cards(req, j->catalogue->json, mine_json(req, j),
					      j->logged_in, page, pagination)
				      : json_array());
	json_object_set_new(ctx, "pagination", pagination);
	json_object_set_new(ctx, "products_error",
			    catalogue ? json_null()
				      : json_string("The collection is resting for a moment — the "
						    "catalogue is unavailable. Please try again "
						    "shortly."));
	if (daily_ok(j)) {
		json_t *d = json_deep_copy(j->daily->json);
		json_object_set_new(
		    d, "votes_label",
		    json_string(
			votes_label(req->arena, json_integer_value(json_object_get(d, "votes")))));
		json_object_set_new(ctx, "daily", d);
		json_object_set_new(ctx, "daily_error", json_null());
	} else {
		json_object_set_new(ctx, "daily", json_null());
		json_object_set_new(ctx, "daily_error",
				    json_string("The origami of the day is taking a break — "
						"recommendations are unavailable right now."));
	}
	add_status(req, ctx);
}

/* What an anonymous home page shows, as a render cache key; NULL when the
 * page is personal (a session or a flash message). */
static const char *home_key(craft_req *req, const struct page_job *j, long page)
{
	struct frontend_app *app = req->app;
	if (j->logged_in || craft_req_cookie(req, SESSION_FLASH_COOKIE))
		return NULL;
	struct status_view v;
	status_read(&app->status, &v);
	return craft_arena_sprintf(req->arena, "home|%ld|%llu|%llu|%llu|%d%d", page,
				   (unsigned long long)(j->catalogue ? j->catalogue->serial : 0),
				   (unsigned long long)(j->daily ? j->daily->serial : 0),
				   (unsigned long long)v.generation, catalogue_ok(j), daily_ok(j));
}

static void home_render(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct page_job *j = req->state;
	long page = page_number(req);
	const char *key = home_key(req, j, page);
	struct render_blob *hit = key ? render_cache_get(&app->pages, key) : NULL;
	if (hit) {
		reply_page(req, hit->data, hit->len);
		render_blob_release(hit);
		return;
	}
	json_t *ctx = base_context(req, "Origami showcase", &j->user, j->logged_in);
	home_context(req, j, ctx, page);
	render(req, "home", ctx, key);
}

void page_home(craft_req *req)
{
	gather(req, true, home_render);
}

static void cards_render(craft_req *req)
{
	struct page_job *j = req->state;
	if (!catalogue_ok(j)) {
		craft_reply_error(req, 503, "The catalogue is unavailable");
		return;
	}
	json_t *pagination = json_object();
	json_t *list = cards(req, j->catalogue->json, mine_json(req, j), j->logged_in,
			     page_number(req), pagination);
	json_t *next = json_object_get(pagination, "next_page");
	if (json_is_integer(next))
		craft_reply_header(
		    req, "X-Next-Page",
		    craft_arena_sprintf(req->arena, "%lld", (long long)json_integer_value(next)));
	json_t *ctx = base_context(req, "Origami", &j->user, j->logged_in);
	json_object_set_new(ctx, "products", list);
	json_object_set_new(ctx, "pagination", pagination);
	render(req, "cards", ctx, NULL);
}

void page_cards(craft_req *req)
{
	gather(req, false, cards_render);
}

/* A string member of the flash, or "". */
static const char *flash_str(json_t *flash, const char *name)
{
	const char *v = json_string_value(json_object_get(flash, name));
	return v ? v : "";
}

static bool is_register_field(const char *field)
{
	return strcmp(field, "username") == 0 || strcmp(field, "email") == 0 ||
	       strcmp(field, "password") == 0;
}

void page_login(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct session_user user;
	bool in = session_user(req, app->jwks, &app->session, &user);
	json_t *ctx = base_context(req, "Log in or register", &user, in);
	json_t *flash = json_object_get(ctx, "flash");
	const char *form = flash_str(flash, "form");
	const char *field = flash_str(flash, "field");
	const char *message = flash_str(flash, "message");
	bool login_error = strcmp(form, "login") == 0;
	bool register_error = strcmp(form, "register") == 0;
	json_t *login =
	    json_pack("{s:s, s:o}", "username", login_error ? flash_str(flash, "username") : "",
		      "error", login_error ? json_string(message) : json_null());
	json_t *errors =
	    json_pack("{s:n, s:n, s:n, s:n}", "username", "email", "password", "general");
	if (register_error)
		json_object_set_new(errors, is_register_field(field) ? field : "general",
				    json_string(message));
	json_t *reg = json_pack("{s:s, s:s, s:o}", "username",
				register_error ? flash_str(flash, "username") : "", "email",
				register_error ? flash_str(flash, "email") : "", "errors", errors);
	json_object_set_new(ctx, "login", login);
	json_object_set_new(ctx, "register", reg);
	if (login_error || register_error) /* shown next to the form, not as a banner */
		json_object_set_new(ctx, "flash", json_null());
	render(req, "login", ctx, NULL);
}
