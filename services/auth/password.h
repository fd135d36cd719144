/* password.h - bcrypt ($2b$) hashing and checking through libxcrypt.
 * Slow on purpose: run these on the worker queue, never on a server thread. */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_MAX        128
#define AUTH_BCRYPT_COST_MIN 4
#define AUTH_BCRYPT_COST_MAX 16

/* Hash `password` with a fresh random salt at `cost` into out (NUL-terminated).
 * Returns 0, CRAFT_EINVAL for a bad cost, CRAFT_EINTERNAL if libxcrypt fails. */
int auth_password_hash(const char *password, int cost, char out[AUTH_HASH_MAX]);

/* A stand-in hash for logins of unknown users, at `cost`, without running
 * bcrypt: a fresh random salt followed by a digest that no password produces
 * (all '.' characters: bcrypt stores 23 digest bytes there and would need a
 * 184-bit preimage). auth_password_check() against it runs the same bcrypt at
 * the same cost as against a real hash and returns false, so an unknown user
 * costs exactly what a wrong password costs. Cheap: no start-up time.
 * Returns 0, CRAFT_EINVAL for a bad cost, CRAFT_EINTERNAL if libxcrypt fails. */
int auth_password_dummy(int cost, char out[AUTH_HASH_MAX]);

/* True when `password` matches `hash` (compared in constant time). A malformed
 * hash never matches. */
bool auth_password_check(const char *password, const char *hash);

#endif
