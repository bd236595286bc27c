/* The HTML timeline (timeline_html.h): the page, built into the binary from
 * render/timeline.html (build/timeline_html.inc, made by the Makefile), with
 * the trace where the page says. */
#include <errno.h>
#include <string.h>

#include "render/timeline_html.h"

static const char page[] =
#include "timeline_html.inc"
	;

#define DATA_MARK "/*BPFPROF_DATA*/"

int timeline_html_write(FILE *out, const char *json, size_t len)
{
	const char *mark = strstr(page, DATA_MARK);

	if (!mark)
		return -EINVAL;
	fwrite(page, 1, (size_t)(mark - page), out);
	/* Inside <script>, "</" could close the element (a function named
	 * "</script>"): JSON lets "/" be written "\/". */
	for (size_t i = 0; i < len; i++) {
		if (json[i] == '<' && i + 1 < len && json[i + 1] == '/') {
			fputs("<\\/", out);
			i++;
			continue;
		}
		fputc(json[i], out);
	}
	fputs(mark + strlen(DATA_MARK), out);
	return ferror(out) ? -EIO : 0;
}
