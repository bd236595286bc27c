/* The self-contained HTML timeline: render/timeline.html (lanes per thread,
 * zoom and pan, a slice's stack, a window's flame graph) with a trace's
 * trace-event JSON inside it. */
#ifndef BPFPROF_TIMELINE_HTML_H
#define BPFPROF_TIMELINE_HTML_H

#include <stdio.h>

/* Writes the page holding json (len bytes); 0 or -EIO. */
int timeline_html_write(FILE *out, const char *json, size_t len);

#endif
