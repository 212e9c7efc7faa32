/*
 * unit.h: what every Check program shares. Each tests/unit/check_<module>.c
 * builds its suite and ends main() with unit_run().
 */
#ifndef PATCHSCOPE_UNIT_H
#define PATCHSCOPE_UNIT_H

#include <check.h>
#include <stdlib.h>

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

#endif
