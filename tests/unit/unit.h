/*
 * unit.h: what every Check program shares. Each tests/unit/check_<module>.c
 * builds its suite and ends main() with unit_run().
 */
#ifndef PATCHSCOPE_UNIT_H
#define PATCHSCOPE_UNIT_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Run every test of s (fork mode by default); return main()'s status. */
static inline int
unit_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * How much longer than the plain build timed checks may take: as the e2e
 * harness, $PATCHSCOPE_TIME_SCALE, else 4 under sanitizers, else 1.
 */
static inline double
unit_time_scale(void)
{
	const char	*v = getenv("PATCHSCOPE_TIME_SCALE");
	const char	*san = getenv("PATCHSCOPE_SANITIZED");
	double		 f = v != NULL ? atof(v) : 0;

	if (f < 1)
		f = san != NULL && strcmp(san, "yes") == 0 ? 4 : 1;
	return f;
}

#endif
