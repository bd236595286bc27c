/* The unit tests' one check: prints "ok - PREFIXNAME" or
 * "not ok - PREFIXNAME: why" (tests/run.sh counts them) and counts failures. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int failures;
static const char *check_prefix = ""; /* e.g. "grammar: " */

static void check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok - %s%s\n", check_prefix, name);
		return;
	}
	printf("not ok - %s%s: ", check_prefix, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

#endif
