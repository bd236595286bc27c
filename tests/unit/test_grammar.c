/* The trace language's grammar on its own: programs accepted and the tables
 * they compile to (syntax tree, types, map layouts), programs rejected and where the error points. Needs no
 * root and no tracefs (tests/run.sh runs it as nobody): only probes that
 * read nothing privileged (BEGIN, END, profile, interval, software, and
 * uprobes in libc). Prints "ok - NAME" / "not ok - NAME: why". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace_user.h"

#include "check.h"

/* Parses src with stderr captured into err (its first line). */
static int parse(const char *src, struct tp_program *p, char *err, size_t errlen)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), rc;

	memset(p, 0, sizeof(*p));
	p->sym = symbolizer_new();
	fflush(stderr);
	dup2(fileno(tmp), 2);
	rc = tp_parse(src, p);
	if (!rc)
		rc = tp_sema(p);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	err[0] = 0;
	if (!fgets(err, (int)errlen, tmp))
		err[0] = 0;
	err[strcspn(err, "\n")] = 0;
	fclose(tmp);
	return rc;
}

static void done(struct tp_program *p)
{
	symbolizer_free(p->sym);
	tp_free(p);
}

static const struct tp_map *map_named(const struct tp_program *p, const char *name)
{
	for (size_t i = 0; i < p->maps.n; i++)
		if (!strcmp(p->maps.v[i].name, name))
			return &p->maps.v[i];
	return NULL;
}

static void accepted(void)
{
	struct tp_program p;
	const struct tp_map *m;
	char err[512];

	/* The CPU profile one-liner. */
	check(parse("profile:hz:99 { @[ustack] = count(); }", &p, err, sizeof(err)) == 0,
	      "profile one-liner accepted", "%s", err);
	check(p.probes.n == 1 && p.probes.v[0].type == PT_PROFILE && p.probes.v[0].hz == 99,
	      "profile:hz:99 is one probe at 99 Hz", "%zu probes", p.probes.n);
	m = map_named(&p, "@");
	check(m && m->agg == AG_COUNT && m->percpu, "@ counts, per CPU", "agg %d", m ? m->agg : -9);
	/* A user stack key carries its process (stacks are per process). */
	check(m && m->npart == 1 && m->key.elem[0].k == TY_USTACK && m->key_size == 16,
	      "ustack key: stack id and pid (16 bytes)", "npart %d", m ? m->npart : -1);
	check(p.blocks.n == 1 && p.blocks.v[0].ustack && p.blocks.v[0].kinds == 1u << TK_PERF,
	      "one perf block that takes the user stack", "%zu blocks", p.blocks.n);
	done(&p);

	/* Predicates, several maps, lhist, user-space blocks. */
	check(parse("BEGIN { } profile:hz:49 /pid == 42 && cpu < 2 || comm == \"redis\"/ "
		    "{ @c[comm, tid] = count(); @l = lhist(cpu, 0, 8, 2); } "
		    "interval:s:1 { print(@c); clear(@c); } END { print(@l); }",
		    &p, err, sizeof(err)) == 0, "predicates, lhist, interval and END accepted", "%s", err);
	check(p.blocks.n == 4, "four blocks", "%zu", p.blocks.n);
	if (p.blocks.n == 4) {
		const struct node *pr = p.blocks.v[1].pred;

		check(pr && pr->k == N_BINOP && pr->op == OP_OR && pr->a->op == OP_AND &&
		      pr->b->op == OP_EQ && pr->b->b->k == N_STR && !strcmp(pr->b->b->str, "redis"),
		      "predicate: (pid == 42 && cpu < 2) || comm == \"redis\"", "%d", pr ? pr->op : -1);
		check(p.blocks.v[2].kinds == 1u << TK_USER && p.blocks.v[2].interval_ns == 1000000000ULL &&
		      p.blocks.v[2].body->kids.n == 2, "interval:s:1: a user block of two statements", "%zu",
		      p.blocks.v[2].body->kids.n);
	}
	m = map_named(&p, "@l");
	check(m && m->agg == AG_LHIST && m->lo == 0 && m->hi == 8 && m->step == 2,
	      "lhist(cpu, 0, 8, 2) bounds", "agg %d", m ? m->agg : -9);
	m = map_named(&p, "@c");
	check(m && m->npart == 2 && m->key.elem[0].k == TY_STR && m->key.elem[1].k == TY_INT &&
	      m->key.off[1] == 64, "@c[comm, tid]: a string then an int at 64", "npart %d", m ? m->npart : -1);
	done(&p);

	/* The latency idiom: assignment, nsecs - @start[tid], delete. */
	check(parse("uprobe:libc:malloc { @start[tid] = nsecs; } "
		    "uretprobe:libc:malloc /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }",
		    &p, err, sizeof(err)) == 0, "latency idiom accepted (uprobes in libc)", "%s", err);
	check(p.probes.n == 2 && p.probes.v[0].type == PT_UPROBE && p.probes.v[1].type == PT_URETPROBE &&
	      p.probes.v[0].offset && p.probes.v[0].offset == p.probes.v[1].offset,
	      "libc:malloc resolved to one file offset", "%zu probes", p.probes.n);
	m = map_named(&p, "@start");
	check(m && m->agg == AG_NONE && m->val.k == TY_INT && !m->percpu, "@start holds assigned integers",
	      "agg %d", m ? m->agg : -9);
	m = map_named(&p, "@ns");
	check(m && m->agg == AG_HIST && m->key_size == 16, "@ns is a hist (key: tid and bucket)", "agg %d",
	      m ? m->agg : -9);
	done(&p);

	/* Short forms, probe lists, software events. */
	check(parse("p:hz:10,software:cpu-clock:1000000 { @[probe] = count(); }", &p, err, sizeof(err)) == 0,
	      "short form and probe list accepted", "%s", err);
	check(p.probes.n == 2 && p.probes.v[1].type == PT_SOFTWARE && p.probes.v[1].count == 1000000,
	      "probe list: profile then software cpu-clock every 1000000", "%zu probes", p.probes.n);
	done(&p);

	/* The language: variables, conditionals, loops, printf, tuples, strings. */
	check(parse("BEGIN { $i = 0; let $s = \"a\"; while ($i < 3) { $i++; if ($i == 2) { continue; } } "
		    "@t = (1, \"x\", comm); printf(\"%d %s %-5s|\\n\", $i, $s, comm); @x = $i > 1 ? 5 : 6; "
		    "unroll(2) { @n++; } exit(3); }", &p, err, sizeof(err)) == 0,
	      "variables, while, if, continue, tuple, printf, ternary, unroll, exit(3)", "%s", err);
	m = map_named(&p, "@t");
	check(m && m->agg == AG_NONE && m->val.k == TY_TUPLE && m->val.nelem == 3 && m->val.size == 8 + 64 + 64,
	      "@t: a tuple of int, string, string", "size %d", m ? m->val.size : -1);
	check(p.fmts.n >= 2 && p.fmts.v[0].action == TR_ACT_PRINTF && p.fmts.v[0].nargs == 3,
	      "printf's record: three arguments", "%zu formats", p.fmts.n);
	done(&p);
}

struct rejected {
	const char *src;
	const char *where;   /* the expected "stdin:L:C-C" prefix */
	const char *says;    /* a piece of the message */
};

static void rejected(void)
{
	static const struct rejected cases[] = {
		{ "", "stdin:1:1-2", "empty program" },
		{ "profile:hz:99 { @ = count() @b = count(); }", "stdin:1:29-31", "expected ';' or '}'" },
		{ "profile:hz:99 { @ = count( }", "stdin:1:28-29", "syntax error: unexpected '}'" },
		{ "profile:hz:99 { @x = nosuch(); }", "stdin:1:22-30", "unknown function: 'nosuch'" },
		{ "BEGIN { $x = 1; $x = \"s\"; }", "stdin:1:17-19", "type mismatch for $x" },
		{ "BEGIN { printf(\"%d %d\\n\", 1); }", "stdin:1:9-", "2 conversions but 1 argument" },
		{ "BEGIN { @x = count(); @x = \"s\"; }", "stdin:1:23-25", "type mismatch for @x" },
		{ "BEGIN { print($nope); }", "stdin:1:15-20", "undefined variable $nope" },
		{ "BEGIN { if (1) { break; } }", "stdin:1:18-23", "break outside a loop" },
		{ "interval:s:0 { exit(); }", "stdin:1:1-13", "interval needs UNIT:N" },
		{ "kfunc:do_sys_open { @ = count(); }", "stdin:1:1-", "not supported" },
		{ "profile:hz:99 { @ = count(); }\nEND { print(@nope); }", "stdin:2:13-", "" },
		{ "software:nosuch-event { @ = count(); }", "stdin:1:1-", "" },
		{ "profile:hz:99 /pid == / { @ = count(); }", "stdin:1:", "" },
		{ "END { print(@never); }", "stdin:1:13-", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tp_program p;
		char err[512], name[160];
		int rc = parse(cases[i].src, &p, err, sizeof(err));

		snprintf(name, sizeof(name), "rejects %.60s%s", cases[i].src[0] ? cases[i].src : "(empty)",
			 strlen(cases[i].src) > 60 ? "..." : "");
		for (char *c = name; *c; c++)
			if (*c == '\n')
				*c = ' ';
		check(rc == -EINVAL && !strncmp(err, cases[i].where, strlen(cases[i].where)) &&
		      strstr(err, "ERROR: ") && strstr(err, cases[i].says),
		      name, "rc %d, message '%s' (want '%s...' saying '%s')", rc, err, cases[i].where,
		      cases[i].says);
		done(&p);
	}
}

int main(void)
{
	check_prefix = "grammar: ";
	accepted();
	rejected();
	printf("# end grammar\n");
	return failures ? 1 : 0;
}
