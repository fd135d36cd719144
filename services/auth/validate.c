#include "validate.h"

#include <string.h>

static bool username_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

const char *auth_check_username(const char *username)
{
	static const char msg[] = "username must be 3-50 characters of letters, digits, '_', "
				  "'.' or '-'";
	size_t n = strnlen(username, AUTH_USERNAME_MAX + 1);
	if (n < AUTH_USERNAME_MIN || n > AUTH_USERNAME_MAX)
		return msg;
	for (size_t i = 0; i < n; i++)
		if (!username_char(username[i]))
			return msg;
	return NULL;
}

/* Letters, digits and the printable specials RFC 5322 allows in a dot-atom. */
static bool local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

static bool domain_ok(const char *d, size_t n)
{
	if (n < 3 || n > 253 || !memchr(d, '.', n))
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && d[n - 1] != '-';
}

const char *auth_check_email(const char *email)
{
	static const char msg[] = "email must be a valid address of at most 100 characters";
	size_t n = strnlen(email, AUTH_EMAIL_MAX + 1);
	if (n == 0 || n > AUTH_EMAIL_MAX)
		return msg;
	const char *at = strchr(email, '@');
	if (!at || strchr(at + 1, '@'))
		return msg;
	size_t local = (size_t)(at - email);
	if (local == 0 || local > 64 || email[0] == '.' || email[local - 1] == '.')
		return msg;
	for (size_t i = 0; i < local; i++) {
		if (!local_char((unsigned char)email[i]))
			return msg;
		if (email[i] == '.' && i + 1 < local && email[i + 1] == '.')
			return msg;
	}
	return domain_ok(at + 1, n - local - 1) ? NULL : msg;
}

const char *auth_check_password(const char *password)
{
	size_t n = strnlen(password, AUTH_PASSWORD_MAX + 1);
	if (n < AUTH_PASSWORD_MIN)
		return "password must be at least 8 characters";
	if (n > AUTH_PASSWORD_MAX)
		return "password must be at most 72 bytes (bcrypt ignores anything longer)";
	return NULL;
}

bool auth_login_name_possible(const char *name)
{
	size_t n = strnlen(name, AUTH_EMAIL_MAX + 1);
	if (n == 0 || n > AUTH_EMAIL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			return false;
	return true;
}
