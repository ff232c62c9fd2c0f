/* sigv4.c: AWS Signature Version 4 signing on OpenSSL's HMAC and SHA-256 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ddb.h"
#include "sigv4.h"

/* ddb_buf, kept NUL-terminated: its strings are C strings */
static void
buf_add(struct ddb_buf *b, const char *s, size_t n)
{
	ddb_buf_reserve(b, n + 1);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
buf_puts(struct ddb_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static char *
buf_take(struct ddb_buf *b)
{
	if (b->p == NULL)
		buf_add(b, "", 0);
	return b->p;
}

void
sigv4_base64(const unsigned char *d, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, d, (int)n);
}

void
sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_SHA256_HEX])
{
	unsigned char md[32];
	unsigned int len = sizeof md;

	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	ddb_hex(md, 32, out);
}

/* RFC 3986 unreserved bytes stay; everything else is %XX, uppercase */
char *
sigv4_encode(const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	struct ddb_buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || (c == '/' && keep_slash)) {
			buf_add(&b, (const char *)&c, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		buf_add(&b, esc, 3);
	}
	return buf_take(&b);
}

struct kv {
	char *k, *v;
	size_t i;
};

static int
cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c;

	if ((c = strcmp(x->k, y->k)) != 0)
		return c;
	if ((c = strcmp(x->v, y->v)) != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* params encoded, sorted by key then value, joined with '&' */
char *
sigv4_canonical_query(const struct sigv4_param *p, size_t n)
{
	struct kv *kv = xreallocarray(NULL, n, sizeof *kv);
	struct ddb_buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		kv[i].k = sigv4_encode(p[i].key, strlen(p[i].key), 0);
		kv[i].v = sigv4_encode(p[i].value ? p[i].value : "",
		    p[i].value ? strlen(p[i].value) : 0, 0);
		kv[i].i = i;
	}
	qsort(kv, n, sizeof *kv, cmp_kv);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(&b, "&");
		buf_puts(&b, kv[i].k);
		buf_puts(&b, "=");
		buf_puts(&b, kv[i].v);
		free(kv[i].k);
		free(kv[i].v);
	}
	free(kv);
	return buf_take(&b);
}

/* name lowercased; value trimmed, runs of spaces folded into one */
static void
canon_header(const struct sigv4_header *h, struct kv *out, size_t i)
{
	struct ddb_buf n = { 0 }, v = { 0 };
	const char *s;

	for (s = h->name; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		buf_add(&n, &c, 1);
	}
	for (s = h->value; *s == ' ' || *s == '\t'; s++)
		;
	while (*s) {
		if (*s == ' ' || *s == '\t') {
			while (*s == ' ' || *s == '\t')
				s++;
			if (*s)
				buf_add(&v, " ", 1);
			continue;
		}
		buf_add(&v, s++, 1);
	}
	out->k = buf_take(&n);
	out->v = buf_take(&v);
	out->i = i;
}

static int
cmp_name(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

char *
sigv4_canonical_request(const struct sigv4_request *r, char **signed_headers)
{
	struct kv *h = xreallocarray(NULL, r->nheaders, sizeof *h);
	struct ddb_buf b = { 0 }, sh = { 0 };
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		canon_header(&r->headers[i], &h[i], i);
	qsort(h, r->nheaders, sizeof *h, cmp_name);

	buf_puts(&b, r->method);
	buf_puts(&b, "\n");
	buf_puts(&b, r->uri);
	buf_puts(&b, "\n");
	buf_puts(&b, r->query ? r->query : "");
	buf_puts(&b, "\n");
	for (i = 0; i < r->nheaders; i++) {
		/* a header given twice is signed once, values joined by ',' */
		if (i > 0 && strcmp(h[i].k, h[i - 1].k) == 0) {
			buf_puts(&b, ",");
		} else {
			if (i > 0) {
				buf_puts(&b, "\n");
				buf_puts(&sh, ";");
			}
			buf_puts(&b, h[i].k);
			buf_puts(&b, ":");
			buf_puts(&sh, h[i].k);
		}
		buf_puts(&b, h[i].v);
	}
	buf_puts(&b, "\n\n");
	buf_puts(&b, buf_take(&sh));
	buf_puts(&b, "\n");
	buf_puts(&b, r->payload_hash);
	for (i = 0; i < r->nheaders; i++) {
		free(h[i].k);
		free(h[i].v);
	}
	free(h);
	*signed_headers = sh.p;
	return buf_take(&b);
}

static void
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &len);
}

/* the whole Authorization header value */
char *
sigv4_authorization(const struct sigv4_request *r, const struct sigv4_key *k,
    const char *amz_date)
{
	char date[9], creq_hash[SIGV4_SHA256_HEX], sig[SIGV4_SHA256_HEX];
	unsigned char kd[32], kr[32], ks[32], kk[32], mac[32];
	struct ddb_buf scope = { 0 }, sts = { 0 }, key = { 0 }, out = { 0 };
	char *sh, *creq;

	memcpy(date, amz_date, 8);
	date[8] = '\0';
	creq = sigv4_canonical_request(r, &sh);
	sigv4_sha256_hex(creq, strlen(creq), creq_hash);

	buf_puts(&scope, date);
	buf_puts(&scope, "/");
	buf_puts(&scope, k->region);
	buf_puts(&scope, "/");
	buf_puts(&scope, k->service);
	buf_puts(&scope, "/aws4_request");

	buf_puts(&sts, "AWS4-HMAC-SHA256\n");
	buf_puts(&sts, amz_date);
	buf_puts(&sts, "\n");
	buf_puts(&sts, scope.p);
	buf_puts(&sts, "\n");
	buf_puts(&sts, creq_hash);

	buf_puts(&key, "AWS4");
	buf_puts(&key, k->secret_access_key);
	hmac(key.p, key.n, date, kd);
	hmac(kd, 32, k->region, kr);
	hmac(kr, 32, k->service, ks);
	hmac(ks, 32, "aws4_request", kk);
	hmac(kk, 32, sts.p, mac);
	ddb_hex(mac, 32, sig);

	buf_puts(&out, "AWS4-HMAC-SHA256 Credential=");
	buf_puts(&out, k->access_key_id);
	buf_puts(&out, "/");
	buf_puts(&out, scope.p);
	buf_puts(&out, ", SignedHeaders=");
	buf_puts(&out, sh ? sh : "");
	buf_puts(&out, ", Signature=");
	buf_puts(&out, sig);

	/* the derived keys are as good as the secret: wipe them */
	OPENSSL_cleanse(key.p, key.n);
	OPENSSL_cleanse(kd, sizeof kd);
	OPENSSL_cleanse(kr, sizeof kr);
	OPENSSL_cleanse(ks, sizeof ks);
	OPENSSL_cleanse(kk, sizeof kk);
	free(key.p);
	free(scope.p);
	free(sts.p);
	free(sh);
	free(creq);
	return buf_take(&out);
}
