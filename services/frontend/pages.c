#include "pages.h"

#include "app.h"
#include "backends.h"

#include "craft/buf.h"
#include "craft/common.h"
#include "craft/log.h"

#include <string.h>

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

static void render(craft_req *req, const char *template, json_t *ctx, unsigned status)
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
	craft_reply_header(req, "Content-Security-Policy", PAGE_CSP);
	craft_reply_header(req, "Cache-Control", "no-store");
	craft_reply_html(req, status, out.data, out.len);
	craft_buf_cleanup(&out);
}

/* ids the user voted for, from /api/votes/mine. */
static bool voted_for(json_t *mine, json_int_t id)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(mine, "origami_ids"), i,
			   v) if (json_integer_value(v) == id) return true;
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

void page_home(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct session_user user;
	bool in = session_user(req, app->jwks, &app->session, &user);
	struct backend_call calls[5] = {
	    {.base = app->products, .path = "/api/products", .route = "/api/products"},
	    {.base = app->recommendation,
	     .path = "/api/origami-of-the-day",
	     .route = "/api/origami-of-the-day"},
	    {.base = app->voting, .path = "/health", .route = "/health"},
	    {.base = app->auth, .path = "/health", .route = "/health"},
	    {.base = app->products,
	     .path = "/api/votes/mine",
	     .route = "/api/votes/mine",
	     .bearer = in ? user.token : NULL},
	};
	struct backend_answer a[5];
	backends_run(req, calls, a, in ? 5 : 4);
	json_t *ctx = base_context(req, "Origami showcase", &user, in);
	bool catalogue = a[0].ok && json_is_array(a[0].json);
	json_t *pagination = json_object();
	json_object_set_new(ctx, "products",
			    catalogue ? cards(req, a[0].json, in ? a[4].json : NULL, in,
					      page_number(req), pagination)
				      : json_array());
	json_object_set_new(ctx, "pagination", pagination);
	json_object_set_new(ctx, "products_error",
			    catalogue ? json_null()
				      : json_string("The collection is resting for a moment — the "
						    "catalogue is unavailable. Please try again "
						    "shortly."));
	bool daily = a[1].ok && json_is_object(a[1].json);
	if (daily) {
		json_t *d = json_deep_copy(a[1].json);
		json_object_set_new(
		    d, "votes_label",
		    json_string(
			votes_label(req->arena, json_integer_value(json_object_get(d, "votes")))));
		json_object_set_new(ctx, "daily", d);
	} else {
		json_object_set_new(ctx, "daily", json_null());
	}
	json_object_set_new(ctx, "daily_error",
			    daily ? json_null()
				  : json_string("The origami of the day is taking a break — "
						"recommendations are unavailable right now."));
	bool up[4] = {catalogue, a[2].ok, a[1].status == 200 || a[1].status == 404, a[3].ok};
	json_t *status = json_array();
	for (int i = 0; i < 4; i++)
		json_array_append_new(
		    status, json_pack("{s:s, s:b}", "name", backend_status_names[i], "up", up[i]));
	json_object_set_new(ctx, "status", status);
	render(req, "home", ctx, 200);
}

void page_cards(craft_req *req)
{
	struct frontend_app *app = req->app;
	struct session_user user;
	bool in = session_user(req, app->jwks, &app->session, &user);
	struct backend_call calls[2] = {
	    {.base = app->products, .path = "/api/products", .route = "/api/products"},
	    {.base = app->products,
	     .path = "/api/votes/mine",
	     .route = "/api/votes/mine",
	     .bearer = in ? user.token : NULL},
	};
	struct backend_answer a[2];
	backends_run(req, calls, a, in ? 2 : 1);
	if (!a[0].ok || !json_is_array(a[0].json)) {
		craft_reply_error(req, 503, "The catalogue is unavailable");
		return;
	}
	json_t *pagination = json_object();
	json_t *list =
	    cards(req, a[0].json, in ? a[1].json : NULL, in, page_number(req), pagination);
	json_t *next = json_object_get(pagination, "next_page");
	if (json_is_integer(next))
		craft_reply_header(
		    req, "X-Next-Page",
		    craft_arena_sprintf(req->arena, "%lld", (long long)json_integer_value(next)));
	json_t *ctx = base_context(req, "Origami", &user, in);
	json_object_set_new(ctx, "products", list);
	json_object_set_new(ctx, "pagination", pagination);
	render(req, "cards", ctx, 200);
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
	render(req, "login", ctx, 200);
}
