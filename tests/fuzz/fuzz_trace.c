/* libFuzzer: the trace language's parser and type checker on arbitrary
 * text (what the kernel would be handed is the loader's, not reached). One symbolizer
 * for the run, as `trace` keeps one: ELF files are read once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct symbolizer *sym;
	char *src = malloc(size + 1);
	struct tp_program p;

	if (!sym)
		sym = symbolizer_new();
	memcpy(src, data, size);
	src[size] = 0;
	memset(&p, 0, sizeof(p));
	p.sym = sym;
	if (tp_parse(src, &p) == 0)
		tp_sema(&p);
	tp_free(&p);
	free(src);
	return 0;
}
