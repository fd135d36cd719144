/* base64url.h - strict base64url (RFC 4648 section 5) without padding.
 *
 * This is the encoding of every JWS segment and of JWK numbers. Decoding is
 * strict so that one value has exactly one accepted spelling: only the
 * alphabet A-Z a-z 0-9 - _ is accepted (no '=' padding, no '+' or '/', no
 * white space), a length of 1 mod 4 is refused, and the unused low bits of the
 * last character must be zero. All functions are pure and thread-safe.
 */
#ifndef CRAFT_BASE64URL_H
#define CRAFT_BASE64URL_H

#include <stddef.h>

/* Number of characters that encoding `len` bytes produces (without a NUL). */
size_t craft_base64url_encoded_len(size_t len);

/* Upper bound of the bytes that decoding `len` characters produces; exact for
 * input that decodes. */
size_t craft_base64url_decoded_len(size_t len);

/* Encode `len` bytes into `out` (capacity `out_size`) and NUL-terminate it.
 * Returns 0 and stores the length (without the NUL) in *out_len when non-NULL,
 * or CRAFT_ETOOBIG when out_size < encoded_len + 1 (out then unchanged). */
int craft_base64url_encode(const void *data, size_t len, char *out, size_t out_size,
			   size_t *out_len);

/* Encode into a new malloc'd NUL-terminated string (free() it); never NULL. */
char *craft_base64url_encode_alloc(const void *data, size_t len);

/* Decode `len` characters of `in` into `out` (capacity `out_size` bytes).
 * Returns 0 and stores the decoded length in *out_len when non-NULL;
 * CRAFT_EINVAL for anything that is not canonical unpadded base64url;
 * CRAFT_ETOOBIG when the result does not fit. On error the contents of `out`
 * are unspecified. An empty input decodes to zero bytes. */
int craft_base64url_decode(const char *in, size_t len, void *out, size_t out_size, size_t *out_len);

#endif
