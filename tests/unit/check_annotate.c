/* Unit tests for annotate: diagnosis headers, errors array, guard answer. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "annotate.h"
#include "buf.h"
#include "diagnose.h"
#include "http.h"
#include "xmalloc.h"
#include "unit.h"

static void
push(struct diag_list *l, enum diag_severity sev, const char *code,
    const char *path, const char *msg)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n].severity = sev;
	l->v[l->n].code = xstrdup(code);
	l->v[l->n].path = xstrdup(path);
	l->v[l->n].message = xstrdup(msg);
	l->v[l->n].suggestion = NULL;
	l->n++;
}

static const char API_400[] = "{\"type\": \"CaligraphException\", "
    "\"code\": \"caligraph_invalid_payload\", \"message\": \"Invalid "
    "payload\", \"status\": \"BAD_REQUEST\", \"errors\": [], "
    "\"httpStatusCode\": 400}";

START_TEST(headers_one_per_diagnosis_with_total)
{
	struct diag_list	 l = { NULL, 0, 0 };
	struct http_headers	 h = { NULL, 0, 0 };

	push(&l, DIAG_ERROR, "actions.partial", "/actions", "m");
	push(&l, DIAG_ERROR, "json.syntax", "", "m");
	annotate_headers(&l, &h);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.v[0].value, "error actions.partial /actions");
	/* The whole body's pointer is empty: the path is left out. */
	ck_assert_str_eq(h.v[1].value, "error json.syntax");
	ck_assert_str_eq(http_headers_get(&h, "X-Patchscope-Diagnoses"), "2");
	http_headers_clear(&h);
	diag_list_free(&l);
	annotate_headers(&l, &h);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

/* A key of the client's body with CR LF must not split the response. */
START_TEST(headers_never_carry_control_bytes_from_a_path)
{
	struct diag_list	 l = { NULL, 0, 0 };
	struct http_headers	 h = { NULL, 0, 0 };

	push(&l, DIAG_WARNING, "action.field.unknown",
	    "/actions/0/x\r\nSet-Cookie: a=1%", "m");
	annotate_headers(&l, &h);
	ck_assert_str_eq(h.v[0].value, "warning action.field.unknown "
	    "/actions/0/x%0D%0ASet-Cookie: a=1%25");
	http_headers_clear(&h);
	diag_list_free(&l);
}
END_TEST

START_TEST(headers_are_capped_in_count_and_size)
{
	struct diag_list	 l = { NULL, 0, 0 };
	struct http_headers	 h = { NULL, 0, 0 };
	char			 path[1024];
	int			 i;

	memset(path, 'p', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	for (i = 0; i < 50; i++)
		push(&l, DIAG_WARNING, "action.field.unknown", path, "m");
	annotate_headers(&l, &h);
	ck_assert_uint_eq(http_headers_count(&h, "X-Patchscope-Diagnosis"),
	    ANNOTATE_MAX_HEADERS);
	ck_assert_uint_le(strlen(h.v[0].value), ANNOTATE_MAX_HEADER_LEN);
	ck_assert_str_eq(http_headers_get(&h, "X-Patchscope-Diagnoses"), "50");
	http_headers_clear(&h);
	diag_list_free(&l);
}
END_TEST

START_TEST(errors_array_gets_the_diagnoses)
{
	struct diag_list	 l = { NULL, 0, 0 };
	struct buf		 out = { NULL, 0, 0 };
	json_t			*doc, *e;
	json_error_t		 err;

	push(&l, DIAG_ERROR, "action.anchor.unknown", "/actions/3/anchor",
	    "\"BOOKING_CANCELED\" is not a known anchor");
	ck_assert_int_eq(annotate_errors(API_400, strlen(API_400), &l, &out),
	    0);
	doc = json_loadb(out.data, out.len, 0, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "code")),
	    "caligraph_invalid_payload");
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "errors")), 1);
	e = json_array_get(json_object_get(doc, "errors"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "source")),
	    "patchscope");
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")),
	    "action.anchor.unknown");
	ck_assert_str_eq(json_string_value(json_object_get(e, "path")),
	    "/actions/3/anchor");
	json_decref(doc);
	buf_free(&out);
	diag_list_free(&l);
}
END_TEST

START_TEST(bodies_without_an_errors_array_are_left_alone)
{
	static const char	*bodies[] = {
		"{\"errors\": {}}", "[]", "not json", "{\"message\": \"x\"}",
		"{\"errors\": [] ", ""
	};
	struct diag_list	 l = { NULL, 0, 0 };
	struct buf		 out = { NULL, 0, 0 };
	size_t			 i;

	push(&l, DIAG_ERROR, "json.syntax", "", "m");
	for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		ck_assert_int_eq(annotate_errors(bodies[i], strlen(bodies[i]),
		    &l, &out), -1);
		ck_assert_uint_eq(out.len, 0);
	}
	diag_list_free(&l);
}
END_TEST

START_TEST(guard_answer_has_the_api_error_shape)
{
	struct diag_list	 l = { NULL, 0, 0 };
	struct buf		 out = { NULL, 0, 0 };
	json_t			*doc;
	json_error_t		 err;

	push(&l, DIAG_ERROR, "actions.partial", "/actions", "m1");
	push(&l, DIAG_INFO, "query.fields.ignored", "query:fields", "m2");
	annotate_guard_body(&l, &out);
	doc = json_loadb(out.data, out.len, 0, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "type")),
	    "PatchscopeGuard");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "code")),
	    "patchscope_guard");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "status")),
	    "UNPROCESSABLE_ENTITY");
	ck_assert_int_eq(json_integer_value(json_object_get(doc,
	    "httpStatusCode")), 422);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "errors")), 2);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc,
	    "message")), "1 error"));
	json_decref(doc);
	buf_free(&out);
	diag_list_free(&l);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("annotate");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, headers_one_per_diagnosis_with_total);
	tcase_add_test(tc, headers_are_capped_in_count_and_size);
	tcase_add_test(tc, errors_array_gets_the_diagnoses);
	tcase_add_test(tc, bodies_without_an_errors_array_are_left_alone);
	tcase_add_test(tc, guard_answer_has_the_api_error_shape);
	tcase_add_test(tc, headers_never_carry_control_bytes_from_a_path);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
