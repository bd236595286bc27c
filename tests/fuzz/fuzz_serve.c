/* libFuzzer: serve's request parameters, from a query string in the input
 * ("pid=1&seconds=5&cgroup=..."), split as an HTTP library would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_request.h"

struct query {
	char *names[16], *values[16];
	int n;
};

static const char *get(void *ctx, const char *name)
{
	struct query *q = ctx;

	for (int i = 0; i < q->n; i++)
		if (!strcmp(q->names[i], name))
			return q->values[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *save = NULL, why[256];
	struct query q = { .n = 0 };
	struct serve_request rq;

	memcpy(text, data, size);
	text[size] = 0;
	for (char *kv = strtok_r(text, "&", &save); kv && q.n < 16; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		q.names[q.n] = kv;
		q.values[q.n] = eq ? eq + 1 : kv + strlen(kv);
		if (eq)
			*eq = 0;
		q.n++;
	}
	serve_request_parse(get, &q, 30, 300, size & 1, &rq, why, sizeof(why));
	free(text);
	return 0;
}
