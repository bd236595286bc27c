/* goroutine: Go's own traceback text (what `debug=2` of the goroutine
 * profile and a crash print), one block per sample:
 *     goroutine 18 [chan receive, 5 minutes]:
 *     main.parkForever(...)
 *             /src/main.go:26
 *     created by main.main
 *             /src/main.go:67
 * from the labels goid, state, wait_ns, created_by and created_at, and the
 * frames' file:line. A profile without goroutines prints its samples the
 * same way, numbered. */
#include "render/render.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

int render_goroutine(const struct profile *p, const struct render_opts *o, FILE *out)
{
	char safe[1024];

	for (size_t i = 0; i < p->samples.n; i++) {
		const struct pf_sample *s = &p->samples.v[i];
		const struct pf_label *goid = sample_label(s, "goid"), *state = sample_label(s, "state");
		const struct pf_label *wait = sample_label(s, "wait_ns"), *by = sample_label(s, "created_by");
		const struct pf_label *at = sample_label(s, "created_at");

		if (!s->values[o->sample_index])
			continue;
		fprintf(out, "goroutine %" PRId64 " [%s", goid ? goid->num : (int64_t)i + 1,
			state && state->str ? text_safe(state->str, safe, sizeof(safe)) : "unknown");
		if (wait && wait->num >= 60 * 1000000000LL)
			fprintf(out, ", %lld minutes", (long long)(wait->num / (60 * 1000000000LL)));
		fprintf(out, "]:\n");
		for (uint32_t j = 0; j < s->nlocs; j++) {
			const struct pf_location *loc = &p->locations.v[s->locs[j]];

			for (uint32_t k = 0; k < loc->nlines; k++) {
				const struct pf_line *ln = &loc->lines[k];
				const char *fn = ln->func ? ln->func : "[unknown]";

				if (!strcmp(fn, "runtime.goexit"))
					continue; /* Go's traceback ends above it */
				fprintf(out, "%s(...)\n", text_safe(fn, safe, sizeof(safe)));
				if (ln->file)
					fprintf(out, "\t%s:%" PRId64 "\n", text_safe(ln->file, safe, sizeof(safe)), ln->line);
				else
					fprintf(out, "\t?\n");
			}
		}
		if (by && by->str) {
			fprintf(out, "created by %s\n", text_safe(by->str, safe, sizeof(safe)));
			if (at && at->str)
				fprintf(out, "\t%s\n", text_safe(at->str, safe, sizeof(safe)));
		}
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
