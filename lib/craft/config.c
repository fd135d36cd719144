/* config.c - load a table of typed settings from the environment. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common.h"
#include "log.h"

#define SHOWN_VALUE_MAX 48 /* bytes of a bad value quoted in an error */

/* The error text being built: messages joined by "; ", cut at the bound. */
struct errors {
	char *buf;
	size_t len;
	size_t used;
	int count;
};

static void add_error(struct errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_error(struct errors *e, const char *fmt, ...)
{
	va_list ap;

	e->count++;
	if (!e->buf || e->used + 1 >= e->len)
		return;
	if (e->used) {
		int n = snprintf(e->buf + e->used, e->len - e->used, "; ");
		e->used += (size_t)n < e->len - e->used ? (size_t)n : e->len - e->used - 1;
	}
	va_start(ap, fmt);
	int n = vsnprintf(e->buf + e->used, e->len - e->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		e->used += (size_t)n < e->len - e->used ? (size_t)n : e->len - e->used - 1;
}

/* A printable excerpt of a bad (non-secret) value for an error message. */
static void shown_value(const char *value, char out[SHOWN_VALUE_MAX + 4])
{
	size_t i;

	for (i = 0; value[i] && i < SHOWN_VALUE_MAX; i++)
		out[i] = value[i] >= 0x20 && value[i] < 0x7f && value[i] != '"' ? value[i] : '?';
	if (value[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static const char *env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static void *slot(void *target, size_t offset)
{
	return (char *)target + offset;
}

/* A whole decimal number, no surrounding blanks, within long. */
static bool parse_long(const char *text, long *out)
{
	char *end;

	if (!text[0] || isspace((unsigned char)text[0]))
		return false;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end != '\0')
		return false;
	*out = v;
	return true;
}

static const struct {
	const char *text;
	bool value;
} bool_words[] = {
    {.text = "true", .value = true}, {.text = "false", .value = false},
    {.text = "1", .value = true},    {.text = "0", .value = false},
    {.text = "yes", .value = true},  {.text = "no", .value = false},
    {.text = "on", .value = true},   {.text = "off", .value = false},
};

static bool parse_bool(const char *text, bool *out)
{
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(bool_words); i++) {
		if (strcasecmp(text, bool_words[i].text) == 0) {
			*out = bool_words[i].value;
			return true;
		}
	}
	return false;
}

static void load_int(const struct craft_config_field *f, void *target, const char *text,
		     struct errors *e)
{
	long v;
	char shown[SHOWN_VALUE_MAX + 4];

	if (parse_long(text, &v) && v >= f->min && v <= f->max) {
		memcpy(slot(target, f->offset), &v, sizeof(v));
		return;
	}
	if (f->secret) {
		add_error(e, "%s must be an integer between %ld and %ld", f->name, f->min, f->max);
		return;
	}
	shown_value(text, shown);
	add_error(e, "%s must be an integer between %ld and %ld (got \"%s\")", f->name, f->min,
		  f->max, shown);
}

static void load_bool(const struct craft_config_field *f, void *target, const char *text,
		      struct errors *e)
{
	bool v;
	char shown[SHOWN_VALUE_MAX + 4];

	if (parse_bool(text, &v)) {
		memcpy(slot(target, f->offset), &v, sizeof(v));
		return;
	}
	if (f->secret) {
		add_error(e, "%s must be true/false, 1/0, yes/no or on/off", f->name);
		return;
	}
	shown_value(text, shown);
	add_error(e, "%s must be true/false, 1/0, yes/no or on/off (got \"%s\")", f->name, shown);
}

static void load_str(const struct craft_config_field *f, void *target, const char *text,
		     struct errors *e)
{
	size_t min = f->min > 0 ? (size_t)f->min : 0;
	size_t max = f->max > 0 ? (size_t)f->max : CRAFT_CONFIG_STR_MAX;
	size_t len = strnlen(text, max + 1);

	if (len == 0 && min > 0) {
		add_error(e, "%s must not be empty%s%s", f->name, f->help ? ": " : "",
			  f->help ? f->help : "");
		return;
	}
	if (len < min || len > max) {
		add_error(e, "%s must be between %zu and %zu characters long", f->name, min, max);
		return;
	}
	char *copy = craft_xstrdup(text);
	memcpy(slot(target, f->offset), &copy, sizeof(copy));
}

static void load_field(const struct craft_config_field *f, void *target, const char *raw,
		       bool development, struct errors *e)
{
	bool unset = !raw || (f->type != CRAFT_CONFIG_STR && raw[0] == '\0');
	const char *text = unset ? f->default_value : raw;

	if (!text) {
		add_error(e, "%s is required but not set%s%s", f->name, f->help ? ": " : "",
			  f->help ? f->help : "");
		return;
	}
	if (f->secret && !development && f->default_value && f->default_value[0] &&
	    strcmp(text, f->default_value) == 0) {
		add_error(e, "%s is still the development default; set a secret value", f->name);
		return;
	}
	switch (f->type) {
	case CRAFT_CONFIG_STR: load_str(f, target, text, e); break;
	case CRAFT_CONFIG_INT: load_int(f, target, text, e); break;
	case CRAFT_CONFIG_BOOL: load_bool(f, target, text, e); break;
	default: add_error(e, "%s has an unknown type in the configuration table", f->name);
	}
}

int craft_config_load(const struct craft_config_field *fields, size_t count, void *target,
		      craft_config_lookup lookup, void *lookup_ctx, bool development, char *err,
		      size_t err_len)
{
	struct errors e = {.buf = err, .len = err_len, .used = 0, .count = 0};
	char *none = NULL;

	if (err && err_len)
		err[0] = '\0';
	if ((!fields && count) || !target) {
		add_error(&e, "no configuration table or target");
		return CRAFT_EINVAL;
	}
	if (!lookup)
		lookup = env_lookup;
	for (size_t i = 0; i < count; i++) {
		if (fields[i].type == CRAFT_CONFIG_STR)
			memcpy(slot(target, fields[i].offset), &none, sizeof(none));
	}
	for (size_t i = 0; i < count; i++) {
		if (!fields[i].name) {
			add_error(&e, "configuration field %zu has no name", i);
			continue;
		}
		load_field(&fields[i], target, lookup(lookup_ctx, fields[i].name), development, &e);
	}
	if (e.count) {
		craft_config_free(fields, count, target);
		return CRAFT_EINVAL;
	}
	return CRAFT_OK;
}

void craft_config_free(const struct craft_config_field *fields, size_t count, void *target)
{
	char *none = NULL;

	if (!fields || !target)
		return;
	for (size_t i = 0; i < count; i++) {
		if (fields[i].type != CRAFT_CONFIG_STR)
			continue;
		char *copy;
		memcpy(&copy, slot(target, fields[i].offset), sizeof(copy));
		free(copy);
		memcpy(slot(target, fields[i].offset), &none, sizeof(none));
	}
}

bool craft_config_is_development(const char *deployment_environment)
{
	static const char *const names[] = {"development", "dev", "local", "test"};

	if (!deployment_environment || !deployment_environment[0])
		return false; /* fail closed: only an explicit name means development */
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(names); i++) {
		if (strcasecmp(deployment_environment, names[i]) == 0)
			return true;
	}
	return false;
}

/* ---- logging the effective values ------------------------------------- */

static const void *cslot(const void *target, size_t offset)
{
	return (const char *)target + offset;
}

/* "(default)", "(empty)" or "(set)": what may be said about a secret. */
static const char *secret_state(const struct craft_config_field *f, const void *target)
{
	const char *def = f->default_value;
	const char *s;
	long n, dn;
	bool b, db;

	switch (f->type) {
	case CRAFT_CONFIG_STR:
		memcpy(&s, cslot(target, f->offset), sizeof(s));
		if (s && def && strcmp(s, def) == 0)
			return "(default)";
		return s && s[0] ? "(set)" : "(empty)";
	case CRAFT_CONFIG_INT:
		memcpy(&n, cslot(target, f->offset), sizeof(n));
		return def && parse_long(def, &dn) && dn == n ? "(default)" : "(set)";
	case CRAFT_CONFIG_BOOL:
		memcpy(&b, cslot(target, f->offset), sizeof(b));
		return def && parse_bool(def, &db) && db == b ? "(default)" : "(set)";
	}
	return "(set)";
}

static json_t *field_value(const struct craft_config_field *f, const void *target)
{
	const char *s;
	long n;
	bool b;

	if (f->secret)
		return json_string(secret_state(f, target));
	switch (f->type) {
	case CRAFT_CONFIG_STR:
		memcpy(&s, cslot(target, f->offset), sizeof(s));
		if (!s)
			return json_null();
		json_t *str = json_string(s);
		return str ? str : json_string("(not UTF-8)");
	case CRAFT_CONFIG_INT:
		memcpy(&n, cslot(target, f->offset), sizeof(n));
		return json_integer(n);
	case CRAFT_CONFIG_BOOL:
		memcpy(&b, cslot(target, f->offset), sizeof(b));
		return json_boolean(b);
	}
	return json_null();
}

void craft_config_log(const struct craft_config_field *fields, size_t count, const void *target)
{
	if (!fields || !target || !craft_log_enabled(CRAFT_LOG_INFO))
		return;
	json_t *config = json_object();
	if (!config)
		return;
	for (size_t i = 0; i < count; i++) {
		if (fields[i].name)
			json_object_set_new(config, fields[i].name,
					    field_value(&fields[i], target));
	}
	craft_log(CRAFT_LOG_INFO, NULL, "configuration", "{s:o}", "config", config);
}
