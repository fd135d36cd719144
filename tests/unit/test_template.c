/* Unit tests for lib/craft/template.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "craft/common.h"
#include "craft/template.h"

#define OUT_MAX (64 * 1024)

/* Parse `text`, render it with the JSON document `data` and return the output
 * (caller frees), failing the test on any error. */
static char *render(const char *text, const char *data)
{
	char err[256];
	craft_template *t = NULL;
	int rc = craft_template_parse("t", text, strlen(text), &t, err, sizeof(err));
	if (rc)
		fail_msg("parse failed: %s", err);
	json_error_t jerr;
	json_t *json = json_loads(data, 0, &jerr);
	if (!json)
		fail_msg("bad test JSON: %s", jerr.text);
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	assert_int_equal(craft_template_render(t, NULL, json, &out), CRAFT_OK);
	json_decref(json);
	craft_template_free(t);
	return craft_buf_steal(&out, NULL);
}

static void check(const char *text, const char *data, const char *want)
{
	char *got = render(text, data);
	assert_string_equal(got, want);
	free(got);
}

/* Parse `text`, expect CRAFT_EINVAL and return the message in err. */
static void parse_error(const char *text, char *err, size_t err_len)
{
	craft_template *t = NULL;
	assert_int_equal(craft_template_parse("page", text, strlen(text), &t, err, err_len),
			 CRAFT_EINVAL);
	assert_null(t);
}

static void test_escape_function(void **state)
{
	(void)state;
	craft_buf out;
	craft_buf_init(&out, 1024);
	const char in[] = "a&b<c>d\"e'f`g=h";
	assert_int_equal(craft_html_escape(&out, in, sizeof(in) - 1), CRAFT_OK);
	assert_string_equal(out.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f&#96;g&#61;h");
	/* Only the first len bytes are read, NUL bytes included. */
	craft_buf_reset(&out);
	assert_int_equal(craft_html_escape(&out, "x\0<y", 4), CRAFT_OK);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.data, "x\0&lt;y", 7);
	craft_buf_cleanup(&out);

	/* Past the bound: CRAFT_ETOOBIG and nothing appended. */
	craft_buf_init(&out, 8);
	assert_int_equal(craft_buf_append_str(&out, "ab"), CRAFT_OK);
	assert_int_equal(craft_html_escape(&out, "<<", 2), CRAFT_ETOOBIG);
	assert_string_equal(out.data, "ab");
	craft_buf_cleanup(&out);
}

static void test_escaped_values(void **state)
{
	(void)state;
	check("{{v}}", "{\"v\": \"&<>\\\"'`=\"}", "&amp;&lt;&gt;&quot;&#39;&#96;&#61;");
	check("<p>{{name}}</p>", "{\"name\": \"<script>alert('x')</script>\"}",
	      "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>");
	check("<a title={{t}}>", "{\"t\": \"x onmouseover=alert(1)\"}",
	      "<a title=x onmouseover&#61;alert(1)>");
	check("{{ v }}|{{v}}", "{\"v\": \"plain text\"}", "plain text|plain text");
	/* A value that looks like a tag is not expanded again. */
	check("{{v}}", "{\"v\": \"{{w}}\", \"w\": \"no\"}", "{{w}}");
}

static void test_raw_values(void **state)
{
	(void)state;
	const char *data = "{\"html\": \"<b>bold</b> & more\"}";
	check("{{{html}}}", data, "<b>bold</b> & more");
	check("{{& html}}", data, "<b>bold</b> & more");
	check("{{&html}}|{{{ html }}}", data, "<b>bold</b> & more|<b>bold</b> & more");
	check("{{html}}", data, "&lt;b&gt;bold&lt;/b&gt; &amp; more");
}

static void test_scalars_and_missing(void **state)
{
	(void)state;
	const char *data = "{\"i\": 42, \"neg\": -7, \"big\": 9007199254740993, \"r\": 2.5,"
			   " \"tenth\": 0.1, \"whole\": 3.0, \"t\": true, \"f\": false,"
			   " \"n\": null, \"o\": {\"k\": 1}, \"a\": [1, 2]}";
	check("{{i}} {{neg}} {{big}}", data, "42 -7 9007199254740993");
	check("{{r}} {{tenth}} {{whole}}", data, "2.5 0.1 3");
	check("{{t}} {{f}}", data, "true false");
	check("[{{n}}][{{missing}}][{{o}}][{{a}}]", data, "[][][][]");
	check("[{{{n}}}{{& missing}}]", data, "[]");
}

static void test_dotted_names(void **state)
{
	(void)state;
	const char *data = "{\"a\": {\"b\": {\"c\": \"deep<\"}, \"x\": 1}, \"s\": \"str\","
			   " \"c\": \"outer\"}";
	check("{{a.b.c}}", data, "deep&lt;");
	check("{{{a.b.c}}}", data, "deep<");
	check("[{{a.b.missing}}][{{a.nope.c}}][{{s.len}}][{{nope.b}}]", data, "[][][][]");
	/* Only the first part is searched through the context stack. */
	check("{{#a.b}}{{c}}{{/a.b}}", data, "deep&lt;");
	check("{{#a}}[{{b.c}}][{{x.c}}]{{/a}}", data, "[deep&lt;][]");
	check("{{#a.b}}{{a.x}}{{/a.b}}", data, "1");
}

static void test_sections(void **state)
{
	(void)state;
	check("{{#list}}<li>{{name}}</li>{{/list}}",
	      "{\"list\": [{\"name\": \"a\"}, {\"name\": \"<b>\"}, {\"name\": \"c\"}]}",
	      "<li>a</li><li>&lt;b&gt;</li><li>c</li>");
	check("{{#user}}Hi {{name}} ({{role}}){{/user}}",
	      "{\"user\": {\"name\": \"ann\", \"role\": \"admin\"}}", "Hi ann (admin)");
	check("{{#empty}}[{{x}}]{{/empty}}", "{\"empty\": {}, \"x\": 1}", "[1]");
	/* Truthy scalars render once; everything falsy skips. */
	const char *data = "{\"t\": true, \"f\": false, \"n\": null, \"z\": 0, \"zr\": 0.0,"
			   " \"one\": 1, \"s\": \"x\", \"es\": \"\", \"ea\": []}";
	check("{{#t}}T{{/t}}{{#one}}1{{/one}}{{#s}}S{{/s}}", data, "T1S");
	check("[{{#f}}F{{/f}}{{#n}}N{{/n}}{{#z}}Z{{/z}}{{#zr}}R{{/zr}}{{#es}}E{{/es}}"
	      "{{#ea}}A{{/ea}}{{#missing}}M{{/missing}}]",
	      data, "[]");
	/* Nested sections. */
	check("{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}",
	      "{\"rows\": [{\"cells\": [1, 2]}, {\"cells\": []}, {\"cells\": [\"<\"]}]}",
	      "<tr><td>1</td><td>2</td></tr><tr></tr><tr><td>&lt;</td></tr>");
}

static void test_inverted_sections(void **state)
{
	(void)state;
	const char *data = "{\"t\": true, \"f\": false, \"z\": 0, \"es\": \"\", \"ea\": [],"
			   " \"a\": [1], \"o\": {}}";
	check("{{^f}}f{{/f}}{{^z}}z{{/z}}{{^es}}es{{/es}}{{^ea}}ea{{/ea}}{{^missing}}m{{/missing}}",
	      data,
	      "fzesea"
	      "m");
	check("[{{^t}}t{{/t}}{{^a}}a{{/a}}{{^o}}o{{/o}}]", data, "[]");
	check("{{#a}}has{{/a}}{{^a}}none{{/a}}", "{\"a\": []}", "none");
	check("{{#a}}has{{/a}}{{^a}}none{{/a}}", "{\"a\": [0]}", "has");
}

static void test_context_stack(void **state)
{
	(void)state;
	const char *data = "{\"site\": \"Craftista\", \"name\": \"outer\","
			   " \"items\": [{\"name\": \"a\"}, {\"id\": 2}],"
			   " \"user\": {\"name\": \"ann\", \"items\": [{\"x\": 1}]}}";
	/* Inner names shadow outer ones; missing ones fall through to outer contexts. */
	check("{{#items}}{{name}}@{{site}};{{/items}}", data, "a@Craftista;outer@Craftista;");
	check("{{#user}}{{#items}}{{x}}{{name}}{{site}}{{/items}}{{/user}}", data, "1annCraftista");
	/* A key that is present but null stops the search (it is not "missing"). */
	check("{{#items}}[{{id}}]{{/items}}", "{\"id\": 9, \"items\": [{\"id\": null}, {}]}",
	      "[][9]");
}

static void test_current_item(void **state)
{
	(void)state;
	check("{{#tags}}<{{.}}>{{/tags}}", "{\"tags\": [\"a\", \"<b>\", 3, true, null]}",
	      "<a><&lt;b&gt;><3><true><>");
	check("{{#tags}}{{{.}}},{{/tags}}", "{\"tags\": [\"<i>\"]}", "<i>,");
	check("{{#name}}[{{.}}]{{/name}}", "{\"name\": \"solo\"}", "[solo]");
	check("{{#m}}{{#.}}x{{/.}}{{/m}}", "{\"m\": [[1, 2], [], [3]]}", "xxx");
}

static void test_comments(void **state)
{
	(void)state;
	check("a{{! a comment }}b{{!\nmulti\nline }}c", "{}", "abc");
	check("{{!{{v}} is not expanded}}x", "{\"v\": 1}", " is not expanded}}x");
	/* Lines inside a comment still count for later messages. */
	char err[256];
	parse_error("{{!\n\n}}\n{{#a}}", err, sizeof(err));
	assert_string_equal(err, "page:4: {{#a}} is never closed");
}

static void test_text_is_verbatim(void **state)
{
	(void)state;
	check("", "{}", "");
	check("no tags at all\n", "{}", "no tags at all\n");
	check("single { and } and }} and {x}", "{}", "single { and } and }} and {x}");
	char *got = render("a\0b{{v}}", "{\"v\": 1}"); /* strlen stops at the NUL */
	assert_string_equal(got, "a");
	free(got);
}

static void test_parse_errors(void **state)
{
	(void)state;
	char err[256];
	parse_error("line1\nline2 {{name\nline3", err, sizeof(err));
	assert_string_equal(err, "page:2: unclosed tag \"{{\"");
	parse_error("{{{raw}}", err, sizeof(err));
	assert_string_equal(err, "page:1: unclosed tag \"{{{\"");
	parse_error("a\n{{#x}}\n{{#y}}\n{{/x}}", err, sizeof(err));
	assert_string_equal(err, "page:4: {{/x}} does not close {{#y}} opened on line 3");
	parse_error("\n\n{{/x}}", err, sizeof(err));
	assert_string_equal(err, "page:3: {{/x}} without an open section");
	parse_error("{{^list}}\n\n", err, sizeof(err));
	assert_string_equal(err, "page:1: {{^list}} is never closed");
	parse_error("x\n{{}}", err, sizeof(err));
	assert_string_equal(err, "page:2: empty tag name");
	parse_error("{{#  }}", err, sizeof(err));
	assert_string_equal(err, "page:1: empty tag name");
	parse_error("{{a b}}", err, sizeof(err));
	assert_string_equal(err, "page:1: invalid tag name \"a b\"");
	parse_error("{{a..b}}", err, sizeof(err));
	parse_error("{{.a}}", err, sizeof(err));
	parse_error("{{a.}}", err, sizeof(err));
	parse_error("{{<x>}}", err, sizeof(err));
	parse_error("{{> ../etc/passwd}}", err, sizeof(err));
	assert_string_equal(err, "page:1: invalid partial name \"../etc/passwd\"");
	parse_error("{{=<% %>=}}", err, sizeof(err));
	assert_string_equal(err, "page:1: changing delimiters ({{=...=}}) is not supported");

	/* A tiny error buffer is truncated, never overrun; no buffer is fine too. */
	char small[8];
	parse_error("{{", small, sizeof(small));
	assert_string_equal(small, "page:1:");
	craft_template *t = NULL;
	assert_int_equal(craft_template_parse("p", "{{", 2, &t, NULL, 0), CRAFT_EINVAL);
}

static void test_nesting_limit(void **state)
{
	(void)state;
	craft_buf src;
	craft_buf_init(&src, 4096);
	for (int i = 0; i < CRAFT_TEMPLATE_MAX_NESTING; i++)
		assert_int_equal(craft_buf_printf(&src, "{{#s}}\n"), CRAFT_OK);
	assert_int_equal(craft_buf_append_str(&src, "{{v}}"), CRAFT_OK);
	for (int i = 0; i < CRAFT_TEMPLATE_MAX_NESTING; i++)
		assert_int_equal(craft_buf_append_str(&src, "{{/s}}"), CRAFT_OK);
	char *got = render(src.data, "{\"s\": true, \"v\": \"deep\"}");
	assert_string_equal(got + CRAFT_TEMPLATE_MAX_NESTING, "deep");
	free(got);

	craft_buf_reset(&src);
	for (int i = 0; i <= CRAFT_TEMPLATE_MAX_NESTING; i++)
		assert_int_equal(craft_buf_printf(&src, "{{#s}}\n"), CRAFT_OK);
	char err[256];
	parse_error(src.data, err, sizeof(err));
	assert_string_equal(err, "page:33: sections nested deeper than 32");
	craft_buf_cleanup(&src);
}

static craft_template_set *make_set(const struct craft_template_source *src, size_t n)
{
	char err[256];
	craft_template_set *set = NULL;
	int rc = craft_template_set_new(src, n, &set, err, sizeof(err));
	if (rc)
		fail_msg("set failed: %s", err);
	return set;
}

#define SRC(n, t)                                                                                  \
	{                                                                                          \
		.name = (n), .text = (t), .len = sizeof(t) - 1                                     \
	}

static void test_partials(void **state)
{
	(void)state;
	static const struct craft_template_source src[] = {
	    SRC("page", "<h1>{{title}}</h1>{{> item-list}}{{>footer}}"),
	    SRC("item-list", "<ul>{{#items}}{{> item}}{{/items}}</ul>"),
	    SRC("item", "<li>{{name}} of {{title}}</li>"),
	    SRC("footer", "<footer>{{{credit}}}</footer>"),
	};
	craft_template_set *set = make_set(src, CRAFT_ARRAY_LEN(src));
	assert_non_null(craft_template_set_get(set, "item"));
	assert_string_equal(craft_template_name(craft_template_set_get(set, "footer")), "footer");
	assert_null(craft_template_set_get(set, "ite"));
	assert_null(craft_template_set_get(set, "items"));

	json_t *data = json_pack("{s:s, s:[{s:s}, {s:s}], s:s}", "title", "T&C", "items", "name",
				 "a", "name", "<b>", "credit", "<i>us</i>");
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	assert_int_equal(craft_template_set_render(set, "page", data, &out), CRAFT_OK);
	assert_string_equal(out.data,
			    "<h1>T&amp;C</h1><ul><li>a of T&amp;C</li>"
			    "<li>&lt;b&gt; of T&amp;C</li></ul><footer><i>us</i></footer>");
	craft_buf_reset(&out);
	assert_int_equal(craft_template_set_render(set, "nope", data, &out), CRAFT_ENOTFOUND);

	/* A template parsed on its own may use a set's templates as partials. */
	craft_template *t = NULL;
	assert_int_equal(craft_template_parse("x", "[{{> footer}}]", 14, &t, NULL, 0), CRAFT_OK);
	assert_int_equal(craft_template_render(t, set, data, &out), CRAFT_OK);
	assert_string_equal(out.data, "[<footer><i>us</i></footer>]");
	/* ...but without one the partial is not found and nothing is left behind. */
	craft_buf_reset(&out);
	assert_int_equal(craft_buf_append_str(&out, "kept"), CRAFT_OK);
	assert_int_equal(craft_template_render(t, NULL, data, &out), CRAFT_ENOTFOUND);
	assert_string_equal(out.data, "kept");

	craft_template_free(t);
	craft_buf_cleanup(&out);
	json_decref(data);
	craft_template_set_free(set);
}

static void test_partial_recursion(void **state)
{
	(void)state;
	static const struct craft_template_source src[] = {
	    SRC("tree", "({{name}}{{#kids}}{{> tree}}{{/kids}})"),
	    SRC("loop", "x{{> loop}}"),
	};
	craft_template_set *set = make_set(src, CRAFT_ARRAY_LEN(src));
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);

	/* Legitimate recursion over data of bounded depth works. Leaves need their own
	 * empty "kids": a missing one would resolve to the parent's (context stack). */
	json_t *tree =
	    json_pack("{s:s, s:[{s:s, s:[]}, {s:s, s:[{s:s, s:[]}]}]}", "name", "r", "kids", "name",
		      "a", "kids", "name", "b", "kids", "name", "c", "kids");
	assert_int_equal(craft_template_set_render(set, "tree", tree, &out), CRAFT_OK);
	assert_string_equal(out.data, "(r(a)(b(c)))");
	json_decref(tree);

	/* ...up to 16 nested partials: the top template plus 16 levels. */
	json_t *node = json_pack("{s:s, s:[]}", "name", "leaf", "kids");
	for (int i = 0; i < CRAFT_TEMPLATE_MAX_PARTIAL_DEPTH; i++)
		node = json_pack("{s:s, s:[o]}", "name", "n", "kids", node);
	craft_buf_reset(&out);
	assert_int_equal(craft_template_set_render(set, "tree", node, &out), CRAFT_OK);
	assert_non_null(strstr(out.data, "(leaf)"));
	/* One level more is refused, and the output is rolled back. */
	node = json_pack("{s:s, s:[o]}", "name", "n", "kids", node);
	craft_buf_reset(&out);
	assert_int_equal(craft_template_set_render(set, "tree", node, &out), CRAFT_ETOOBIG);
	assert_int_equal(out.len, 0);
	json_decref(node);

	/* Unbounded recursion stops at the guard. */
	assert_int_equal(craft_template_set_render(set, "loop", NULL, &out), CRAFT_ETOOBIG);
	assert_int_equal(out.len, 0);

	craft_buf_cleanup(&out);
	craft_template_set_free(set);
}

static void test_set_errors(void **state)
{
	(void)state;
	char err[256];
	craft_template_set *set = (craft_template_set *)&err; /* must be reset to NULL */

	static const struct craft_template_source unknown[] = {
	    SRC("a", "ok"),
	    SRC("b", "line1\n\n{{#x}}{{> missing}}{{/x}}"),
	};
	assert_int_equal(craft_template_set_new(unknown, 2, &set, err, sizeof(err)), CRAFT_EINVAL);
	assert_null(set);
	assert_string_equal(err, "b:3: unknown partial {{> missing}}");

	static const struct craft_template_source bad_syntax[] = {
	    SRC("good", "{{> bad}}"),
	    SRC("bad", "\n{{#x}}{{/y}}"),
	};
	assert_int_equal(craft_template_set_new(bad_syntax, 2, &set, err, sizeof(err)),
			 CRAFT_EINVAL);
	assert_string_equal(err, "bad:2: {{/y}} does not close {{#x}} opened on line 2");

	static const struct craft_template_source dup[] = {SRC("a", "1"), SRC("a", "2")};
	assert_int_equal(craft_template_set_new(dup, 2, &set, err, sizeof(err)), CRAFT_EINVAL);
	assert_string_equal(err, "duplicate template name \"a\"");

	static const struct craft_template_source bad_name[] = {SRC("../x", "1")};
	assert_int_equal(craft_template_set_new(bad_name, 1, &set, err, sizeof(err)), CRAFT_EINVAL);
	assert_string_equal(err, "invalid template name \"../x\"");

	assert_int_equal(craft_template_set_new(NULL, 0, &set, err, sizeof(err)), CRAFT_OK);
	assert_null(craft_template_set_get(set, "a"));
	craft_template_set_free(set);
	craft_template_set_free(NULL);
	craft_template_free(NULL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_dir(const char *dir, const char *const *names, size_t n)
{
	char path[512];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		remove(path);
	}
	rmdir(dir);
}

static void test_load_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/craft-template-XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_file(dir, "home.html", "{{> header}}<main>{{body}}</main>");
	write_file(dir, "header.html", "<header>{{title}}</header>");
	write_file(dir, "notes.txt", "{{#not a template");
	write_file(dir, ".hidden.html", "{{#broken");
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/sub.html", dir);
	assert_int_equal(mkdir(sub, 0700), 0);

	char err[256];
	craft_template_set *set = NULL;
	assert_int_equal(craft_template_set_load_dir(dir, &set, err, sizeof(err)), CRAFT_OK);
	assert_non_null(craft_template_set_get(set, "home"));
	assert_non_null(craft_template_set_get(set, "header"));
	assert_null(craft_template_set_get(set, "notes"));
	assert_null(craft_template_set_get(set, ".hidden"));
	assert_null(craft_template_set_get(set, "sub"));
	json_t *data = json_pack("{s:s, s:s}", "title", "<T>", "body", "b");
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	assert_int_equal(craft_template_set_render(set, "home", data, &out), CRAFT_OK);
	assert_string_equal(out.data, "<header>&lt;T&gt;</header><main>b</main>");
	craft_buf_cleanup(&out);
	json_decref(data);
	craft_template_set_free(set);

	/* A broken file fails the whole load with its name and line. */
	write_file(dir, "broken.html", "ok\n{{> nowhere}}");
	assert_int_equal(craft_template_set_load_dir(dir, &set, err, sizeof(err)), CRAFT_EINVAL);
	assert_null(set);
	assert_string_equal(err, "broken:2: unknown partial {{> nowhere}}");

	static const char *const names[] = {"home.html",    "header.html", "notes.txt",
					    ".hidden.html", "broken.html", "sub.html"};
	remove_dir(dir, names, CRAFT_ARRAY_LEN(names));

	assert_int_equal(craft_template_set_load_dir(dir, &set, err, sizeof(err)), CRAFT_EIO);
	assert_null(set);
	assert_non_null(strstr(err, dir));
}

static void test_output_bound(void **state)
{
	(void)state;
	craft_template *t = NULL;
	const char *text = "{{#items}}<li>{{.}}</li>{{/items}}";
	assert_int_equal(craft_template_parse("t", text, strlen(text), &t, NULL, 0), CRAFT_OK);
	json_t *data = json_pack("{s:[s,s,s]}", "items", "aaaa", "<<<<", "cccc");

	/* Exactly enough room succeeds. */
	const char *want = "<li>aaaa</li><li>&lt;&lt;&lt;&lt;</li><li>cccc</li>";
	craft_buf out;
	craft_buf_init(&out, strlen(want));
	assert_int_equal(craft_template_render(t, NULL, data, &out), CRAFT_OK);
	assert_string_equal(out.data, want);
	craft_buf_cleanup(&out);

	/* One byte less fails and leaves what was there before the call. */
	craft_buf_init(&out, strlen(want) + 3);
	assert_int_equal(craft_buf_append_str(&out, "pre"), CRAFT_OK);
	out.max--;
	assert_int_equal(craft_template_render(t, NULL, data, &out), CRAFT_ETOOBIG);
	assert_string_equal(out.data, "pre");
	/* An escape that does not fit fails too (text alone would have fitted). */
	out.max = 3 + strlen("<li>aaaa</li><li>&lt;");
	assert_int_equal(craft_template_render(t, NULL, data, &out), CRAFT_ETOOBIG);
	assert_string_equal(out.data, "pre");
	craft_buf_cleanup(&out);

	/* Text larger than the template size limit is refused at parse. */
	char err[128];
	char *huge = calloc(CRAFT_TEMPLATE_MAX_SIZE + 1, 1);
	assert_non_null(huge);
	craft_template *t2 = NULL;
	assert_int_equal(
	    craft_template_parse("huge", huge, CRAFT_TEMPLATE_MAX_SIZE + 1, &t2, err, sizeof(err)),
	    CRAFT_ETOOBIG);
	assert_null(t2);
	free(huge);

	json_decref(data);
	craft_template_free(t);
}

struct thread_arg {
	const craft_template_set *set;
	json_t *data;
	const char *want;
	int failures;
};

static void *render_many(void *p)
{
	struct thread_arg *a = p;
	craft_buf out;
	craft_buf_init(&out, OUT_MAX);
	for (int i = 0; i < 2000; i++) {
		craft_buf_reset(&out);
		if (craft_template_set_render(a->set, "list", a->data, &out) != CRAFT_OK ||
		    strcmp(out.data, a->want) != 0)
			a->failures++;
	}
	craft_buf_cleanup(&out);
	return NULL;
}

static void test_concurrent_render(void **state)
{
	(void)state;
	static const struct craft_template_source src[] = {
	    SRC("list", "{{#xs}}{{> one}}{{/xs}}"),
	    SRC("one", "<{{n}}>"),
	};
	craft_template_set *set = make_set(src, CRAFT_ARRAY_LEN(src));
	json_t *data = json_pack("{s:[{s:i},{s:s},{s:b}]}", "xs", "n", 1, "n", "&", "n", 0);
	struct thread_arg args[4];
	pthread_t threads[4];
	for (int i = 0; i < 4; i++) {
		args[i] =
		    (struct thread_arg){.set = set, .data = data, .want = "<1><&amp;><false>"};
		assert_int_equal(pthread_create(&threads[i], NULL, render_many, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	json_decref(data);
	craft_template_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_function),   cmocka_unit_test(test_escaped_values),
	    cmocka_unit_test(test_raw_values),        cmocka_unit_test(test_scalars_and_missing),
	    cmocka_unit_test(test_dotted_names),      cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_inverted_sections), cmocka_unit_test(test_context_stack),
	    cmocka_unit_test(test_current_item),      cmocka_unit_test(test_comments),
	    cmocka_unit_test(test_text_is_verbatim),  cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_nesting_limit),     cmocka_unit_test(test_partials),
	    cmocka_unit_test(test_partial_recursion), cmocka_unit_test(test_set_errors),
	    cmocka_unit_test(test_load_dir),          cmocka_unit_test(test_output_bound),
	    cmocka_unit_test(test_concurrent_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
