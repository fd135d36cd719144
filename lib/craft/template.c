#include "template.h"

#include "common.h"
#include "file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The compiled form: a flat array of nodes. A section's body is the nodes between
 * it and its `end` index, so rendering never looks at the source text again. */
enum node_kind {
	NODE_TEXT,     /* literal bytes */
	NODE_VALUE,    /* {{name}}: escaped */
	NODE_RAW,      /* {{{name}}} or {{& name}} */
	NODE_SECTION,  /* {{#name}} */
	NODE_INVERTED, /* {{^name}} */
	NODE_PARTIAL,  /* {{> name}} */
};

struct node {
	enum node_kind kind;
	unsigned line;   /* where the tag (or text) starts, for messages */
	const char *str; /* text bytes or the name, pointing into the template's source copy */
	size_t len;
	size_t head; /* names: length of the first dotted part */
	size_t end;  /* sections: index of the first node after the body */
};

struct craft_template {
	char *name;
	size_t name_len;
	char *src; /* private copy of the text; nodes point into it */
	struct node *nodes;
	size_t count;
	size_t cap;
};

struct craft_template_set {
	craft_template **items; /* sorted by name */
	size_t count;
};

/* ---- escaping ---- */

/* The replacement for each byte that must not appear raw in HTML text or in a
 * quoted or unquoted attribute value. */
static const char *entity_for(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	case '`': return "&#96;";
	case '=': return "&#61;";
	default: return NULL;
	}
}

int craft_html_escape(craft_buf *out, const char *s, size_t len)
{
	size_t start_len = out->len;
	size_t run = 0; /* start of the pending run of safe bytes */
	int rc = CRAFT_OK;

	for (size_t i = 0; i < len; i++) {
		const char *ent = entity_for((unsigned char)s[i]);
		if (!ent)
			continue;
		rc = craft_buf_append(out, s + run, i - run);
		if (!rc)
			rc = craft_buf_append_str(out, ent);
		if (rc)
			goto out;
		run = i + 1;
	}
	rc = craft_buf_append(out, s + run, len - run);
out:
	if (rc)
		craft_buf_truncate(out, start_len);
	return rc;
}

/* ---- parsing ---- */

struct parser {
	craft_template *t;
	const char *p;   /* cursor in t->src */
	const char *end; /* end of t->src */
	unsigned line;
	size_t open[CRAFT_TEMPLATE_MAX_NESTING]; /* node index of each open section */
	unsigned depth;
	char *err;
	size_t err_len;
};

static int fail(const struct parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct parser *ps, unsigned line, const char *fmt, ...)
{
	if (!ps->err || ps->err_len == 0)
		return CRAFT_EINVAL;
	int n = snprintf(ps->err, ps->err_len, "%s:%u: ", ps->t->name, line);
	if (n < 0 || (size_t)n >= ps->err_len)
		return CRAFT_EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return CRAFT_EINVAL;
}

static struct node *add_node(craft_template *t, enum node_kind kind, unsigned line, const char *str,
			     size_t len)
{
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->nodes = craft_xrealloc(t->nodes, t->cap * sizeof(*t->nodes));
	}
	struct node *n = &t->nodes[t->count++];
	*n = (struct node){.kind = kind, .line = line, .str = str, .len = len};
	return n;
}

static unsigned count_lines(const char *s, size_t len)
{
	unsigned n = 0;
	for (const char *q = s; (q = memchr(q, '\n', len - (size_t)(q - s))) != NULL; q++)
		n++;
	return n;
}

static void add_text(struct parser *ps, const char *s, size_t len)
{
	if (len == 0)
		return;
	add_node(ps->t, NODE_TEXT, ps->line, s, len);
	ps->line += count_lines(s, len);
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* "." or dot-separated parts of [A-Za-z0-9_-]+; sets *head to the first part's length. */
static bool valid_value_name(const char *s, size_t len, size_t *head)
{
	*head = len;
	if (len == 1 && s[0] == '.')
		return true;
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (is_name_char(s[i]))
			continue;
		if (s[i] != '.' || s[i + 1] == '.')
			return false;
		if (*head == len)
			*head = i;
	}
	return true;
}

/* Template (and so partial) names: [A-Za-z0-9_.-]+ within CRAFT_TEMPLATE_MAX_NAME. */
static bool valid_template_name(const char *s, size_t len)
{
	if (len == 0 || len > CRAFT_TEMPLATE_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(s[i]) && s[i] != '.')
			return false;
	return true;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int open_section(struct parser *ps, enum node_kind kind, unsigned line, const char *name,
			size_t len, size_t head)
{
	if (ps->depth == CRAFT_TEMPLATE_MAX_NESTING)
		return fail(ps, line, "sections nested deeper than %d", CRAFT_TEMPLATE_MAX_NESTING);
	ps->open[ps->depth++] = ps->t->count;
	add_node(ps->t, kind, line, name, len)->head = head;
	return CRAFT_OK;
}

static int close_section(struct parser *ps, unsigned line, const char *name, size_t len)
{
	if (ps->depth == 0)
		return fail(ps, line, "{{/%.*s}} without an open section", (int)len, name);
	struct node *open = &ps->t->nodes[ps->open[ps->depth - 1]];
	if (open->len != len || memcmp(open->str, name, len) != 0)
		return fail(ps, line, "{{/%.*s}} does not close {{%c%.*s}} opened on line %u",
			    (int)len, name, open->kind == NODE_SECTION ? '#' : '^', (int)open->len,
			    open->str, open->line);
	open->end = ps->t->count;
	ps->depth--;
	return CRAFT_OK;
}

/* One tag whose content (without the braces) is [s, s + len). */
static int compile_tag(struct parser *ps, unsigned line, bool triple, const char *s, size_t len)
{
	char sigil = (!triple && len > 0) ? s[0] : '\0';
	if (sigil == '!')
		return CRAFT_OK;
	if (sigil == '=')
		return fail(ps, line, "changing delimiters ({{=...=}}) is not supported");
	if (sigil && strchr("#^/&>", sigil)) {
		s++;
		len--;
	}
	trim(&s, &len);
	if (len == 0)
		return fail(ps, line, "empty tag name");
	if (len > CRAFT_TEMPLATE_MAX_NAME)
		return fail(ps, line, "tag name longer than %d bytes", CRAFT_TEMPLATE_MAX_NAME);
	if (sigil == '>') {
		if (!valid_template_name(s, len))
			return fail(ps, line, "invalid partial name \"%.*s\"", (int)len, s);
		add_node(ps->t, NODE_PARTIAL, line, s, len);
		return CRAFT_OK;
	}
	size_t head;
	if (!valid_value_name(s, len, &head))
		return fail(ps, line, "invalid tag name \"%.*s\"", (int)len, s);
	switch (sigil) {
	case '#': return open_section(ps, NODE_SECTION, line, s, len, head);
	case '^': return open_section(ps, NODE_INVERTED, line, s, len, head);
	case '/': return close_section(ps, line, s, len);
	default: break;
	}
	bool raw = triple || sigil == '&';
	add_node(ps->t, raw ? NODE_RAW : NODE_VALUE, line, s, len)->head = head;
	return CRAFT_OK;
}

/* The tag starting at `open` ("{{"): find its end, compile it, move past it. */
static int parse_tag(struct parser *ps, const char *open)
{
	const char *inner = open + 2;
	bool triple = inner < ps->end && *inner == '{';
	const char *closer = triple ? "}}}" : "}}";
	size_t closer_len = triple ? 3 : 2;
	inner += triple;
	const char *stop = memmem(inner, (size_t)(ps->end - inner), closer, closer_len);
	if (!stop)
		return fail(ps, ps->line, "unclosed tag \"%s\"", triple ? "{{{" : "{{");
	unsigned line = ps->line;
	ps->p = stop + closer_len;
	ps->line += count_lines(open, (size_t)(ps->p - open));
	return compile_tag(ps, line, triple, inner, (size_t)(stop - inner));
}

static int parse_all(struct parser *ps)
{
	while (ps->p < ps->end) {
		const char *open = memmem(ps->p, (size_t)(ps->end - ps->p), "{{", 2);
		if (!open) {
			add_text(ps, ps->p, (size_t)(ps->end - ps->p));
			break;
		}
		add_text(ps, ps->p, (size_t)(open - ps->p));
		int rc = parse_tag(ps, open);
		if (rc)
			return rc;
	}
	if (ps->depth > 0) {
		const struct node *n = &ps->t->nodes[ps->open[ps->depth - 1]];
		return fail(ps, n->line, "{{%c%.*s}} is never closed",
			    n->kind == NODE_SECTION ? '#' : '^', (int)n->len, n->str);
	}
	return CRAFT_OK;
}

int craft_template_parse(const char *name, const char *text, size_t len, craft_template **out,
			 char *err, size_t err_len)
{
	*out = NULL;
	if (err && err_len)
		err[0] = '\0';
	craft_template *t = craft_xcalloc(1, sizeof(*t));
	t->name = craft_xstrdup(name ? name : "template");
	t->name_len = strlen(t->name);
	struct parser ps = {.t = t, .line = 1, .err = err, .err_len = err_len};
	int rc;
	if (len > CRAFT_TEMPLATE_MAX_SIZE) {
		rc = CRAFT_ETOOBIG;
		fail(&ps, 1, "template larger than %u bytes", CRAFT_TEMPLATE_MAX_SIZE);
		goto out;
	}
	t->src = craft_xmalloc(len + 1);
	if (len)
		memcpy(t->src, text, len);
	t->src[len] = '\0';
	ps.p = t->src;
	ps.end = t->src + len;
	rc = parse_all(&ps);
out:
	if (rc)
		craft_template_free(t);
	else
		*out = t;
	return rc;
}

void craft_template_free(craft_template *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->src);
	free(t->name);
	free(t);
}

const char *craft_template_name(const craft_template *t)
{
	return t->name;
}

/* ---- rendering ---- */

/* The context stack lives on the C stack: each section pushes a frame. */
struct frame {
	json_t *value;
	const struct frame *up;
};

struct render {
	const craft_template_set *set;
	craft_buf *out;
	unsigned depth; /* partials currently being rendered */
};

static const craft_template *set_find(const craft_template_set *set, const char *name, size_t len);

static json_t *lookup(const struct frame *ctx, const struct node *n)
{
	if (n->len == 1 && n->str[0] == '.')
		return ctx ? ctx->value : NULL;
	json_t *v = NULL;
	for (const struct frame *f = ctx; f && !v; f = f->up)
		if (json_is_object(f->value))
			v = json_object_getn(f->value, n->str, n->head);
	/* Later parts are looked up only inside the value the first part found. */
	for (size_t pos = n->head; v && pos < n->len;) {
		const char *part = n->str + pos + 1;
		const char *dot = memchr(part, '.', n->len - pos - 1);
		size_t part_len = dot ? (size_t)(dot - part) : n->len - pos - 1;
		v = json_is_object(v) ? json_object_getn(v, part, part_len) : NULL;
		pos += 1 + part_len;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return true;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0.0;
	case JSON_TRUE: return true;
	default: return false;
	}
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
static void format_real(char *buf, size_t size, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static int write_value(craft_buf *out, const json_t *v, bool escape)
{
	char num[64];
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		if (escape)
			return craft_html_escape(out, json_string_value(v), json_string_length(v));
		return craft_buf_append(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return craft_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		format_real(num, sizeof(num), json_real_value(v));
		return craft_buf_append_str(out, num);
	case JSON_TRUE: return craft_buf_append_str(out, "true");
	case JSON_FALSE: return craft_buf_append_str(out, "false");
	default: return CRAFT_OK; /* null, missing, objects and arrays print nothing */
	}
}

static int render_nodes(const craft_template *t, size_t begin, size_t end, const struct frame *ctx,
			struct render *r);

static int render_section(const craft_template *t, size_t i, const struct frame *ctx,
			  struct render *r)
{
	const struct node *n = &t->nodes[i];
	json_t *v = lookup(ctx, n);
	if (n->kind == NODE_INVERTED)
		return truthy(v) ? CRAFT_OK : render_nodes(t, i + 1, n->end, ctx, r);
	if (!truthy(v))
		return CRAFT_OK;
	if (!json_is_array(v)) {
		struct frame f = {.value = v, .up = ctx};
		return render_nodes(t, i + 1, n->end, &f, r);
	}
	size_t k;
	json_t *item;
	json_array_foreach (v, k, item) {
		struct frame f = {.value = item, .up = ctx};
		int rc = render_nodes(t, i + 1, n->end, &f, r);
		if (rc)
			return rc;
	}
	return CRAFT_OK;
}

static int render_partial(const struct node *n, const struct frame *ctx, struct render *r)
{
	const craft_template *p = r->set ? set_find(r->set, n->str, n->len) : NULL;
	if (!p)
		return CRAFT_ENOTFOUND;
	if (r->depth >= CRAFT_TEMPLATE_MAX_PARTIAL_DEPTH)
		return CRAFT_ETOOBIG;
	r->depth++;
	int rc = render_nodes(p, 0, p->count, ctx, r);
	r->depth--;
	return rc;
}

static int render_nodes(const craft_template *t, size_t begin, size_t end, const struct frame *ctx,
			struct render *r)
{
	int rc = CRAFT_OK;
	for (size_t i = begin; i < end && !rc;) {
		const struct node *n = &t->nodes[i];
		switch (n->kind) {
		case NODE_TEXT: rc = craft_buf_append(r->out, n->str, n->len); break;
		case NODE_VALUE: rc = write_value(r->out, lookup(ctx, n), true); break;
		case NODE_RAW: rc = write_value(r->out, lookup(ctx, n), false); break;
		case NODE_PARTIAL: rc = render_partial(n, ctx, r); break;
		case NODE_SECTION:
		case NODE_INVERTED:
			rc = render_section(t, i, ctx, r);
			i = n->end;
			continue;
		}
		i++;
	}
	return rc;
}

int craft_template_render(const craft_template *t, const craft_template_set *partials, json_t *data,
			  craft_buf *out)
{
	size_t start_len = out->len;
	struct frame top = {.value = data, .up = NULL};
	struct render r = {.set = partials, .out = out, .depth = 0};
	int rc = render_nodes(t, 0, t->count, &top, &r);
	if (rc)
		craft_buf_truncate(out, start_len);
	return rc;
}

/* ---- sets ---- */

static int name_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
	if (c)
		return c;
	return (a_len > b_len) - (a_len < b_len);
}

static const craft_template *set_find(const craft_template_set *set, const char *name, size_t len)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const craft_template *t = set->items[mid];
		int c = name_cmp(name, len, t->name, t->name_len);
		if (c == 0)
			return t;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int template_ptr_cmp(const void *a, const void *b)
{
	const craft_template *ta = *(craft_template *const *)a;
	const craft_template *tb = *(craft_template *const *)b;
	return name_cmp(ta->name, ta->name_len, tb->name, tb->name_len);
}

static int set_error(char *err, size_t err_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_error(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Every {{> name}} of every template must name a template of the set. */
static int check_partials(const craft_template_set *set, char *err, size_t err_len)
{
	for (size_t i = 0; i < set->count; i++) {
		const craft_template *t = set->items[i];
		for (size_t k = 0; k < t->count; k++) {
			const struct node *n = &t->nodes[k];
			if (n->kind == NODE_PARTIAL && !set_find(set, n->str, n->len))
				return set_error(err, err_len, CRAFT_EINVAL,
						 "%s:%u: unknown partial {{> %.*s}}", t->name,
						 n->line, (int)n->len, n->str);
		}
	}
	return CRAFT_OK;
}

static int set_fill(craft_template_set *set, const struct craft_template_source *sources,
		    size_t count, char *err, size_t err_len)
{
	for (size_t i = 0; i < count; i++) {
		const char *name = sources[i].name ? sources[i].name : "";
		if (!valid_template_name(name, strlen(name)))
			return set_error(err, err_len, CRAFT_EINVAL,
					 "invalid template name \"%.*s\"", CRAFT_TEMPLATE_MAX_NAME,
					 name);
		int rc = craft_template_parse(name, sources[i].text, sources[i].len,
					      &set->items[set->count], err, err_len);
		if (rc)
			return rc;
		set->count++;
	}
	qsort(set->items, set->count, sizeof(craft_template *), template_ptr_cmp);
	for (size_t i = 1; i < set->count; i++)
		if (template_ptr_cmp(&set->items[i - 1], &set->items[i]) == 0)
			return set_error(err, err_len, CRAFT_EINVAL,
					 "duplicate template name \"%s\"", set->items[i]->name);
	return check_partials(set, err, err_len);
}

int craft_template_set_new(const struct craft_template_source *sources, size_t count,
			   craft_template_set **out, char *err, size_t err_len)
{
	*out = NULL;
	if (err && err_len)
		err[0] = '\0';
	if (count > CRAFT_TEMPLATE_SET_MAX)
		return set_error(err, err_len, CRAFT_ETOOBIG, "more than %d templates",
				 CRAFT_TEMPLATE_SET_MAX);
	craft_template_set *set = craft_xcalloc(1, sizeof(*set));
	set->items = craft_xcalloc(count ? count : 1, sizeof(craft_template *));
	int rc = set_fill(set, sources, count, err, err_len);
	if (rc)
		craft_template_set_free(set);
	else
		*out = set;
	return rc;
}

const craft_template *craft_template_set_get(const craft_template_set *set, const char *name)
{
	return set_find(set, name, strlen(name));
}

int craft_template_set_render(const craft_template_set *set, const char *name, json_t *data,
			      craft_buf *out)
{
	const craft_template *t = craft_template_set_get(set, name);
	if (!t)
		return CRAFT_ENOTFOUND;
	return craft_template_render(t, set, data, out);
}

void craft_template_set_free(craft_template_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		craft_template_free(set->items[i]);
	free(set->items);
	free(set);
}

/* ---- loading a directory ---- */

/* Files read from a directory; names[] and texts[] own what items[] points to
 * (items[] gets sorted, the owning arrays do not). */
struct loaded {
	struct craft_template_source items[CRAFT_TEMPLATE_SET_MAX];
	char *names[CRAFT_TEMPLATE_SET_MAX];
	char *texts[CRAFT_TEMPLATE_SET_MAX];
	size_t count;
};

static void loaded_free(struct loaded *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->names[i]);
		free(l->texts[i]);
	}
	free(l);
}

/* Read a whole regular file of at most CRAFT_TEMPLATE_MAX_SIZE bytes. */
/* NULL for names that are not "<something>.html" or that start with a dot. */
static char *template_name_of(const char *file)
{
	size_t len = strlen(file);
	const size_t ext = sizeof(".html") - 1;
	if (file[0] == '.' || len <= ext || strcmp(file + len - ext, ".html") != 0)
		return NULL;
	char *name = craft_xstrdup(file);
	name[len - ext] = '\0';
	return name;
}

static int load_entry(DIR *d, const char *dir, const char *file, struct loaded *l, char *err,
		      size_t err_len)
{
	struct stat st;
	char *name = template_name_of(file);
	if (!name)
		return CRAFT_OK;
	if (fstatat(dirfd(d), file, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
		free(name);
		return CRAFT_OK;
	}
	if (l->count == CRAFT_TEMPLATE_SET_MAX) {
		free(name);
		return set_error(err, err_len, CRAFT_ETOOBIG, "%s: more than %d templates", dir,
				 CRAFT_TEMPLATE_SET_MAX);
	}
	char *text = NULL;
	size_t len = 0;
	int rc = craft_file_read(dirfd(d), file, CRAFT_TEMPLATE_MAX_SIZE, &text, &len);
	if (rc) {
		free(name);
		return set_error(err, err_len, rc, "%s/%s: %s", dir, file,
				 rc == CRAFT_ETOOBIG ? "file too large" : "cannot read");
	}
	l->names[l->count] = name;
	l->texts[l->count] = text;
	l->items[l->count++] =
	    (struct craft_template_source){.name = name, .text = text, .len = len};
	return CRAFT_OK;
}

static int source_cmp(const void *a, const void *b)
{
	return strcmp(((const struct craft_template_source *)a)->name,
		      ((const struct craft_template_source *)b)->name);
}

int craft_template_set_load_dir(const char *dir, craft_template_set **out, char *err,
				size_t err_len)
{
	*out = NULL;
	int rc = CRAFT_OK;
	struct loaded *l = craft_xcalloc(1, sizeof(*l));
	DIR *d = opendir(dir);
	if (!d) {
		rc = set_error(err, err_len, CRAFT_EIO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	struct dirent *e;
	while (!rc && (e = readdir(d)) != NULL)
		rc = load_entry(d, dir, e->d_name, l, err, err_len);
	if (rc)
		goto out;
	/* Parse in name order so that the first error reported does not depend on
	 * the order of directory entries. */
	qsort(l->items, l->count, sizeof(l->items[0]), source_cmp);
	rc = craft_template_set_new(l->items, l->count, out, err, err_len);
out:
	if (d)
		closedir(d);
	loaded_free(l);
	return rc;
}
