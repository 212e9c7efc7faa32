/*
 * diagnose_bench: how long diagnosing a large PATCH body takes, beside the
 * time jansson needs just to parse the same bytes (the reference, measured
 * in the same run: these machines are noisy, ratios are not).
 *
 *   make -C build tests/bench/diagnose_bench && build/tests/bench/diagnose_bench
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "rules.h"
#include "snapshot.h"

#define ROUNDS	15

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A PATCH of n webhook actions, about 1 MiB for n = 3000. */
/* (misspell: every 7th anchor is BOOKING_CANCELED) */
static void
make_body(struct buf *b, size_t n, int with_ids, int misspell)
{
	size_t	i;

	buf_adds(b, "{\"actions\": [");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, ",");
		buf_printf(b, "{%s%zu%s\"type\": \"WEBHOOK\", \"status\": "
		    "\"TEMPLATE\", \"anchor\": \"%s\", \"offsetMinutes\": 0, "
		    "\"title\": \"Hook %zu\", \"to\": "
		    "\"https://hooks.example.com/h/%zu\", \"subject\": "
		    "\"POST\", \"body\": \"{\\\"id\\\": \\\"{ID}\\\", "
		    "\\\"start\\\": \\\"{START-ISO}\\\", \\\"email\\\": "
		    "\\\"{EMAIL}\\\", \\\"ref\\\": \\\"{REF}\\\"}\", "
		    "\"attachIcs\": false, \"headers\": {\"x-auth-token\": "
		    "\"t%zu\"}}", with_ids ? "\"id\": \"act_" : "", i,
		    with_ids ? "\", " : "", misspell && i % 7 == 0 ?
		    "BOOKING_CANCELED" :
		    "BOOKING_CREATED", i, i, i);
	}
	buf_adds(b, "]}");
}

int
main(void)
{
	struct buf	 body = { NULL, 0, 0 }, snapbody = { NULL, 0, 0 };
	struct diag_list l = { NULL, 0, 0 };
	struct rules	*rules = rules_builtin();
	struct snapshot	*snap;
	json_t		*doc;
	json_error_t	 err;
	double		 t_parse[ROUNDS], t_diag[ROUNDS], t0, kib;
	size_t		 i, ndiag = 0;

	/* Every 7th anchor misspelt; 200 actions of the profile left out. */
	make_body(&body, 3000, 1, 1);
	make_body(&snapbody, 3200, 1, 0);
	doc = json_loadb(snapbody.data, snapbody.len, 0, &err);
	snap = snapshot_new(doc, "actions.*");
	json_decref(doc);
	kib = body.len / 1024.0;
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_ms();
		doc = json_loadb(body.data, body.len, 0, &err);
		t_parse[i] = now_ms() - t0;
		json_decref(doc);
		t0 = now_ms();
		diagnose_patch(body.data, body.len, "id,actions.id", snap,
		    rules, &l);
		t_diag[i] = now_ms() - t0;
		ndiag = l.n;
		diag_list_free(&l);
	}
	qsort(t_parse, ROUNDS, sizeof t_parse[0], cmp_double);
	qsort(t_diag, ROUNDS, sizeof t_diag[0], cmp_double);
	printf("PATCH body: %.0f KiB, 3000 actions, snapshot of 3200, "
	    "%zu diagnoses\n", kib, ndiag);
	printf("median of %d rounds:\n", ROUNDS);
	printf("  jansson parse only (reference)  %8.2f ms  %.4f ms/KiB\n",
	    t_parse[ROUNDS / 2], t_parse[ROUNDS / 2] / kib);
	printf("  diagnose_patch                  %8.2f ms  %.4f ms/KiB\n",
	    t_diag[ROUNDS / 2], t_diag[ROUNDS / 2] / kib);
	printf("  ratio diagnose / parse          %8.2f\n",
	    t_diag[ROUNDS / 2] / t_parse[ROUNDS / 2]);
	printf("  target: well under 1 ms/KiB (< 0.1) %s\n",
	    t_diag[ROUNDS / 2] / kib < 0.1 ? "met" : "MISSED");
	snapshot_free(snap);
	rules_free(rules);
	buf_free(&body);
	buf_free(&snapbody);
	return 0;
}
