/* Unit tests of the symbolizer, the profile model and the text renderers,
 * on binaries built by tests/Makefile. Prints "ok - NAME" or
 * "not ok - NAME: why" per check; tests/run.sh counts them. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "render/pprof.h"
#include "render/render.h"
#include "symbols/probepoint.h"
#include "symbols/symbolize.h"
#include "symbols/gobin.h"
#include "symbols/elfsym.h"

#include "check.h"
#include "symbols/rustv0.h"

struct child {
	pid_t pid;
	int in, out;
	char names[8][256];
	unsigned long addrs[8];
	int n;
};

/* Starts a target that prints "name addr" lines then "end", and waits. */
static int start_target(const char *path, struct child *c)
{
	int in[2], out[2];
	char line[256];
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (pipe(in) || pipe(out))
		return -1;
	c->pid = fork();
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	f = fdopen(out[0], "r");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "end", 3))
			break;
		if (c->n < 8) {
			char *sp = strrchr(line, ' ');

			if (!sp)
				continue;
			*sp = 0;
			snprintf(c->names[c->n], sizeof(c->names[0]), "%s", line);
			c->addrs[c->n] = strtoul(sp + 1, NULL, 16);
			c->n++;
		}
	}
	fclose(f);
	return c->n ? 0 : -1;
}

static void stop_target(struct child *c)
{
	int st;

	if (write(c->in, "x", 1) < 0)
		kill(c->pid, SIGKILL);
	close(c->in);
	waitpid(c->pid, &st, 0);
}

static unsigned long addr_of(struct child *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->names[i], name))
			return c->addrs[i];
	return 0;
}

static void expect_sym(struct symbolizer *s, struct child *c, const char *test,
		       const char *fn, const char *want, const char *module_suffix)
{
	struct sym_frame f;
	char name[256];
	unsigned long a = addr_of(c, fn);

	snprintf(name, sizeof(name), "%s: %s", test, fn);
	if (!a) {
		check(0, name, "target did not print %s", fn);
		return;
	}
	sym_user(s, c->pid, 0, a + 2, &f); /* inside the function, not at its start */
	if (want)
		check(f.func && !strcmp(f.func, want), name, "got %s, want %s", f.func ? f.func : "(none)", want);
	else
		check(!f.func, name, "expected unresolved, got %s", f.func);
	if (module_suffix) {
		size_t a1 = f.module ? strlen(f.module) : 0, b1 = strlen(module_suffix);

		snprintf(name, sizeof(name), "%s: %s module", test, fn);
		check(f.module && a1 >= b1 && !strcmp(f.module + a1 - b1, module_suffix), name,
		      "module %s, want suffix %s", f.module ? f.module : "(none)", module_suffix);
	}
}

static void test_binary(const char *dir, const char *bin, bool stripped)
{
	struct symbolizer *s = symbolizer_new();
	char path[512];
	struct child c;

	snprintf(path, sizeof(path), "%s/%s", dir, bin);
	if (start_target(path, &c) < 0) {
		check(0, bin, "cannot start %s", path);
		symbolizer_free(s);
		return;
	}
	check(sym_snapshot(s, c.pid, 0) == 0, bin, "snapshot of pid %d failed", c.pid);
	expect_sym(s, &c, bin, "sym_exported", "sym_exported", bin);
	expect_sym(s, &c, bin, "sym_local", stripped ? NULL : "sym_local", bin);
	expect_sym(s, &c, bin, "symlib_compute", "symlib_compute", "libsymlib.so");
	if (stripped) { /* never dropped: module+offset */
		struct sym_frame f;

		sym_user(s, c.pid, 0, addr_of(&c, "sym_local"), &f);
		check(f.module && f.offset > 0, "stripped: unresolved frame keeps module+offset",
		      "module %s offset %llx", f.module ? f.module : "-", (unsigned long long)f.offset);
	}
	if (!stripped) { /* JIT code: a perf-PID.map names addresses outside any file */
		char map[64];
		FILE *pm;
		struct sym_frame f;

		snprintf(map, sizeof(map), "/tmp/perf-%d.map", c.pid);
		unlink(map); /* another run's, for a pid reused (a link or FIFO) */
		if ((pm = fopen(map, "wx"))) {
			fprintf(pm, "10000 100 jit::compiled_loop\n20000 80 LazyCompile:*hot.js:12\n");
			fclose(pm);
		}
		sym_user(s, c.pid, 0, 0x10040, &f);
		check(f.func && !strcmp(f.func, "jit::compiled_loop") && f.kind == PF_FRAME_UNKNOWN,
		      "perf-PID.map: JIT frame named", "got %s", f.func ? f.func : "(none)");
		sym_user(s, c.pid, 0, 0x20090, &f);
		check(!f.func, "perf-PID.map: past an entry's size is unresolved", "got %s", f.func ? f.func : "(none)");
		unlink(map);
	}
	/* After exit, the snapshot still resolves. */
	stop_target(&c);
	expect_sym(s, &c, bin, "sym_exported", "sym_exported", NULL);
	symbolizer_free(s);
}

static void test_cxx(const char *dir)
{
	struct symbolizer *s = symbolizer_new();
	char path[512];
	struct child c;

	snprintf(path, sizeof(path), "%s/symcxx", dir);
	if (start_target(path, &c) < 0) {
		check(0, "c++", "cannot start %s", path);
		symbolizer_free(s);
		return;
	}
	sym_snapshot(s, c.pid, 0);
	expect_sym(s, &c, "c++ demangled, without its parameter list (pprof's default)", "demo::Widget::spin(int)", "demo::Widget::spin", "symcxx");
	stop_target(&c);
	symbolizer_free(s);
}

/* Rust's v0 mangling: names as rustc's own 1.8x toolchain mangled them
 * (std and a small crate), read back as Rust prints them (crate hashes
 * left out), and a hostile input refused without harm. */
static void test_rust_v0(void)
{
	static const struct { const char *sym, *want; } cases[] = {
		{ "_RINvNtCskK7mfDs1mzF_1m5inner7genericNtB2_5ThingEB4_", "m::inner::generic::<m::inner::Thing>" },
		{ "_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeNCNvNtNtCsjrHSEGnQ3l9_3std3sys9backtrace10__print_fmt0EBO_",
		  "core::ptr::drop_in_place::<std::sys::backtrace::_print_fmt::{closure#0}>" },
		{ "_RNCNCNCNvNtCsjrHSEGnQ3l9_3std2rt19lang_start_internal00s_0B9_",
		  "std::rt::lang_start_internal::{closure#0}::{closure#0}::{closure#1}" },
		{ "_RINvNtNtCsjrHSEGnQ3l9_3std3sys9backtrace26___rust_end_short_backtraceNCNvNtB6_9panicking13panic_handler0zEB6_",
		  "std::sys::backtrace::__rust_end_short_backtrace::<std::panicking::panic_handler::{closure#0}, !>" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = rust_v0_demangle(cases[i].sym);

		check(d && !strcmp(d, cases[i].want), "rust v0 demangling", "%s: got %s, want %s", cases[i].sym,
		      d ? d : "(null)", cases[i].want);
		free(d);
	}
	char *bad = rust_v0_demangle("_RNvB0_B0_B0_");

	check(!bad, "rust v0: a self-referencing back-reference is refused", "%s", bad ? bad : "");
	free(bad);
	bad = rust_v0_demangle("_ZN4core3fmt5write17h1f9a0c6de1d1b6b2E");
	check(!bad, "rust v0: an Itanium name is not v0", "%s", bad ? bad : "");
	free(bad);
}

/* Go: the built-in Go 1.19 layout of runtime.g (used for stripped
 * binaries) is the one the DWARF of a Go 1.19 build describes, and allgs
 * found in runtime.allgadd's code is the symbol's address. */
static void test_go(const char *dir)
{
	char path[PATH_MAX], why[512];
	struct go_binary gb;
	const struct go_layout *t;

	snprintf(path, sizeof(path), "%s/gogoroutines", dir);
	check(go_binary_load(&gb, path, why, sizeof(why)) == 0, "go: Go 1.19 build read", "%s", why);
	check(gb.layout_from && !strcmp(gb.layout_from, "DWARF"), "go: layout from DWARF", "%s",
	      gb.layout_from ? gb.layout_from : "-");
	t = go_layout_table(gb.major, gb.minor);
	check(t && t->g_goid == gb.g.g_goid && t->g_sched == gb.g.g_sched && t->g_atomicstatus == gb.g.g_atomicstatus &&
	      t->g_waitreason == gb.g.g_waitreason && t->g_waitsince == gb.g.g_waitsince && t->g_gopc == gb.g.g_gopc &&
	      t->g_startpc == gb.g.g_startpc && t->g_labels == gb.g.g_labels && t->g_stack_hi == gb.g.g_stack_hi &&
	      t->gobuf_sp == gb.g.gobuf_sp && t->gobuf_pc == gb.g.gobuf_pc && t->gobuf_bp == gb.g.gobuf_bp &&
	      t->g_size <= gb.g.g_size,
	      "go: the built-in go1.19 runtime.g layout matches DWARF", "%s: goid %lld/%lld sched %lld/%lld labels %lld/%lld",
	      gb.version, t ? (long long)t->g_goid : -1, (long long)gb.g.g_goid, t ? (long long)t->g_sched : -1,
	      (long long)gb.g.g_sched, t ? (long long)t->g_labels : -1, (long long)gb.g.g_labels);
	check(gb.allgs && go_binary_allgs_from_code(path) == gb.allgs, "go: allgs from runtime.allgadd's code",
	      "%#llx vs symbol %#llx", (unsigned long long)go_binary_allgs_from_code(path), (unsigned long long)gb.allgs);
	check(gb.reasons.n > 20 && !strcmp(go_wait_reason(&gb, 14), "chan receive"), "go: wait reasons from the binary",
	      "%zu", gb.reasons.n);
	go_binary_free(&gb);
	snprintf(path, sizeof(path), "%s/gogoroutines-s", dir);
	check(go_binary_load(&gb, path, why, sizeof(why)) == 0 && go_binary_can_list(&gb, path, why, sizeof(why)) == 0,
	      "go: stripped build read (table layout, allgs from code)",
	      "%s", why);
	go_binary_free(&gb);
}

/* Source lines and inlined frames agree with addr2line -i -f: over a few
 * hundred addresses of a binary built -O2 -g and of libc (its lines from
 * Debian's debug file, by build id). Returns the addresses compared. */
static bool same_name(const char *ours, const char *theirs)
{
	size_t a = strlen(ours), b = strlen(theirs);

	/* addr2line may name an alias (__GI_memcpy for memcpy) */
	return !strcmp(ours, theirs) || (b > a && !strcmp(theirs + b - a, ours)) ||
	       (a > b && !strcmp(ours + a - b, theirs));
}

/* Source lines and inlined frames agree with addr2line -i -f: over a few
 * hundred addresses of a binary built -O2 -g and of libc (its lines from
 * Debian's debug file, by build id). Returns the addresses compared. */
static size_t lines_vs_addr2line(const char *path, size_t want, size_t *agree)
{
	struct symbolizer *sym = symbolizer_new();
	struct elf_syms *es = sym_elf_path(sym, path);
	char cmd[PATH_MAX + 64], out[64], line[4096];
	VEC(uint64_t) addrs = { 0 };
	size_t compared = 0;
	FILE *f;

	*agree = 0;
	if (!es || !es->syms.n) {
		symbolizer_free(sym);
		return 0;
	}
	/* Spread over the functions: one address inside every k-th one. */
	size_t step = es->syms.n / want + 1;
	for (size_t i = 0; i < es->syms.n; i += step)
		if (es->syms.v[i].size > 4)
			vec_push(&addrs, es->syms.v[i].addr + (es->syms.v[i].size * 3 / 7));
	snprintf(out, sizeof(out), "/tmp/a2l.%d.out", (int)getpid());
	snprintf(cmd, sizeof(cmd), "addr2line -a -i -f -e '%s' > %s", path, out);
	if (!(f = popen(cmd, "w"))) {
		symbolizer_free(sym);
		vec_free(&addrs);
		return 0;
	}
	for (size_t i = 0; i < addrs.n; i++)
		fprintf(f, "%#llx\n", (unsigned long long)addrs.v[i]);
	pclose(f);
	f = fopen(out, "r");
	/* -a: each address's block starts with the address, then function
	 * and file:line per inline level, innermost first. */
	bool have = f && fgets(line, sizeof(line), f);
	for (size_t i = 0; have && i < addrs.n; i++) {
		struct src_frame fr[8];
		int n = elf_src_frames(es, addrs.v[i], fr, 8), k = 0, ok = 1;
		char fn[1024];

		if (strncmp(line, "0x", 2))
			break;
		while ((have = fgets(fn, sizeof(fn), f)) && strncmp(fn, "0x", 2)) {
			char fl[2048] = "", *colon;
			long ln = -1;

			if (!fgets(fl, sizeof(fl), f))
				break;
			fn[strcspn(fn, "\n")] = 0;
			if ((colon = strrchr(fl, ':')))
				ln = strtol(colon + 1, NULL, 10);
			if (n <= 0) /* neither knows a line: agreed */
				ok &= ln <= 0;
			else if (k >= n || fr[k].line != ln || (k < n - 1 && fr[k].func && !same_name(fr[k].func, fn)))
				ok = 0;
			k++;
		}
		if (n > 0 && k != n)
			ok = 0;
		compared++;
		*agree += ok;
		if (!ok && getenv("LINES_DEBUG"))
			fprintf(stderr, "differ at %#llx: %d levels here, %d there\n", (unsigned long long)addrs.v[i], n, k);
		if (have)
			snprintf(line, sizeof(line), "%s", fn);
	}
	if (f)
		fclose(f);
	unlink(out);
	vec_free(&addrs);
	symbolizer_free(sym);
	return compared;
}

static void test_lines(const char *dir)
{
	char path[PATH_MAX];
	size_t agree, n;

	elf_syms_keep_elf(false);
	snprintf(path, sizeof(path), "%s/inl", dir);
	n = lines_vs_addr2line(path, 300, &agree);
	check(n >= 5 && agree == n, "lines: tests/build/inl: names and lines as addr2line -i -f", "%zu of %zu", agree, n);
	n = lines_vs_addr2line("/lib/x86_64-linux-gnu/libc.so.6", 300, &agree);
	check(n >= 200 && agree * 100 >= n * 97, "lines: libc (Debian's debug file): names and lines as addr2line -i -f (97%)",
	      "%zu of %zu", agree, n);
}

static void test_kernel(void)
{
	struct symbolizer *s = symbolizer_new();
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256], type;
	unsigned long long addr = 0, found = 0;
	struct sym_frame fr;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 && !strcmp(name, "schedule") &&
		    (type == 'T' || type == 't')) {
			found = addr;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!found) {
		check(0, "kernel: schedule in kallsyms", "not found (kptr_restrict?)");
		symbolizer_free(s);
		return;
	}
	sym_kernel(s, found + 4, &fr);
	check(fr.func && !strcmp(fr.func, "schedule"), "kernel: kallsyms lookup",
	      "got %s", fr.func ? fr.func : "(none)");
	symbolizer_free(s);
}

static void test_util(void)
{
	struct strpool sp = { 0 };
	struct hmap m = { 0 };
	bool ok = true;

	check(parse_duration_ns("1.5", "s") == 1500000000LL, "duration: seconds", "");
	check(parse_duration_ns("250ms", "s") == 250000000LL, "duration: ms", "");
	check(parse_duration_ns("10us", "s") == 10000LL, "duration: us", "");
	check(parse_duration_ns("-1", "s") < 0 && parse_duration_ns("5x", "s") < 0 &&
	      parse_duration_ns("", "s") < 0, "duration: rejects junk", "");
	check(strpool_intern(&sp, "abc") == strpool_intern(&sp, "abc") &&
	      strpool_intern(&sp, "abc") != strpool_intern(&sp, "abd"), "strpool: interning", "");
	for (uint64_t i = 0; i < 10000; i++)
		*hmap_upsert(&m, i, i * 3, 0, NULL) = i + 1;
	for (uint64_t i = 0; i < 10000; i++)
		ok &= hmap_get(&m, i, i * 3) && *hmap_get(&m, i, i * 3) == i + 1;
	check(ok && m.n == 10000 && !hmap_get(&m, 1, 1), "hmap: 10000 keys", "");
	for (uint64_t i = 0; i < 10000; i += 2)
		ok &= hmap_delete(&m, i, i * 3);
	for (uint64_t i = 0; i < 10000; i++)
		ok &= (i % 2) ? (hmap_get(&m, i, i * 3) && *hmap_get(&m, i, i * 3) == i + 1) : !hmap_get(&m, i, i * 3);
	check(ok && m.n == 5000, "hmap: delete keeps the other keys reachable", "");
	strpool_free(&sp);
	hmap_free(&m);
}

static struct profile *sample_profile(void)
{
	struct profile *p = profile_new("oncpu");
	struct pf_mapping km = { .file = "[kernel.kallsyms]", .kernel = true };
	uint32_t kmap = profile_add_mapping(p, &km);
	uint32_t main_ = profile_add_frame(p, 0, 0x10, PF_FRAME_USER, "main");
	uint32_t a = profile_add_frame(p, 0, 0x20, PF_FRAME_USER, "func_a");
	uint32_t b = profile_add_frame(p, 0, 0x30, PF_FRAME_USER, "func b;x");
	uint32_t k = profile_add_frame(p, kmap, 0xffff0, PF_FRAME_KERNEL, "do_syscall_64");
	uint32_t s1[] = { a, main_ }, s2[] = { k, b, main_ }, s3[] = { a, main_ };
	int64_t v1[] = { 3, 30 }, v2[] = { 1, 10 }, v3[] = { 2, 20 };
	struct pf_label l[] = { { .key = "comm", .str = "prog" }, { .key = "pid", .num = 1 } };

	profile_add_type(p, "samples", "count");
	profile_add_type(p, "cpu", "nanoseconds");
	profile_add_sample(p, s1, 2, v1, l, 2);
	profile_add_sample(p, s2, 3, v2, l, 2);
	profile_add_sample(p, s3, 2, v3, l, 2);
	check(profile_add_frame(p, 0, 0x20, PF_FRAME_USER, "func_a") == a, "profile: frames interned", "");
	return p;
}

static char *render_to_string(int (*fn)(const struct profile *, const struct render_opts *, FILE *),
			      struct profile *p, int index)
{
	struct render_opts o = { .sample_index = index };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(p, &o, f);
	fclose(f);
	return buf;
}

static void test_render(void)
{
	struct profile *p = sample_profile();
	char *folded = render_to_string(render_folded, p, 0);
	char *top = render_to_string(render_top, p, 1);
	const char *want = "prog;main;func_a 5\nprog;main;func_b:x;do_syscall_64_[k] 1\n";

	check(!strcmp(folded, want), "folded: merged, ordered root first, [k] suffix, separators escaped",
	      "got:\n%s", folded);
	check(strstr(top, "50ns 83.33% 83.33%       50ns 83.33%  func_a") != NULL,
	      "top: flat/cum of func_a in ns", "got:\n%s", top);
	check(strstr(top, "60ns 100.00%  main") != NULL, "top: cum of main", "got:\n%s", top);
	free(folded);
	free(top);
	profile_free(p);
}

/* The pprof decoder on every truncation and on random corruptions of a
 * valid profile: it must reject or accept, never crash or hang. */
static void test_pprof_fuzz(void)
{
	struct profile *p = sample_profile(), *q;
	struct pb_buf raw;
	char why[256];
	size_t accepted = 0, rejected = 0;
	unsigned seed = 12345;

	pprof_encode(p, &raw);
	q = pprof_decode(raw.data, raw.len, why, sizeof(why));
	check(q && q->samples.n == 3 && q->ntypes == 2, "pprof: encode/decode round trip", "%s", why);
	profile_free(q);
	for (size_t n = 0; n < raw.len; n++) {
		q = pprof_decode(raw.data, n, why, sizeof(why));
		q ? accepted++ : rejected++;
		profile_free(q);
	}
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *d = xmalloc(raw.len);

		memcpy(d, raw.data, raw.len);
		for (int k = 0; k < 1 + iter % 4; k++) {
			seed = seed * 1103515245 + 12345;
			d[(seed >> 8) % raw.len] ^= (uint8_t)(seed >> 3) | 1;
		}
		q = pprof_decode(d, raw.len, why, sizeof(why));
		q ? accepted++ : rejected++;
		profile_free(q);
		free(d);
	}
	check(rejected > 0, "pprof: decoder survives truncations and corruptions",
	      "accepted %zu rejected %zu", accepted, rejected);
	pb_free(&raw);
	profile_free(p);
}

/* Entry probes move to the first emulated instruction, never past one that
 * changes what the probe reads. Code bytes from real allocators. */
static void test_probe_place(void)
{
	static const struct {
		const char *name;
		uint8_t code[40];
		size_t len;
		unsigned reads;
		uint64_t moved;
		bool emulated;
	} cases[] = {
		/* glibc free: test %rdi,%rdi; je */
		{ "glibc free: past test, at je", { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0, 0, 0 }, 9,
		  PROBE_C_ARGS(1), 3, true },
		/* jemalloc malloc: cmp $0x1000,%rdi; ja */
		{ "jemalloc malloc: past cmp, at ja", { 0x48, 0x81, 0xff, 0x00, 0x10, 0, 0, 0x0f, 0x87, 0x93, 0, 0, 0 },
		  13, PROBE_C_ARGS(1), 7, true },
		/* glibc malloc: push %r12 (emulated where it starts) */
		{ "glibc malloc: push at the entry", { 0x41, 0x54, 0x55, 0x53 }, 4, PROBE_C_ARGS(1), 0, true },
		/* glibc reallocarray: mov %rsi,%rax; mul %rdx (writes rdx, an argument) */
		{ "reallocarray: mul clobbers rdx, entry kept", { 0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89, 0xc6, 0x70, 0x05 },
		  11, PROBE_C_ARGS(3), 0, false },
		/* mov %rdi,%rax; jmp: with Go's ABI rax is an argument */
		{ "Go ABI: a write to rax ends the scan", { 0x48, 0x89, 0xf8, 0xeb, 0x00 }, 5, PROBE_GO_ABI, 0, false },
		{ "C ABI: a write to rax is skipped", { 0x48, 0x89, 0xf8, 0xeb, 0x00 }, 5, PROBE_C_ARGS(1), 3, true },
		/* sub $0x10,%rsp; je: the stack pointer is always kept */
		{ "sub rsp ends the scan", { 0x48, 0x83, 0xec, 0x10, 0x74, 0x00 }, 6, PROBE_C_ARGS(1), 0, false },
		/* endbr64; nop */
		{ "endbr64 skipped", { 0xf3, 0x0f, 0x1e, 0xfa, 0x90 }, 5, PROBE_C_ARGS(1), 4, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct probe_place pl;

		probe_place_code(cases[i].code, cases[i].len, 0x1000, cases[i].reads, &pl);
		check(pl.moved == cases[i].moved && pl.off == 0x1000 + cases[i].moved &&
		      pl.emulated == cases[i].emulated, cases[i].name,
		      "moved %llu (want %llu), emulated %d (%s)", (unsigned long long)pl.moved,
		      (unsigned long long)cases[i].moved, pl.emulated, pl.insn);
	}
}

/* The JSON reader (report's timeline input): values, escapes, errors. */
static void test_json(void)
{
	static const char ok[] = " {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\", "
				 "\"o\": {}, \"e\": []} ";
	static const char *const bad[] = { "", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "tru", "1 2", "[\"\x01\"]",
					   "{\"a\":1,}", "[1e999]", "-", "\"\\u12\"" };
	struct arena a = { 0 };
	char why[128];
	const struct json *j = json_parse(ok, sizeof(ok) - 1, &a, why, sizeof(why)), *arr;
	int rejected = 0;

	check(j && j->type == JSON_OBJECT && j->n == 4, "json: an object of four members", "%s", j ? "" : why);
	arr = json_get(j, "a");
	check(arr && arr->type == JSON_ARRAY && arr->n == 5 && arr->items[1].num == -2500 &&
	      arr->items[2].type == JSON_TRUE && arr->items[4].type == JSON_NULL, "json: an array's values", "");
	check(!strcmp(json_str(j, "s", ""), "x\xc3\xa9\xf0\x9f\x98\x80\n\""), "json: escapes and surrogate pairs to UTF-8",
	      "%s", json_str(j, "s", "?"));
	check(json_uint(arr, "x", 9) == 0 && json_num(j, "missing", 7) == 7, "json: absent members give the default", "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		rejected += json_parse(bad[i], strlen(bad[i]), &a, why, sizeof(why)) == NULL;
	check(rejected == (int)(sizeof(bad) / sizeof(bad[0])), "json: malformed texts rejected", "%d of %zu", rejected,
	      sizeof(bad) / sizeof(bad[0]));
	arena_free(&a);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/build";

	test_util();
	test_json();
	test_render();
	test_pprof_fuzz();
	test_probe_place();
	test_binary(dir, "symtarget_pie", false);
	test_binary(dir, "symtarget_nopie", false);
	test_binary(dir, "symtarget_stripped", true);
	test_cxx(dir);
	test_rust_v0();
	test_go(dir);
	test_lines(dir);
	test_kernel();
	return failures ? 1 : 0;
}
