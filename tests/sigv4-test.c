/* sigv4-test: check the SigV4 signer against published test vectors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

/*
 * Input, one directive a line (see tests/fixtures/s3-put/sigv4-vectors.txt):
 *   key ID | secret S | region R | service S | date YYYYMMDDTHHMMSSZ  (sticky)
 *   name N   starts a vector;  method M | path RAW | query K=V |
 *   header Name:value | body TEXT   describe it;  expect AUTH  checks it.
 *   encode RAW<TAB>WANT  checks the key encoder.
 * Prints "ok N" or "FAIL N" with what it got; exits 1 if anything failed.
 */

#define MAXH 16

static char *
dup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		exit(2);
	return p;
}

/* "ok WHAT" if got is want, else "FAIL WHAT" and what it got; 1 if not */
static int
check(const char *kind, const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) == 0) {
		printf("ok %s%s\n", kind, what);
		return 0;
	}
	printf("FAIL %s%s\n got: %s\n", kind, what, got);
	return 1;
}

int
main(void)
{
	char line[4096], *key = NULL, *secret = NULL, *region = NULL;
	char *service = NULL, *date = NULL, *name = NULL, *method = NULL;
	char *path = NULL, *body = NULL;
	struct sigv4_header h[MAXH];
	struct sigv4_param q[MAXH];
	/* the directives that set one value */
	const struct { const char *word; char **slot; } sets[] = {
		{ "key ", &key }, { "secret ", &secret }, { "region ", &region },
		{ "service ", &service }, { "date ", &date },
		{ "method ", &method }, { "path ", &path }, { "body ", &body }
	};
	size_t nh = 0, nq = 0, i;
	int fails = 0;

	while (fgets(line, sizeof line, stdin)) {
		char *arg, **slot = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		arg = strchr(line, ' ');
		arg = arg ? arg + 1 : line + strlen(line);
		for (i = 0; i < sizeof sets / sizeof sets[0] && !slot; i++)
			if (strncmp(line, sets[i].word,
			    strlen(sets[i].word)) == 0)
				slot = sets[i].slot;
		if (slot) {
			free(*slot);
			*slot = dup(arg);
		} else if (strncmp(line, "name ", 5) == 0) {
			free(name);
			name = dup(arg);
			free(body);
			body = NULL;
			for (i = 0; i < nh; i++)
				free((char *)h[i].name);
			for (i = 0; i < nq; i++)
				free((char *)q[i].key);
			nh = nq = 0;
		} else if (strncmp(line, "header ", 7) == 0 && nh < MAXH) {
			char *c, *n = dup(arg);

			if ((c = strchr(n, ':')) == NULL)
				return 2;
			*c = '\0';
			h[nh].name = n;
			h[nh++].value = c + 1;
		} else if (strncmp(line, "query ", 6) == 0 && nq < MAXH) {
			char *e, *k = dup(arg);

			if ((e = strchr(k, '=')) != NULL)
				*e++ = '\0';
			q[nq].key = k;
			q[nq++].value = e ? e : "";
		} else if (strncmp(line, "encode ", 7) == 0) {
			char *want = strchr(arg, '\t'), *got;

			if (want == NULL)
				return 2;
			*want++ = '\0';
			got = sigv4_encode(arg, strlen(arg), 1);
			fails += check("encode ", want, got, want);
			free(got);
		} else if (strncmp(line, "expect ", 7) == 0) {
			struct sigv4_key k = { key, secret, region, service };
			struct sigv4_request r;
			char hash[SIGV4_SHA256_HEX], *uri, *qs, *auth;

			if (!key || !secret || !region || !service || !date ||
			    !method || !path || !name)
				return 2;
			uri = sigv4_encode(path, strlen(path), 1);
			qs = sigv4_canonical_query(q, nq);
			sigv4_sha256_hex(body ? body : "",
			    body ? strlen(body) : 0, hash);
			r.method = method;
			r.uri = uri;
			r.query = qs;
			r.headers = h;
			r.nheaders = nh;
			r.payload_hash = hash;
			auth = sigv4_authorization(&r, &k, date);
			fails += check("", name, auth, arg);
			free(auth);
			free(uri);
			free(qs);
		} else {
			fprintf(stderr, "sigv4-test: bad line: %s\n", line);
			return 2;
		}
	}
	for (i = 0; i < nh; i++)
		free((char *)h[i].name);
	for (i = 0; i < nq; i++)
		free((char *)q[i].key);
	free(key);
	free(secret);
	free(region);
	free(service);
	free(date);
	free(name);
	free(method);
	free(path);
	free(body);
	return fails ? 1 : 0;
}
