/* template.h - a small Mustache-like HTML template renderer that escapes by default.
 *
 * A template is parsed once into a flat list of nodes; rendering walks that list
 * against a jansson object and appends to a bounded craft_buf. Syntax:
 *
 *   {{name}} {{a.b.c}}      value, HTML-escaped (strings, numbers, true/false;
 *                           null, missing, objects and arrays give nothing)
 *   {{{name}}} {{& name}}   value, NOT escaped: only for trusted, already-rendered HTML
 *   {{#name}}...{{/name}}   section: once per array element, once for an object or a
 *                           truthy scalar (pushed as the current context), skipped for
 *                           false/null/missing/[]/""/0
 *   {{^name}}...{{/name}}   inverted section: rendered only when the section would be skipped
 *   {{.}}                   the current context (e.g. the array element)
 *   {{! comment }}          nothing
 *   {{> partial}}           another template of the same craft_template_set
 *
 * Names resolve from the innermost context outwards; in a dotted name only the first
 * part does, the rest are looked up inside it. See docs/template.md.
 *
 * Templates and sets are immutable once built: any number of threads may render the
 * same template or set at the same time (the data object must not be modified meanwhile).
 */
#ifndef CRAFT_TEMPLATE_H
#define CRAFT_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

#define CRAFT_TEMPLATE_MAX_NESTING       32         /* nested sections within one template */
#define CRAFT_TEMPLATE_MAX_PARTIAL_DEPTH 16         /* partials including partials, at render */
#define CRAFT_TEMPLATE_MAX_SIZE          (1u << 20) /* bytes of one template's source */
#define CRAFT_TEMPLATE_MAX_NAME          128        /* bytes of a tag name or template name */
#define CRAFT_TEMPLATE_SET_MAX           256        /* templates in one set */

typedef struct craft_template craft_template;
typedef struct craft_template_set craft_template_set;

/* A template given in memory, for craft_template_set_new(). */
struct craft_template_source {
	const char *name; /* what {{> name}} refers to */
	const char *text;
	size_t len;
};

/* Append `s` (`len` bytes) to `out` with & < > " ' ` = replaced by character
 * references. Returns 0, or CRAFT_ETOOBIG with `out` unchanged. */
int craft_html_escape(craft_buf *out, const char *s, size_t len);

/* Parse `len` bytes of `text` into a new template called `name` (used in error
 * messages). The text is copied. On success *out is the template (free with
 * craft_template_free()). On a syntax error returns CRAFT_EINVAL and writes
 * "name:line: problem" into err (if err_len > 0); CRAFT_ETOOBIG when the text is
 * larger than CRAFT_TEMPLATE_MAX_SIZE. Partial names are checked only by sets. */
int craft_template_parse(const char *name, const char *text, size_t len, craft_template **out,
			 char *err, size_t err_len);

/* Free a template; NULL does nothing. */
void craft_template_free(craft_template *t);

/* The name given at parse time (for tests and error messages of callers). */
const char *craft_template_name(const craft_template *t);

/* Render `t` with `data` (any JSON value, usually an object; NULL means no data) as
 * the outermost context, appending to `out`. Partials are looked up in `partials`
 * (may be NULL). Returns 0; CRAFT_ETOOBIG when `out` would pass its bound or partials
 * nest deeper than CRAFT_TEMPLATE_MAX_PARTIAL_DEPTH; CRAFT_ENOTFOUND for a partial
 * that is not in `partials`. On error `out` is restored to its length before the call. */
int craft_template_render(const craft_template *t, const craft_template_set *partials, json_t *data,
			  craft_buf *out);

/* Build a set from `count` in-memory templates (texts are copied). Every {{> name}}
 * must name a template of the set, names must be unique and match [A-Za-z0-9_.-]+.
 * Returns 0 with *out set (free with craft_template_set_free()), CRAFT_EINVAL with a
 * "name:line: problem" message in err, or CRAFT_ETOOBIG (too many or too large). */
int craft_template_set_new(const struct craft_template_source *sources, size_t count,
			   craft_template_set **out, char *err, size_t err_len);

/* Load every regular "*.html" file of `dir` (not recursive; names starting with '.'
 * are skipped) into a set; a template's name is its file name without ".html".
 * Errors as craft_template_set_new(), plus CRAFT_EIO (with a message) when the
 * directory or a file cannot be read. */
int craft_template_set_load_dir(const char *dir, craft_template_set **out, char *err,
				size_t err_len);

/* The template called `name`, or NULL. Owned by the set. */
const craft_template *craft_template_set_get(const craft_template_set *set, const char *name);

/* Render the set's template `name` with the set as partials; CRAFT_ENOTFOUND when
 * there is no such template, otherwise as craft_template_render(). */
int craft_template_set_render(const craft_template_set *set, const char *name, json_t *data,
			      craft_buf *out);

/* Free a set and its templates; NULL does nothing. */
void craft_template_set_free(craft_template_set *set);

#endif
