/* A JIT-like target: spins in code it wrote into anonymous executable memory
 * and names it in /tmp/perf-PID.map, which it creates as the user it runs as.
 *   jit ok            a proper map: "ADDR SIZE jit_spin"
 *   jit link PATH     the map is a symbolic link to PATH (a file we may not read)
 *   jit fifo          the map is a FIFO nobody writes
 *   jit big           the map is a sparse 1 GiB file
 *   jit escape        a proper map whose name carries a terminal escape
 * Prints "ready PID" once the code runs; spins until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	/* loop: add $1,%rax; jmp loop */
	static const unsigned char code[] = { 0x48, 0x83, 0xc0, 0x01, 0xeb, 0xfa };
	const char *mode = argc > 1 ? argv[1] : "ok";
	unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char path[64];

	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem, code, sizeof(code));
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	if (!strcmp(mode, "ok") || !strcmp(mode, "escape")) {
		FILE *f = fopen(path, "w");

		if (!f)
			return 1;
		fprintf(f, "%lx %zx %s\n", (unsigned long)mem, sizeof(code),
			strcmp(mode, "ok") ? "jit\033]0;retitled\007spin" : "jit_spin");
		fclose(f);
	} else if (!strcmp(mode, "link") && argc > 2) {
		if (symlink(argv[2], path))
			return 1;
	} else if (!strcmp(mode, "fifo")) {
		if (mkfifo(path, 0644))
			return 1;
	} else if (!strcmp(mode, "big")) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || ftruncate(fd, 1L << 30))
			return 1;
		close(fd);
	} else {
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	((void (*)(void))mem)();
	return 0;
}
