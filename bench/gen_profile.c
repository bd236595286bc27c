/* gen_profile OUT.pb.gz [stacks] [lines]: writes a synthetic oncpu-shaped
 * pprof profile with that many distinct stacks (default 50,000), for timing
 * the renderers; with "lines", every frame has a source file and line and
 * every third location two inlined callees (three lines), as a profile of
 * -O2 -g code has (#18: lines and inlines must not make rendering more than
 * 2x slower). Deterministic: the same file every run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

int main(int argc, char **argv)
{
	size_t nstacks = argc > 2 ? strtoul(argv[2], NULL, 10) : 50000;
	int lines = argc > 3 && !strcmp(argv[3], "lines");
	struct profile *p = profile_new("oncpu");
	struct render_opts o = { 0 };
	uint32_t funcs[5000], locs[64];
	unsigned seed = 42;
	FILE *f;

	profile_add_type(p, "samples", "count");
	profile_add_type(p, "cpu", "nanoseconds");
	p->period = 10101010;
	p->target = pf_str(p, "synthetic");
	for (int i = 0; i < 5000; i++) {
		char name[64];

		snprintf(name, sizeof(name), "module%d::function_%d", i % 37, i);
		if (!lines) {
			funcs[i] = profile_add_frame(p, 0, 0x400000 + i * 64, PF_FRAME_USER, name);
			continue;
		}
		char file[64], in1[64], in2[64];
		struct pf_line l[3];
		struct pf_location loc = { .addr = 0x400000 + i * 64, .kind = PF_FRAME_USER, .lines = l };

		snprintf(file, sizeof(file), "src/module%d.c", i % 37);
		snprintf(in1, sizeof(in1), "module%d::helper_%d", i % 37, i % 101);
		snprintf(in2, sizeof(in2), "module%d::inner_%d", i % 37, i % 53);
		if (i % 3 == 0) { /* two inlined callees, innermost first */
			l[0] = (struct pf_line){ pf_str(p, in2), pf_str(p, file), 1000 + i % 97, 990 };
			l[1] = (struct pf_line){ pf_str(p, in1), pf_str(p, file), 500 + i % 89, 480 };
			l[2] = (struct pf_line){ pf_str(p, name), pf_str(p, file), 10 + i % 83, 5 };
			loc.nlines = 3;
		} else {
			l[0] = (struct pf_line){ pf_str(p, name), pf_str(p, file), 10 + i % 83, 5 };
			loc.nlines = 1;
		}
		funcs[i] = profile_add_location(p, &loc);
	}
	for (size_t s = 0; s < nstacks; s++) {
		/* A shared trunk, then branches: a realistic tree shape. */
		uint32_t depth = 8 + (s % 30), n = 0;
		int64_t v[2];

		for (uint32_t d = 0; d < depth; d++) {
			seed = seed * 1103515245 + 12345;
			locs[n++] = funcs[d < 4 ? d : (d * 131 + (s >> (d % 12)) + (seed >> 16) % 3) % 5000];
		}
		for (uint32_t i = 0; i < n / 2; i++) { /* leaf first */
			uint32_t t = locs[i];

			locs[i] = locs[n - 1 - i];
			locs[n - 1 - i] = t;
		}
		v[0] = 1 + s % 7;
		v[1] = v[0] * p->period;
		profile_add_sample(p, locs, n, v, NULL, 0);
	}
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	render_pprof(p, &o, f);
	fclose(f);
	profile_free(p);
	return 0;
}
