/* Prints the runtime addresses of its known functions, then waits on stdin.
 * Built several ways (PIE, non-PIE, stripped with only .dynsym) so the
 * symbolizer tests can resolve those addresses in a live process. */
#include <stdio.h>
#include <unistd.h>

void *symlib_compute_addr(void);

__attribute__((noinline)) int sym_exported(int x)
{
	return x + 1;
}

__attribute__((noinline)) static int sym_local(int x)
{
	return x * 2;
}

int main(void)
{
	char c;

	printf("sym_exported %p\nsym_local %p\nsymlib_compute %p\nmain %p\n",
	       (void *)sym_exported, (void *)sym_local, symlib_compute_addr(), (void *)main);
	printf("end\n");
	fflush(stdout);
	if (read(0, &c, 1) < 0)
		return 1;
	return sym_local(sym_exported(0)) - 2;
}
