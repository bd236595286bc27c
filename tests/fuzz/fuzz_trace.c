/* libFuzzer: the trace language's parser on arbitrary text. One symbolizer
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
	tp_parse(src, &p);
	tp_free(&p);
	free(src);
	return 0;
}
