/* libFuzzer: the timeline reader (JSON, then the window's profile) on
 * arbitrary bytes (report trace.json's input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/timeline_read.h"
#include "model/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	struct profile *p = timeline_read((const char *)data, size, (int64_t)(size % 7) * 1000, size % 3 ? -1 : 5000000,
					  why, sizeof(why));

	if (p)
		profile_free(p);
	return 0;
}
