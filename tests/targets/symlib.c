/* A shared library with known functions, for symbolizer tests. Its address
 * is reported from inside the library: a non-PIE executable would otherwise
 * print the address of its own PLT stub. */
__attribute__((noinline, visibility("hidden"))) int symlib_compute(int x)
{
	return x * 3 + 1;
}

void *symlib_compute_addr(void)
{
	return (void *)symlib_compute;
}
