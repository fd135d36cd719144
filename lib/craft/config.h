/* config.h - a typed configuration table, loaded once from the environment.
 *
 * A service describes its settings as a static table of fields (name,
 * type, default, bounds, secret?, target offset), loads them into its own
 * config struct at start-up and passes that struct explicitly:
 *
 *	struct cfg { long port; const char *api_key; bool cookie_secure; };
 *	static const struct craft_config_field fields[] = {
 *		{.name = "PORT", .type = CRAFT_CONFIG_INT, .default_value = "8000",
 *		 .min = 1, .max = 65535, .offset = offsetof(struct cfg, port),
 *		 .help = "TCP port to listen on"},
 *		...
 *	};
 *	rc = craft_config_load(fields, CRAFT_ARRAY_LEN(fields), &cfg, NULL, NULL,
 *			       craft_config_is_development(env), err, sizeof(err));
 */
#ifndef CRAFT_CONFIG_H
#define CRAFT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CRAFT_CONFIG_STR_MAX 4096 /* STR length bound when max is 0 */

enum craft_config_type {
	CRAFT_CONFIG_STR,  /* target: const char * (a copy, see craft_config_free) */
	CRAFT_CONFIG_INT,  /* target: long */
	CRAFT_CONFIG_BOOL, /* target: bool */
};

struct craft_config_field {
	const char *name; /* environment variable */
	enum craft_config_type type;
	const char *default_value; /* text form; NULL = required */
	long min, max;             /* INT: inclusive bounds; STR: length bounds (max 0 = 4096) */
	bool secret;      /* never printed; a non-empty default is refused outside development */
	size_t offset;    /* offsetof() of the target field: const char * / long / bool */
	const char *help; /* one line, for the error message and docs */
};

/* getenv-like: the value of `name`, or NULL when unset. The result must stay
 * valid until craft_config_load() returns (it is copied). */
typedef const char *(*craft_config_lookup)(void *ctx, const char *name);

/* Read every field through `lookup` (NULL = getenv; lookup_ctx is passed to
 * it) and store it into `target` at the field's offset.
 *
 * An unset variable takes the default; an empty one counts as unset for INT
 * and BOOL and is the value for STR (an error when min >= 1). INT: a whole
 * decimal number within [min, max]. BOOL: true/false, 1/0, yes/no, on/off,
 * any case. STR: a strdup'd copy of min..max bytes (max 0 = 4096).
 * Unless `development`, a secret whose value is still its (non-empty) default is
 * refused; a secret with an empty default is optional.
 *
 * Returns 0, or CRAFT_EINVAL with every problem described in `err` (bounded
 * by err_len, "; "-separated; err may be NULL). Messages name the variable
 * and never contain a secret's value. On error nothing stays allocated and
 * every STR target is NULL; either way craft_config_free() is safe. */
int craft_config_load(const struct craft_config_field *fields, size_t count, void *target,
		      craft_config_lookup lookup, void *lookup_ctx, bool development, char *err,
		      size_t err_len);

/* Free the STR copies made by craft_config_load() and set them to NULL. */
void craft_config_free(const struct craft_config_field *fields, size_t count, void *target);

/* True for the development-like environments, named explicitly:
 * "development", "dev", "local", "test" (any case). Unset (NULL) or empty is
 * production: a service that was told nothing refuses default secrets. */
bool craft_config_is_development(const char *deployment_environment);

/* Log the effective configuration as one info line through craft_log()
 * (field "config": {NAME: value, ...}). Secrets appear only as "(default)",
 * "(empty)" or "(set)". */
void craft_config_log(const struct craft_config_field *fields, size_t count, const void *target);

#endif
