/* form.h - application/x-www-form-urlencoded bodies, as browsers post them. */
#ifndef CRAFT_FORM_H
#define CRAFT_FORM_H

#include <stddef.h>

#include <jansson.h>

#define CRAFT_FORM_MAX_FIELDS 64

/* Parse `len` bytes into a JSON object of string members: '+' is a space,
 * %XX an escaped byte, the first occurrence of a name wins. Returns 0 and *out
 * (a new reference), or CRAFT_EINVAL for a bad escape, a NUL byte, invalid
 * UTF-8 or more than CRAFT_FORM_MAX_FIELDS fields. */
int craft_form_parse(const char *body, size_t len, json_t **out);

#endif
