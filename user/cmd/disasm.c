/* report --disasm REGEX: the instructions of the matching functions with
 * the chosen value per instruction (flat: running there; cum: there or in
 * what it called), as perf annotate and `go tool pprof -disasm` show them.
 * The code is read from the file the profile's mapping names (its build
 * id checked when both have one) and decoded with capstone — already a
 * dependency (entry-probe placement), a library rather than a parser of
 * objdump's text, and it gives each instruction's length, which is what
 * assigning sample addresses to instructions needs. */
#include "cmd/disasm.h"
#include "render/render.h"
#include "symbols/symbolize.h"
#include "symbols/elfsym.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CODE (1u << 20)

struct hit {
	uint64_t vaddr;
	int64_t flat, cum;
};

struct target {
	uint32_t mapping;        /* index + 1 */
	const char *func;
	VEC(struct hit) hits;
};

static struct hit *hit_of(struct target *t, uint64_t vaddr)
{
	for (size_t i = 0; i < t->hits.n; i++)
		if (t->hits.v[i].vaddr == vaddr)
			return &t->hits.v[i];
	vec_push(&t->hits, ((struct hit){ vaddr, 0, 0 }));
	return &t->hits.v[t->hits.n - 1];
}

static int print_target(struct symbolizer *sym, const struct profile *p, struct target *t, const char *unit, FILE *out)
{
	const struct pf_mapping *m = &p->mappings.v[t->mapping - 1];
	struct elf_syms *es = sym_elf_path(sym, m->file);
	const struct elf_sym *fs = NULL;
	char a[32], b[32];
	uint8_t *code;
	csh h;
	cs_insn *in;
	size_t n;
	uint64_t off;
	int fd;

	if (!es) {
		fprintf(out, "ROUTINE ======================== %s\n    (cannot read %s here)\n", t->func, m->file);
		return 0;
	}
	if (m->build_id && es->build_id[0] && strcmp(m->build_id, es->build_id)) {
		fprintf(out, "ROUTINE ======================== %s\n    (%s here is not the profiled build: build id %s, "
			"the profile's %s)\n", t->func, m->file, es->build_id, m->build_id);
		return 0;
	}
	for (size_t i = 0; i < t->hits.n && !fs; i++)
		fs = elf_sym_find(es, t->hits.v[i].vaddr);
	if (!fs || !fs->size || fs->size > MAX_CODE || !elf_vaddr_to_offset(es, fs->addr, &off)) {
		fprintf(out, "ROUTINE ======================== %s\n    (no symbol with a size in %s)\n", t->func, m->file);
		return 0;
	}
	code = xmalloc(fs->size);
	fd = open(m->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, code, fs->size, (off_t)off) != (ssize_t)fs->size) {
		if (fd >= 0)
			close(fd);
		free(code);
		fprintf(out, "ROUTINE ======================== %s\n    (cannot read its code from %s)\n", t->func, m->file);
		return 0;
	}
	close(fd);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		free(code);
		return -ENOTSUP;
	}
	n = cs_disasm(h, code, fs->size, fs->addr, 0, &in);
	int64_t flat = 0, cum = 0;

	for (size_t i = 0; i < t->hits.n; i++) {
		flat += t->hits.v[i].flat;
		cum += t->hits.v[i].cum;
	}
	format_value(a, sizeof(a), flat, unit);
	format_value(b, sizeof(b), cum, unit);
	fprintf(out, "ROUTINE ======================== %s in %s\n%10s %10s (flat, cum)\n", t->func, m->file, a, b);
	for (size_t i = 0; i < n; i++) {
		int64_t f = 0, c = 0;
		bool any = false;

		for (size_t k = 0; k < t->hits.n; k++)
			if (t->hits.v[k].vaddr >= in[i].address && t->hits.v[k].vaddr < in[i].address + in[i].size) {
				f += t->hits.v[k].flat;
				c += t->hits.v[k].cum;
				any = true;
			}
		if (any) {
			format_value(a, sizeof(a), f, unit);
			format_value(b, sizeof(b), c, unit);
		} else {
			snprintf(a, sizeof(a), ".");
			snprintf(b, sizeof(b), ".");
		}
		fprintf(out, "%10s %10s %8" PRIx64 ": %s %s\n", a, b, in[i].address, in[i].mnemonic, in[i].op_str);
	}
	if (n)
		cs_free(in, n);
	cs_close(&h);
	free(code);
	return 0;
}

int report_disasm(const struct profile *p, int sample_index, const char *regex, FILE *out)
{
	VEC(struct target) targets = { 0 };
	struct symbolizer *sym;
	regex_t re;
	int err = 0;

	if (regcomp(&re, regex, REG_EXTENDED | REG_NOSUB)) {
		err_msg("--disasm '%s': not a regular expression", regex);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->samples.n; i++) {
		const struct pf_sample *s = &p->samples.v[i];
		int64_t v = s->values[sample_index];

		for (uint32_t j = 0; v && j < s->nlocs; j++) {
			const struct pf_location *loc = &p->locations.v[s->locs[j]];
			const char *fn = loc->nlines ? loc->lines[loc->nlines - 1].func : NULL; /* the physical function */
			const struct pf_mapping *m;
			struct target *t = NULL;
			struct hit *h;

			if (!fn || !loc->mapping || loc->mapping > p->mappings.n || regexec(&re, fn, 0, NULL, 0))
				continue;
			m = &p->mappings.v[loc->mapping - 1];
			if (m->kernel || !m->file || m->file[0] != '/')
				continue;
			for (size_t k = 0; k < targets.n && !t; k++)
				if (targets.v[k].func == fn && targets.v[k].mapping == loc->mapping)
					t = &targets.v[k];
			if (!t) {
				vec_push(&targets, ((struct target){ loc->mapping, fn }));
				t = &targets.v[targets.n - 1];
			}
			/* the file offset the address had, as an ELF address later */
			h = hit_of(t, loc->addr - m->start + m->offset);
			if (j == 0)
				h->flat += v;
			h->cum += v;
		}
	}
	regfree(&re);
	if (!targets.n) {
		err_msg("--disasm '%s': no sampled user function matches", regex);
		vec_free(&targets);
		return -ENOENT;
	}
	sym = symbolizer_new();
	elf_syms_keep_elf(false);
	for (size_t k = 0; k < targets.n && !err; k++) {
		struct target *t = &targets.v[k];
		const struct pf_mapping *m = &p->mappings.v[t->mapping - 1];
		struct elf_syms *es = sym_elf_path(sym, m->file);

		/* file offsets to ELF addresses */
		for (size_t i = 0; es && i < t->hits.n; i++) {
			uint64_t va;

			if (elf_offset_to_vaddr(es, t->hits.v[i].vaddr, &va))
				t->hits.v[i].vaddr = va;
		}
		err = print_target(sym, p, t, p->types[sample_index].unit, out);
	}
	for (size_t k = 0; k < targets.n; k++)
		vec_free(&targets.v[k].hits);
	vec_free(&targets);
	symbolizer_free(sym);
	return err;
}
