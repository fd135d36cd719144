/* log.c - JSON lines: build the object with jansson, write it whole under a lock.
 *
 * The settings below are the module's process-wide state, written once by
 * craft_log_init() before threads start and only read afterwards. Logging
 * never aborts: whatever fails, the line is replaced by a shorter one that
 * says so.
 */
#include "log.h"
#include "utf8.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "common.h"

#define SERVICE_MAX    128
#define MSG_MAX        4096  /* bytes of msg kept */
#define LINE_MAX_BYTES 65536 /* a longer line is replaced by a notice */
#define TS_LEN         32

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_service[SERVICE_MAX] = "craft";
static enum craft_log_level log_min_level = CRAFT_LOG_INFO;
static FILE *log_out; /* NULL: stdout */

static const char *const level_names[] = {
    [CRAFT_LOG_DEBUG] = "debug",
    [CRAFT_LOG_INFO] = "info",
    [CRAFT_LOG_WARN] = "warn",
    [CRAFT_LOG_ERROR] = "error",
};

void craft_log_init(const char *service, enum craft_log_level min_level, FILE *out)
{
	pthread_mutex_lock(&log_lock);
	snprintf(log_service, sizeof(log_service), "%s", service ? service : "craft");
	log_min_level = min_level;
	log_out = out;
	pthread_mutex_unlock(&log_lock);
}

int craft_log_level_parse(const char *name, enum craft_log_level *out)
{
	if (!name || !out)
		return CRAFT_EINVAL;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum craft_log_level)i;
			return CRAFT_OK;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = CRAFT_LOG_WARN;
		return CRAFT_OK;
	}
	return CRAFT_EINVAL;
}

bool craft_log_enabled(enum craft_log_level level)
{
	return level >= log_min_level;
}

/* "2026-11-25T13:31:32.123Z" */
static void format_ts(char out[TS_LEN])
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(out, TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, TS_LEN - n, ".%03ldZ", now.tv_nsec / 1000000);
}

/* A JSON string of at most `max` bytes of s; invalid UTF-8 bytes become '?'
 * so that a bad message still produces a line. NULL only when out of memory. */
static json_t *safe_string(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	json_t *str = json_stringn(s, n);
	if (str)
		return str;
	char *copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	str = json_stringn(copy, n);
	free(copy);
	return str;
}

/* ts, level, service, msg, trace_id, span_id. NULL only when out of memory. */
static json_t *base_fields(enum craft_log_level level, const craft_span *span, const char *msg)
{
	char ts[TS_LEN];
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	format_ts(ts);
	json_object_set_new(obj, "ts", json_string(ts));
	json_object_set_new(obj, "level", json_string(level_names[level]));
	json_object_set_new(obj, "service", safe_string(log_service, SERVICE_MAX));
	json_object_set_new(obj, "msg", safe_string(msg ? msg : "", MSG_MAX));
	const craft_trace_ctx *ctx = craft_span_context(span);
	if (ctx) {
		char trace_hex[CRAFT_TRACE_ID_HEX], span_hex[CRAFT_SPAN_ID_HEX];
		craft_trace_id_hex(ctx->trace_id, trace_hex);
		craft_span_id_hex(ctx->span_id, span_hex);
		json_object_set_new(obj, "trace_id", json_string(trace_hex));
		json_object_set_new(obj, "span_id", json_string(span_hex));
	}
	return obj;
}

/* Is fmt a flat object of string keys ("{s:s, s:i, s:s?, s:o}") whose values
 * are among s s? s* i I f b o O n? Those the log packs itself. */
static bool flat_format(const char *fmt)
{
	const char *p = fmt;
	while (*p == ' ')
		p++;
	if (*p++ != '{')
		return false;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '}')
			return p[1] == '\0';
		if (*p++ != 's')
			return false;
		while (*p == ' ' || *p == ':')
			p++;
		if (!*p || !strchr("siIfboOn", *p))
			return false;
		p++;
		if (p[-1] == 's' && (*p == '?' || *p == '*'))
			p++;
	}
}

/* Pack a flat format (see flat_format) like json_pack, repairing text that
 * is not valid UTF-8 instead of failing; consumes every "o" reference. */
static json_t *pack_flat(const char *fmt, va_list ap)
{
	json_t *obj = json_object();
	if (!obj)
		return NULL;
	for (const char *p = strchr(fmt, '{') + 1; *p && *p != '}';) {
		if (*p == ' ' || *p == ',' || *p == ':') {
			p++;
			continue;
		}
		const char *key = va_arg(ap, const char *); /* p is at the key's 's' */
		p++;
		while (*p == ' ' || *p == ':')
			p++;
		char type = *p++;
		char mod = type == 's' && (*p == '?' || *p == '*') ? *p++ : '\0';
		json_t *v = NULL;
		switch (type) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			/* NULL: omitted with s*, else null (jansson would drop every field) */
			v = str ? craft_utf8_json_string(str) : mod == '*' ? NULL : json_null();
			break;
		}
		case 'i': v = json_integer(va_arg(ap, int)); break;
		case 'I': v = json_integer(va_arg(ap, json_int_t)); break;
		case 'f': v = json_real(va_arg(ap, double)); break;
		case 'b': v = json_boolean(va_arg(ap, int)); break;
		case 'o': v = va_arg(ap, json_t *); break;
		case 'O': v = json_incref(va_arg(ap, json_t *)); break;
		default: v = json_null(); break; /* 'n' */
		}
		if (key && v) {
			json_t *k = craft_utf8_json_string(key);
			json_object_set_new(obj, json_string_value(k), v);
			json_decref(k);
		} else {
			json_decref(v);
		}
	}
	return obj;
}

/* Add the caller's fields; the standard ones are never replaced. */
static void add_fields(json_t *obj, const char *fmt, va_list ap)
{
	json_error_t error = {.text = "out of memory"};
	json_t *fields = flat_format(fmt) ? pack_flat(fmt, ap) : json_vpack_ex(&error, 0, fmt, ap);

	if (!fields) {
		json_object_set_new(obj, "log_error", json_string(error.text));
		return;
	}
	if (json_is_object(fields))
		json_object_update_missing(obj, fields);
	else
		json_object_set_new(obj, "log_error",
				    json_string("fields format did not make an object"));
	json_decref(fields);
}

static void write_line(const char *line, size_t len)
{
	pthread_mutex_lock(&log_lock);
	FILE *out = log_out ? log_out : stdout;
	fwrite(line, 1, len, out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
}

/* Serialize obj plus a newline into a malloc'd buffer; NULL when it fails or
 * the line would exceed LINE_MAX_BYTES. */
static char *encode(const json_t *obj, size_t *len)
{
	size_t n = json_dumpb(obj, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(6));

	if (n == 0 || n >= LINE_MAX_BYTES)
		return NULL;
	char *line = malloc(n + 1);
	if (!line)
		return NULL;
	if (json_dumpb(obj, line, n, JSON_COMPACT | JSON_REAL_PRECISION(6)) != n) {
		free(line);
		return NULL;
	}
	line[n] = '\n';
	*len = n + 1;
	return line;
}

/* The line that replaces one that could not be written as asked. */
static void write_fallback(enum craft_log_level level, const craft_span *span, const char *msg)
{
	json_t *obj = base_fields(level, span, msg ? msg : "");
	char *line = NULL;
	size_t len = 0;

	if (obj) {
		json_object_set_new(obj, "msg", safe_string(msg ? msg : "", 256));
		json_object_set_new(obj, "log_error",
				    json_string("log line too long or unencodable"));
		line = encode(obj, &len);
		json_decref(obj);
	}
	if (line) {
		write_line(line, len);
		free(line);
		return;
	}
	static const char last_resort[] = "{\"level\":\"error\",\"log_error\":\"out of memory\"}\n";
	write_line(last_resort, sizeof(last_resort) - 1);
}

void craft_log(enum craft_log_level level, const craft_span *span, const char *msg,
	       const char *fields_fmt, ...)
{
	char *line = NULL;
	size_t len = 0;

	if ((unsigned)level > CRAFT_LOG_ERROR)
		level = CRAFT_LOG_ERROR;
	if (!craft_log_enabled(level)) {
		if (fields_fmt && strchr(fields_fmt, 'o')) {
			/* json_pack's "o" takes a reference: release it as promised. */
			va_list ap;
			va_start(ap, fields_fmt);
			json_decref(json_vpack_ex(NULL, 0, fields_fmt, ap));
			va_end(ap);
		}
		return;
	}
	json_t *obj = base_fields(level, span, msg);
	if (obj && fields_fmt) {
		va_list ap;
		va_start(ap, fields_fmt);
		add_fields(obj, fields_fmt, ap);
		va_end(ap);
	}
	if (obj)
		line = encode(obj, &len);
	if (line)
		write_line(line, len);
	else
		write_fallback(level, span, msg);
	free(line);
	json_decref(obj);
}
