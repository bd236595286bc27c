/* A USDT probe without systemtap's sdt.h: the .note.stapsdt record the
 * macro emits, written out. usdt N: fires bpfprof:tick(i) for i = 0..N-1,
 * so a trace sees N hits summing to N(N-1)/2. Prints "ready PID". */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define USDT1(provider, name, arg)                                              \
	__asm__ __volatile__("990: nop\n"                                       \
			     ".pushsection .note.stapsdt,\"?\",\"note\"\n"      \
			     ".balign 4\n"                                      \
			     ".4byte 992f-991f, 994f-993f, 3\n"                 \
			     "991: .asciz \"stapsdt\"\n"                        \
			     "992: .balign 4\n"                                 \
			     "993: .8byte 990b\n"                               \
			     ".8byte _.stapsdt.base\n"                          \
			     ".8byte 0\n"                                       \
			     ".asciz \"" provider "\"\n"                        \
			     ".asciz \"" name "\"\n"                            \
			     ".asciz \"8@%0\"\n"                                \
			     "994: .balign 4\n"                                 \
			     ".popsection\n"                                    \
			     ".ifndef _.stapsdt.base\n"                         \
			     ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
			     ".weak _.stapsdt.base\n"                           \
			     ".hidden _.stapsdt.base\n"                         \
			     "_.stapsdt.base: .space 1\n"                       \
			     ".size _.stapsdt.base, 1\n"                        \
			     ".popsection\n"                                    \
			     ".endif\n"                                         \
			     : : "r"((unsigned long)(arg)))

__attribute__((noinline)) static void tick(unsigned long i)
{
	USDT1("bpfprof", "tick", i);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	usleep(100000);
	for (long i = 0; i < n; i++)
		tick((unsigned long)i);
	return 0;
}
