/* A library built without frame pointers, dlopen()ed by `nofp dlopen`
 * after the profiler attached: its callers are found only through its
 * own unwind table, loaded when it is mapped. */
#define NOINLINE __attribute__((noinline))

static volatile unsigned long sink;

NOINLINE static unsigned long lib_spin(unsigned long n)
{
	unsigned long x = n;

	for (unsigned long i = 0; i < 200000; i++)
		x = x * 6364136223846793005UL + i;
	return x;
}

NOINLINE static unsigned long lib_b(unsigned long n) { unsigned long r = lib_spin(n); sink += r; return r ^ n; }
NOINLINE static unsigned long lib_a(unsigned long n) { unsigned long r = lib_b(n + 1); sink += r; return r ^ n; }

unsigned long lib_chain(unsigned long n)
{
	unsigned long r = lib_a(n + 1);

	sink += r;
	return r ^ n;
}
