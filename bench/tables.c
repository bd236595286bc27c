/* bench: unwind table build time and size per file (symbols/unwind_table.c).
 *   tables FILE...   prints "FILE rows KiB ms" (median of 5 builds) */
#include <stdio.h>
#include <stdlib.h>

#include "symbols/symbolize.h"
#include "symbols/unwind_table.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct symbolizer *sym;

	elf_syms_keep_elf(true);
	sym = symbolizer_new();
	for (int i = 1; i < argc; i++) {
		struct elf_syms *es = sym_elf_path(sym, argv[i]);
		struct unwind_table t;
		uint64_t ns[5];
		size_t rows = 0;

		if (!es) {
			printf("%s - - -\n", argv[i]);
			continue;
		}
		for (int r = 0; r < 5; r++) {
			if (unwind_table_build(es, &t) < 0) {
				rows = 0;
				break;
			}
			ns[r] = t.build_ns;
			rows = t.rows.n;
			unwind_table_free(&t);
		}
		if (!rows) {
			printf("%s 0 0 -\n", argv[i]);
			continue;
		}
		qsort(ns, 5, sizeof(ns[0]), cmp_u64);
		printf("%s %zu %zu %.1f\n", argv[i], rows, rows * sizeof(struct ut_row) / 1024, ns[2] / 1e6);
	}
	symbolizer_free(sym);
	return 0;
}
