/* The origami of the day's entity tag: strong, quoted, and different whenever
 * the product, its version or the bytes served differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "craft/http.h"
#include "recommendation/daily.h"

static const struct reco_product crane = {
    .id = 1, .name = "Crane", .description = "", .image_url = "", .votes = 3, .version = 42};

static void test_tag_is_strong_and_quoted(void **state)
{
	(void)state;
	char tag[RECO_ETAG_MAX];
	reco_daily_etag(&crane, "{}", 2, tag);
	size_t n = strlen(tag);
	assert_true(n > 2 && tag[0] == '"' && tag[n - 1] == '"');
	assert_ptr_equal(strchr(tag + 1, '"'), tag + n - 1); /* no quote inside */
	assert_memory_equal(tag, "\"o1-v42-", 8);
	assert_true(craft_etag_list_matches(tag, tag));
}

static void test_tag_changes_with_id_version_and_bytes(void **state)
{
	(void)state;
	char a[RECO_ETAG_MAX], b[RECO_ETAG_MAX];
	reco_daily_etag(&crane, "{\"votes\":3}", 11, a);
	reco_daily_etag(&crane, "{\"votes\":3}", 11, b);
	assert_string_equal(a, b);
	reco_daily_etag(&crane, "{\"votes\":4}", 11, b);
	assert_string_not_equal(a, b);
	struct reco_product other = crane;
	other.version = 43;
	reco_daily_etag(&other, "{\"votes\":3}", 11, b);
	assert_string_not_equal(a, b);
	other = crane;
	other.id = 11;
	reco_daily_etag(&other, "{\"votes\":3}", 11, b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tag_is_strong_and_quoted),
	    cmocka_unit_test(test_tag_changes_with_id_version_and_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
