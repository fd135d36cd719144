#include "jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base64url.h"
#include "common.h"
#include "file.h"
#include "jwt_internal.h"

#define PEM_MAX_LEN 65536

/* JWK member names and the OpenSSL parameters they fill, public ones first. */
static const struct {
	const char *jwk;
	const char *param;
} rsa_members[] = {
    {.jwk = "n", .param = OSSL_PKEY_PARAM_RSA_N},
    {.jwk = "e", .param = OSSL_PKEY_PARAM_RSA_E},
    {.jwk = "d", .param = OSSL_PKEY_PARAM_RSA_D},
    {.jwk = "p", .param = OSSL_PKEY_PARAM_RSA_FACTOR1},
    {.jwk = "q", .param = OSSL_PKEY_PARAM_RSA_FACTOR2},
    {.jwk = "dp", .param = OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {.jwk = "dq", .param = OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {.jwk = "qi", .param = OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
};
#define RSA_PUBLIC_MEMBERS 2
#define RSA_ALL_MEMBERS    CRAFT_ARRAY_LEN(rsa_members)

/* Write a message to err (when given), drop OpenSSL's queued errors, and
 * return `result`. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t err_len, int result,
						      const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return result;
}

/* Drop OpenSSL's queued errors and return `result`. */
int craft_jwt_internal_clear_fail(int result)
{
	ERR_clear_error();
	return result;
}

bool craft_jwt_internal_kid_valid(const char *kid)
{
	size_t n = strnlen(kid, CRAFT_JWT_KID_MAX + 1);

	if (n == 0 || n > CRAFT_JWT_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (kid[i] < 0x20 || kid[i] > 0x7e)
			return false;
	}
	return true;
}

/* ---- keys ---------------------------------------------------------------- */

static bool pkey_has_private(const EVP_PKEY *pkey)
{
	BIGNUM *d = NULL;
	bool has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d) == 1 && d != NULL;

	BN_clear_free(d);
	ERR_clear_error();
	return has;
}

/* Check the public numbers of an RSA key: odd modulus of an accepted size,
 * odd exponent of 3 or more and at most 64 bits. Sets *bits. */
static int check_public_numbers(const EVP_PKEY *pkey, unsigned *bits, char *err, size_t err_len)
{
	BIGNUM *n = NULL, *e = NULL;
	int rc = CRAFT_EINVAL, nbits;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		rc = fail(err, err_len, CRAFT_EINVAL, "RSA key without modulus or exponent");
		goto out;
	}
	nbits = BN_num_bits(n);
	if (nbits < CRAFT_JWT_MIN_BITS || nbits > CRAFT_JWT_MAX_BITS || !BN_is_odd(n)) {
		rc = fail(err, err_len, CRAFT_EINVAL, "RSA modulus of %d bits (need %d..%d)", nbits,
			  CRAFT_JWT_MIN_BITS, CRAFT_JWT_MAX_BITS);
		goto out;
	}
	if (!BN_is_odd(e) || BN_is_one(e) || BN_num_bits(e) > 64) {
		rc = fail(err, err_len, CRAFT_EINVAL, "unacceptable RSA public exponent");
		goto out;
	}
	*bits = (unsigned)nbits;
	rc = CRAFT_OK;
out:
	BN_free(n);
	BN_free(e);
	return rc;
}

/* Make a key of `pkey` (always taken over, freed on error) after checking it
 * is an acceptable RSA key; kid NULL or "" derives the key id. */
static int key_wrap(EVP_PKEY *pkey, const char *kid, craft_jwt_key **out, char *err, size_t err_len)
{
	craft_jwt_key *key = NULL;
	unsigned bits = 0;
	int rc;

	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		rc = fail(err, err_len, CRAFT_EINVAL, "not an RSA key");
		goto out;
	}
	rc = check_public_numbers(pkey, &bits, err, err_len);
	if (rc != CRAFT_OK)
		goto out;
	if (kid && *kid && !craft_jwt_internal_kid_valid(kid)) {
		rc = fail(err, err_len, CRAFT_EINVAL, "key id must be 1..%d printable characters",
			  CRAFT_JWT_KID_MAX);
		goto out;
	}
	key = craft_xcalloc(1, sizeof(*key));
	key->pkey = pkey;
	key->bits = bits;
	key->has_private = pkey_has_private(pkey);
	if (kid && *kid) {
		memcpy(key->kid, kid, strlen(kid) + 1);
	} else if (craft_jwt_key_thumbprint_kid(key, key->kid) != CRAFT_OK) {
		key->pkey = NULL;
		craft_jwt_key_free(key);
		key = NULL;
		rc = fail(err, err_len, CRAFT_EINTERNAL, "cannot derive a key id");
		goto out;
	}
	*out = key;
	return CRAFT_OK;
out:
	EVP_PKEY_free(pkey);
	return rc;
}

/* Build an RSA EVP_PKEY from the first `count` members of rsa_members. */
static int pkey_from_bns(BIGNUM *const *bns, size_t count, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int selection = count > RSA_PUBLIC_MEMBERS ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
	int rc = CRAFT_EINVAL;

	if (!bld)
		craft_oom(0);
	for (size_t i = 0; i < count; i++) {
		if (OSSL_PARAM_BLD_push_BN(bld, rsa_members[i].param, bns[i]) != 1)
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	*out = NULL;
	if (EVP_PKEY_fromdata(ctx, out, selection, params) != 1)
		goto out;
	rc = CRAFT_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	if (rc != CRAFT_OK)
		ERR_clear_error();
	return rc;
}

/* A public-only copy of an RSA key. */
static int pkey_public_only(const EVP_PKEY *pkey, EVP_PKEY **out)
{
	BIGNUM *bns[RSA_PUBLIC_MEMBERS] = {NULL, NULL};
	int rc = CRAFT_EINVAL;

	for (size_t i = 0; i < RSA_PUBLIC_MEMBERS; i++) {
		if (EVP_PKEY_get_bn_param(pkey, rsa_members[i].param, &bns[i]) != 1)
			goto out;
	}
	rc = pkey_from_bns(bns, RSA_PUBLIC_MEMBERS, out);
out:
	for (size_t i = 0; i < RSA_PUBLIC_MEMBERS; i++)
		BN_free(bns[i]);
	if (rc != CRAFT_OK)
		ERR_clear_error();
	return rc;
}

static int refuse_passphrase(char *pass, size_t pass_size, size_t *pass_len,
			     const OSSL_PARAM params[], void *arg)
{
	(void)pass, (void)pass_size, (void)pass_len, (void)params, (void)arg;
	return 0; /* encrypted keys are not supported: never prompt */
}

/* Decode a PEM RSA key with the given selection (EVP_PKEY_KEYPAIR or
 * EVP_PKEY_PUBLIC_KEY). */
static int decode_pem(const char *pem, size_t len, int selection, EVP_PKEY **out)
{
	const unsigned char *data = (const unsigned char *)pem;
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx;
	int ok;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
	if (!dctx)
		return craft_jwt_internal_clear_fail(CRAFT_EINTERNAL);
	OSSL_DECODER_CTX_set_passphrase_cb(dctx, refuse_passphrase, NULL);
	ok = OSSL_DECODER_from_data(dctx, &data, &len);
	OSSL_DECODER_CTX_free(dctx);
	if (ok != 1 || !pkey) {
		EVP_PKEY_free(pkey);
		return craft_jwt_internal_clear_fail(CRAFT_EINVAL);
	}
	*out = pkey;
	return CRAFT_OK;
}

/* want: 1 a private key, 0 a public key, -1 whichever the text holds. */
static int key_from_pem_text(const char *pem, size_t len, int want, const char *kid,
			     craft_jwt_key **out, char *err, size_t err_len)
{
	EVP_PKEY *pkey = NULL;

	if (len > PEM_MAX_LEN)
		return fail(err, err_len, CRAFT_ETOOBIG, "PEM text over %d bytes", PEM_MAX_LEN);
	if (want != 0 && decode_pem(pem, len, EVP_PKEY_KEYPAIR, &pkey) == CRAFT_OK &&
	    !pkey_has_private(pkey)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	if (!pkey && want == 1)
		return fail(err, err_len, CRAFT_EINVAL, "no RSA private key in the PEM text");
	if (!pkey && decode_pem(pem, len, EVP_PKEY_PUBLIC_KEY, &pkey) != CRAFT_OK)
		return fail(err, err_len, CRAFT_EINVAL, "no RSA %skey in the PEM text",
			    want == 0 ? "public " : "");
	return key_wrap(pkey, kid, out, err, err_len);
}

/* Read a whole file of at most PEM_MAX_LEN bytes into a malloc'd buffer. */
static int read_small_file(const char *path, char **data, size_t *len, char *err, size_t err_len)
{
	int rc = craft_file_read(AT_FDCWD, path, PEM_MAX_LEN, data, len);
	if (rc == CRAFT_ETOOBIG)
		return fail(err, err_len, rc, "%s is over %d bytes", path, PEM_MAX_LEN);
	if (rc != CRAFT_OK)
		return fail(err, err_len, rc, "cannot read %s: %s", path, strerror(errno));
	return CRAFT_OK;
}

static int key_load_file(const char *path, int want, const char *kid, craft_jwt_key **out,
			 char *err, size_t err_len)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_small_file(path, &text, &len, err, err_len);

	if (rc != CRAFT_OK)
		return rc;
	rc = key_from_pem_text(text, len, want, kid, out, err, err_len);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int craft_jwt_key_load_private_pem(const char *path, const char *kid, craft_jwt_key **out,
				   char *err, size_t err_len)
{
	return key_load_file(path, 1, kid, out, err, err_len);
}

int craft_jwt_key_load_public_pem(const char *path, const char *kid, craft_jwt_key **out, char *err,
				  size_t err_len)
{
	return key_load_file(path, 0, kid, out, err, err_len);
}

int craft_jwt_key_from_pem(const char *pem, size_t len, const char *kid, craft_jwt_key **out,
			   char *err, size_t err_len)
{
	return key_from_pem_text(pem, len, -1, kid, out, err, err_len);
}

/* Decode a JWK base64url number member of at most max_bytes bytes. */
static int jwk_number(const json_t *jwk, const char *name, size_t max_bytes, BIGNUM **out)
{
	const json_t *v = json_object_get(jwk, name);
	unsigned char *buf;
	size_t slen, n = 0;
	int rc;

	if (!json_is_string(v))
		return CRAFT_EINVAL;
	slen = json_string_length(v);
	if (slen == 0 || slen > craft_base64url_encoded_len(max_bytes))
		return CRAFT_EINVAL;
	buf = craft_xmalloc(craft_base64url_decoded_len(slen));
	rc = craft_base64url_decode(json_string_value(v), slen, buf,
				    craft_base64url_decoded_len(slen), &n);
	if (rc == CRAFT_OK) {
		*out = BN_bin2bn(buf, (int)n, NULL);
		if (!*out)
			craft_oom(n);
	}
	OPENSSL_cleanse(buf, n);
	free(buf);
	return rc == CRAFT_OK ? CRAFT_OK : CRAFT_EINVAL;
}

/* Build an RSA EVP_PKEY from a JWK's numbers: public (n, e) or, when
 * `private_key`, all eight members, checked for consistency. */
static int jwk_to_pkey(const json_t *jwk, bool private_key, EVP_PKEY **out, char *err,
		       size_t err_len)
{
	BIGNUM *bns[RSA_ALL_MEMBERS] = {NULL};
	size_t count = private_key ? RSA_ALL_MEMBERS : RSA_PUBLIC_MEMBERS;
	EVP_PKEY_CTX *check = NULL;
	int rc = CRAFT_EINVAL;

	for (size_t i = 0; i < count; i++) {
		if (jwk_number(jwk, rsa_members[i].jwk, CRAFT_JWT_SIG_MAX_BYTES + 1, &bns[i]) !=
		    CRAFT_OK) {
			rc = fail(err, err_len, CRAFT_EINVAL, "JWK member %s missing or malformed",
				  rsa_members[i].jwk);
			goto out;
		}
	}
	if (pkey_from_bns(bns, count, out) != CRAFT_OK) {
		rc = fail(err, err_len, CRAFT_EINVAL, "JWK numbers do not make an RSA key");
		goto out;
	}
	rc = CRAFT_OK;
	if (private_key) {
		check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
		if (!check || EVP_PKEY_pairwise_check(check) != 1) {
			EVP_PKEY_free(*out);
			*out = NULL;
			rc = fail(err, err_len, CRAFT_EINVAL,
				  "JWK private numbers are inconsistent");
		}
	}
out:
	EVP_PKEY_CTX_free(check);
	for (size_t i = 0; i < count; i++)
		BN_clear_free(bns[i]);
	return rc;
}

int craft_jwt_key_from_jwk(const json_t *jwk, craft_jwt_key **out, char *err, size_t err_len)
{
	const json_t *kty = json_object_get(jwk, "kty");
	const json_t *kid = json_object_get(jwk, "kid");
	EVP_PKEY *pkey = NULL;
	int rc;

	if (!json_is_object(jwk) || !json_is_string(kty) ||
	    strcmp(json_string_value(kty), "RSA") != 0)
		return fail(err, err_len, CRAFT_EINVAL, "JWK is not an RSA key");
	if (kid && (!json_is_string(kid) || !craft_jwt_internal_kid_valid(json_string_value(kid))))
		return fail(err, err_len, CRAFT_EINVAL,
			    "JWK kid must be 1..%d printable characters", CRAFT_JWT_KID_MAX);
	rc = jwk_to_pkey(jwk, json_object_get(jwk, "d") != NULL, &pkey, err, err_len);
	if (rc != CRAFT_OK)
		return rc;
	return key_wrap(pkey, kid ? json_string_value(kid) : NULL, out, err, err_len);
}

int craft_jwt_key_generate(unsigned bits, const char *kid, craft_jwt_key **out)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	int ok;

	if (bits < CRAFT_JWT_MIN_BITS || bits > CRAFT_JWT_MAX_BITS)
		return CRAFT_EINVAL;
	if (kid && *kid && !craft_jwt_internal_kid_valid(kid))
		return CRAFT_EINVAL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) == 1 &&
	     EVP_PKEY_generate(ctx, &pkey) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return craft_jwt_internal_clear_fail(CRAFT_EINTERNAL);
	}
	return key_wrap(pkey, kid, out, NULL, 0);
}

int craft_jwt_key_dup_public(const craft_jwt_key *key, craft_jwt_key **out)
{
	EVP_PKEY *pub = NULL;

	if (pkey_public_only(key->pkey, &pub) != CRAFT_OK)
		return CRAFT_EINTERNAL;
	return key_wrap(pub, key->kid, out, NULL, 0);
}

void craft_jwt_key_free(craft_jwt_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

const char *craft_jwt_key_kid(const craft_jwt_key *key)
{
	return key->kid;
}

unsigned craft_jwt_key_bits(const craft_jwt_key *key)
{
	return key->bits;
}

bool craft_jwt_key_has_private(const craft_jwt_key *key)
{
	return key->has_private;
}

int craft_jwt_key_thumbprint_kid(const craft_jwt_key *key, char out[64])
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char b64[64];
	int der_len = i2d_PUBKEY(key->pkey, &der);
	int ok = der_len > 0 && EVP_Digest(der, (size_t)der_len, md, &md_len, EVP_sha256(), NULL);

	OPENSSL_free(der);
	if (!ok || md_len != 32)
		return craft_jwt_internal_clear_fail(CRAFT_EINTERNAL);
	craft_base64url_encode(md, md_len, b64, sizeof(b64), NULL);
	memcpy(out, b64, CRAFT_JWT_THUMB_KID_LEN);
	out[CRAFT_JWT_THUMB_KID_LEN] = '\0';
	return CRAFT_OK;
}

static char *bn_base64url(const BIGNUM *bn)
{
	int len = BN_num_bytes(bn);
	unsigned char *buf = craft_xmalloc((size_t)len);
	char *s;

	BN_bn2bin(bn, buf);
	s = craft_base64url_encode_alloc(buf, (size_t)len);
	free(buf);
	return s;
}

json_t *craft_jwt_key_to_jwk(const craft_jwt_key *key)
{
	BIGNUM *n = NULL, *e = NULL;
	char *n64, *e64;
	json_t *jwk;

	if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		BN_free(n);
		BN_free(e);
		ERR_clear_error();
		return NULL;
	}
	n64 = bn_base64url(n);
	e64 = bn_base64url(e);
	jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "kid",
			key->kid, "alg", "RS256", "n", n64, "e", e64);
	if (!jwk)
		craft_oom(0);
	free(n64);
	free(e64);
	BN_free(n);
	BN_free(e);
	return jwk;
}

/* ---- writing PEM files ----------------------------------------------------- */

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return CRAFT_EIO;
		data += n;
		len -= (size_t)n;
	}
	return CRAFT_OK;
}

/* Flush the directory holding `path` so a rename into it is durable. */
static void sync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	int fd;

	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		if (len == 0)
			len = 1; /* the root directory */
		if (len >= sizeof(dir))
			return;
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Put the PEM text of a key (private part or public part) in a memory BIO
 * that wipes itself when freed. */
static BIO *pem_text(const EVP_PKEY *pkey, bool private_part)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	int ok;

	if (!bio)
		craft_oom(0);
	ok = private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
			  : PEM_write_bio_PUBKEY(bio, pkey);
	if (ok != 1) {
		BIO_free(bio);
		return NULL;
	}
	return bio;
}

/* Write `len` bytes to a temporary file beside `path` with `mode`, flush it
 * and rename it into place. */
static int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	int fd, rc = CRAFT_EIO;

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return CRAFT_EIO;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return CRAFT_EIO;
	if (fchmod(fd, mode) == 0 && write_all(fd, data, len) == CRAFT_OK && fsync(fd) == 0)
		rc = CRAFT_OK;
	if (close(fd) != 0)
		rc = CRAFT_EIO;
	if (rc == CRAFT_OK && rename(tmp, path) != 0)
		rc = CRAFT_EIO;
	if (rc != CRAFT_OK) {
		unlink(tmp);
		return rc;
	}
	sync_parent_dir(path);
	return CRAFT_OK;
}

static int write_pem_atomic(const EVP_PKEY *pkey, bool private_part, const char *path, mode_t mode)
{
	BIO *bio = pem_text(pkey, private_part);
	char *data = NULL;
	long len;
	int rc = CRAFT_EIO;

	if (bio) {
		len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			rc = write_file_atomic(path, data, (size_t)len, mode);
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int craft_jwt_key_write_pem(const craft_jwt_key *key, const char *private_path,
			    const char *public_path)
{
	int rc;

	if (private_path && !key->has_private)
		return CRAFT_EINVAL;
	if (private_path) {
		rc = write_pem_atomic(key->pkey, true, private_path, 0600);
		if (rc != CRAFT_OK)
			return rc;
	}
	if (public_path)
		return write_pem_atomic(key->pkey, false, public_path, 0644);
	return CRAFT_OK;
}

/* ---- JWK sets -------------------------------------------------------------- */

craft_jwks *craft_jwks_new(void)
{
	return craft_xcalloc(1, sizeof(craft_jwks));
}

int craft_jwks_add(craft_jwks *set, craft_jwt_key *key)
{
	if (!key)
		return CRAFT_EINVAL;
	if (craft_jwks_find(set, key->kid)) {
		craft_jwt_key_free(key);
		return CRAFT_ECONFLICT;
	}
	if (set->count == CRAFT_JWKS_MAX_KEYS) {
		craft_jwt_key_free(key);
		return CRAFT_ETOOBIG;
	}
	set->keys[set->count++] = key;
	return CRAFT_OK;
}

json_t *craft_jwks_to_json(const craft_jwks *set)
{
	json_t *keys = json_array(), *set_json;

	if (!keys)
		craft_oom(0);
	for (size_t i = 0; i < set->count; i++) {
		json_t *jwk = craft_jwt_key_to_jwk(set->keys[i]);
		if (jwk)
			json_array_append_new(keys, jwk);
	}
	set_json = json_pack("{s:o}", "keys", keys);
	if (!set_json)
		craft_oom(0);
	return set_json;
}

static bool member_is(const json_t *obj, const char *name, const char *value, bool required)
{
	const json_t *v = json_object_get(obj, name);

	if (!v)
		return !required;
	return json_is_string(v) && strcmp(json_string_value(v), value) == 0;
}

/* A usable public RS256 signing key from a JWK set entry, or an error when
 * the entry is to be skipped. Private members are ignored. */
static int jwks_entry_key(const json_t *jwk, craft_jwt_key **out)
{
	const json_t *kid = json_object_get(jwk, "kid");
	EVP_PKEY *pkey = NULL;

	if (!json_is_object(jwk) || !member_is(jwk, "kty", "RSA", true) ||
	    !member_is(jwk, "use", "sig", false) || !member_is(jwk, "alg", "RS256", false))
		return CRAFT_EINVAL;
	if (!json_is_string(kid) || !craft_jwt_internal_kid_valid(json_string_value(kid)))
		return CRAFT_EINVAL;
	if (jwk_to_pkey(jwk, false, &pkey, NULL, 0) != CRAFT_OK)
		return CRAFT_EINVAL;
	return key_wrap(pkey, json_string_value(kid), out, NULL, 0);
}

static int jwks_fill(craft_jwks *set, const json_t *keys, char *err, size_t err_len)
{
	const json_t *jwk;
	size_t i;

	json_array_foreach (keys, i, jwk) {
		craft_jwt_key *key = NULL;
		if (jwks_entry_key(jwk, &key) != CRAFT_OK)
			continue;
		if (craft_jwks_add(set, key) == CRAFT_ECONFLICT)
			return fail(err, err_len, CRAFT_EINVAL, "JWK set repeats a key id");
	}
	if (set->count == 0)
		return fail(err, err_len, CRAFT_ENOTFOUND, "JWK set has no usable RS256 key");
	return CRAFT_OK;
}

int craft_jwks_from_json(const char *text, size_t len, craft_jwks **out, char *err, size_t err_len)
{
	json_error_t jerr;
	json_t *root, *keys;
	craft_jwks *set = NULL;
	int rc;

	if (len > CRAFT_JWKS_MAX_LEN)
		return fail(err, err_len, CRAFT_ETOOBIG, "JWK set over %d bytes",
			    CRAFT_JWKS_MAX_LEN);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, err_len, CRAFT_EINVAL, "JWK set is not JSON (line %d, column %d)",
			    jerr.line, jerr.column);
	keys = json_object_get(root, "keys");
	if (!json_is_object(root) || !json_is_array(keys)) {
		rc = fail(err, err_len, CRAFT_EINVAL, "JWK set has no \"keys\" array");
		goto out;
	}
	if (json_array_size(keys) > CRAFT_JWKS_MAX_KEYS) {
		rc = fail(err, err_len, CRAFT_ETOOBIG, "JWK set has over %d keys",
			  CRAFT_JWKS_MAX_KEYS);
		goto out;
	}
	set = craft_jwks_new();
	rc = jwks_fill(set, keys, err, err_len);
	if (rc == CRAFT_OK) {
		*out = set;
		set = NULL;
	}
out:
	craft_jwks_free(set);
	json_decref(root);
	return rc;
}

const craft_jwt_key *craft_jwks_find(const craft_jwks *set, const char *kid)
{
	for (size_t i = 0; kid && i < set->count; i++) {
		if (strcmp(set->keys[i]->kid, kid) == 0)
			return set->keys[i];
	}
	return NULL;
}

const craft_jwt_key *craft_jwks_key_at(const craft_jwks *set, size_t index)
{
	return index < set->count ? set->keys[index] : NULL;
}

size_t craft_jwks_count(const craft_jwks *set)
{
	return set->count;
}

void craft_jwks_free(craft_jwks *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		craft_jwt_key_free(set->keys[i]);
	free(set);
}
