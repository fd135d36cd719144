/* log.h - structured logs: one JSON object per line on stdout.
 *
 * Every line has ts (RFC 3339 UTC with milliseconds), level, service, msg,
 * and trace_id/span_id when a span is given, plus the caller's fields.
 * Never pass secrets, passwords or tokens as fields.
 */
#ifndef CRAFT_LOG_H
#define CRAFT_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "trace.h"

enum craft_log_level {
	CRAFT_LOG_DEBUG = 0,
	CRAFT_LOG_INFO = 1,
	CRAFT_LOG_WARN = 2,
	CRAFT_LOG_ERROR = 3,
};

/* Set the process-wide service name, minimum level and stream (NULL = stdout).
 * Call once at start-up, before any thread logs. Until then: "craft", INFO, stdout. */
void craft_log_init(const char *service, enum craft_log_level min_level, FILE *out);

/* "debug", "info", "warn"/"warning", "error" (any case) -> 0, else CRAFT_EINVAL. */
int craft_log_level_parse(const char *name, enum craft_log_level *out);

bool craft_log_enabled(enum craft_log_level level);

/* Write one line. `span` may be NULL. `fields_fmt` is a jansson json_pack()
 * object format ("{s:s, s:i}") for the extra fields, or NULL for none; a
 * format error is reported in a "log_error" field instead of the fields.
 * Extra fields never replace the standard ones. References passed with "o"
 * are taken even when the level is filtered out. msg is cut to 4 KiB, invalid
 * UTF-8 in it becomes '?', and a line over 64 KiB is replaced by a short one
 * with "log_error". Never aborts. Thread-safe: each line is written whole. */
void craft_log(enum craft_log_level level, const craft_span *span, const char *msg,
	       const char *fields_fmt, ...);

#endif
