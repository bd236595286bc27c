/* libFuzzer: the pprof reader on arbitrary bytes (report's input). */
#include <stdint.h>
#include <stdlib.h>

#include "render/pprof.h"
#include "model/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	struct profile *p = pprof_decode(data, size, why, sizeof(why));

	if (p)
		profile_free(p);
	return 0;
}
