/* validate.h - the rules for what a user may register with. Pure functions:
 * no I/O, so they are unit tested and fuzzed directly. */
#ifndef AUTH_VALIDATE_H
#define AUTH_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_USERNAME_MIN 3
#define AUTH_USERNAME_MAX 50
#define AUTH_EMAIL_MAX    100
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 72 /* bcrypt ignores bytes past 72: refuse, never truncate */

/* NULL when the value is acceptable, else a message for the user naming the
 * field ("username must be 3-50 characters of letters, digits, '_', '.' or '-'"). */
const char *auth_check_username(const char *username);
const char *auth_check_email(const char *email);
const char *auth_check_password(const char *password);

/* False when no account can have `name` as its username or email: empty,
 * longer than AUTH_EMAIL_MAX, or holding a byte outside printable ASCII
 * (both are ASCII only). Such a login is refused before any lookup, so that
 * no database folding of other characters (U+212A KELVIN SIGN to 'k', U+0130
 * to 'i') makes an alias of a real name. */
bool auth_login_name_possible(const char *name);

#endif
