/* libFuzzer: the perf-map parser on arbitrary text (a file the target writes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/symbolize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct symbolizer *s = symbolizer_new();
	char *text = malloc(size + 1);

	memcpy(text, data, size);
	text[size] = 0;
	sym_perf_map_text(s, 4242, text);
	free(text);
	symbolizer_free(s);
	return 0;
}
