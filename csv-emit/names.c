/* names.c: csv-emit's table of column and attribute names, by first sight */
#include <stdlib.h>
#include <string.h>

#include "csv-emit.h"

static uint32_t
hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* the id of name s, added when add is set; -1 if absent */
long
names_find(struct names *nm, const char *s, int add)
{
	size_t n = strlen(s), i, id;
	uint32_t h = hash_name(s, n);

	if (nm->tab != NULL)
		for (i = h & nm->mask; nm->tab[i] != 0; i = (i + 1) & nm->mask) {
			id = nm->tab[i] - 1;
			if (nm->hash[id] == h && strcmp(nm->name[id], s) == 0)
				return (long)id;
		}
	if (!add)
		return -1;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		nm->name = xreallocarray(nm->name, nm->cap, sizeof *nm->name);
		nm->len = xreallocarray(nm->len, nm->cap, sizeof *nm->len);
		nm->hash = xreallocarray(nm->hash, nm->cap, sizeof *nm->hash);
		nm->count = xreallocarray(nm->count, nm->cap,
		    sizeof *nm->count);
		/* a table twice the names' capacity stays at most half full */
		free(nm->tab);
		nm->mask = nm->cap * 2 - 1;
		nm->tab = xreallocarray(NULL, nm->mask + 1, sizeof *nm->tab);
		memset(nm->tab, 0, (nm->mask + 1) * sizeof *nm->tab);
		for (id = 0; id < nm->n; id++) {
			for (i = nm->hash[id] & nm->mask; nm->tab[i] != 0;
			    i = (i + 1) & nm->mask)
				;
			nm->tab[i] = (uint32_t)id + 1;
		}
	}
	id = nm->n++;
	nm->name[id] = xstrndup(s, n);
	nm->len[id] = n;
	nm->hash[id] = h;
	nm->count[id] = 0;
	for (i = h & nm->mask; nm->tab[i] != 0; i = (i + 1) & nm->mask)
		;
	nm->tab[i] = (uint32_t)id + 1;
	return (long)id;
}

void
names_free(struct names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->name[i]);
	free(nm->name);
	free(nm->len);
	free(nm->hash);
	free(nm->count);
	free(nm->tab);
	memset(nm, 0, sizeof *nm);
}
