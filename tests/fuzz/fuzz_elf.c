/* libFuzzer: the ELF symbol reader on arbitrary images (files a target maps). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/elfsym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *image = malloc(size ? size : 1);
	struct elf_syms es;

	memcpy(image, data, size);
	if (elf_syms_load_mem(&es, image, size) == 0) {
		uint64_t off;

		elf_sym_find(&es, 0x1000);
		elf_vaddr_to_offset(&es, 0x1000, &off);
		elf_syms_free(&es);
	}
	free(image);
	return 0;
}
