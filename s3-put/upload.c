/* upload.c: one PUT, or a multipart upload aborted if it fails */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "s3put.h"
#include "sigv4.h"

#define MAX_PARTS 10000
#define MAX_ETAG 256	/* S3's are 34 bytes: a longer one is no S3 answer */

static void
digests(const char *p, size_t n, char sha[SIGV4_SHA256_HEX],
    char md5[SIGV4_MD5_B64])
{
	unsigned char md[32];
	unsigned int len = sizeof md;

	sigv4_sha256_hex(p, n, sha);
	EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
	sigv4_base64(md, 16, md5);
}

/*
 * A call of method on ekey?query; body NULL: none.  sha and md5 receive
 * the body's digests (md5 only if there is a body), which c points to.
 */
static struct s3_call
call_for(const char *method, const char *ekey, const char *query,
    const char *body, size_t len, char sha[SIGV4_SHA256_HEX],
    char md5[SIGV4_MD5_B64], const char *what)
{
	if (body)
		digests(body, len, sha, md5);
	else
		sigv4_sha256_hex("", 0, sha);
	return (struct s3_call){ .method = method, .key = ekey,
	    .query = query, .body = body, .len = len, .sha256 = sha,
	    .md5 = body ? md5 : NULL, .what = what };
}

static char *
strip_quotes(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		return xstrndup(s + 1, n - 2);
	return xstrdup(s);
}

int
put_single(struct s3 *s, const char *ekey, const char *what, char *buf,
    size_t n, char **h, size_t nh, struct result *res)
{
	char sha[SIGV4_SHA256_HEX], md5[SIGV4_MD5_B64];
	struct s3_call c = call_for("PUT", ekey, "", buf, n, sha, md5, what);
	struct resp r = { 0 };
	int rc;

	size_t i;
	int cond = 0;

	c.headers = (const char *const *)h;
	c.nheaders = nh;
	for (i = 0; i < nh; i++)
		cond |= strncmp(h[i], "if-", 3) == 0;
	/* a conditional write's refusal is the caller's to act on */
	c.quiet = cond;
	rc = s3_do(s, &c, &r);
	if (rc == 0) {
		res->etag = strip_quotes(r.etag);
		res->version_id = r.version_id ? xstrdup(r.version_id) : NULL;
	} else if (cond && rc == DDB_EXIT_REFUSED &&
	    (r.status == 412 || r.status == 409)) {
		warnx("%s: the object changed (HTTP %ld): not written", what,
		    r.status);
		rc = DDB_EXIT_CHANGED;
	} else if (cond && rc == DDB_EXIT_REFUSED && r.status == 501) {
		warnx("%s: the store does not do conditional writes "
		    "(HTTP 501): not written", what);
		rc = DDB_EXIT_NOCOND;
	} else if (cond)
		s3_report(&c, &r, 1);
	resp_free(&r);
	return rc;
}

static void
abort_upload(struct s3 *s, const char *ekey, const char *id, const char *what)
{
	char *enc = sigv4_encode(id, strlen(id), 0);
	char *q = xasprintf("uploadId=%s", enc);
	char sha[SIGV4_SHA256_HEX];
	struct s3_call c = call_for("DELETE", ekey, q, NULL, 0, sha, NULL,
	    what);
	struct resp r = { 0 };

	if (s3_do(s, &c, &r) == 0 && s->h->verbose)
		warnx("multipart upload %s aborted", id);
	resp_free(&r);
	free(enc);
	free(q);
}

/*
 * A run killed during a multipart upload of this key left it unfinished
 * (stored parts cost money and are never visible): list the bucket's
 * unfinished uploads with the key as prefix and abort those of exactly
 * this key.  A store that refuses the list only costs a warning.
 */
static void
abort_orphans(struct s3 *s, const char *key, const char *ekey,
    const char *uri)
{
	char sha[SIGV4_SHA256_HEX], *prefix, *kmark = NULL, *umark = NULL;
	int page, done = 0;

	prefix = sigv4_encode(key, strlen(key), 0);
	for (page = 0; page < 20 && !done; page++) {
		struct s3_call c;
		struct resp r = { 0 };
		struct xml_doc d;
		const char *trunc, *next_k, *next_u;
		char *q;
		size_t u;

		q = kmark ? xasprintf("key-marker=%s&prefix=%s&"
		    "upload-id-marker=%s&uploads=", kmark, prefix, umark) :
		    xasprintf("prefix=%s&uploads=", prefix);
		c = call_for("GET", "", q, NULL, 0, sha, NULL, "GET ?uploads");
		c.quiet = 1;
		if (s3_do(s, &c, &r) != 0) {
			char why[512];
			aws_xml_describe(&r, why, sizeof why);
			warnx("%s: cannot list unfinished "
			    "uploads (%s); one a killed run left may stay",
			    uri, why);
			resp_free(&r);
			free(q);
			break;
		}
		done = 1;
		if (xml_parse(&d, r.body, r.len) != 0) {
			warnx("%s: the list of unfinished uploads is no XML; "
			    "one a killed run left may stay", uri);
			resp_free(&r);
			free(q);
			break;
		}
		for (u = xml_next(&d, XML_NONE, "Upload"); u != XML_NONE;
		    u = xml_next(&d, u, "Upload")) {
			const char *k = xml_text(&d, u, "Key");
			const char *id = xml_text(&d, u, "UploadId");

			/* not sorted by key everywhere (Swift): read all */
			if (k && id && strcmp(k, key) == 0) {
				char *what = xasprintf("DELETE %s (abort an "
				    "unfinished multipart upload)", uri);
				warnx("%s: aborting an "
				    "unfinished multipart upload of an earlier "
				    "run (%s)", uri, id);
				abort_upload(s, ekey, id, what);
				free(what);
			}
		}
		trunc = xml_text(&d, XML_DOC, "IsTruncated");
		next_k = xml_text(&d, XML_DOC, "NextKeyMarker");
		next_u = xml_text(&d, XML_DOC, "NextUploadIdMarker");
		if (trunc && strcmp(trunc, "true") == 0 && next_k && next_u &&
		    (*next_k || *next_u)) {
			free(kmark);
			free(umark);
			kmark = sigv4_encode(next_k, strlen(next_k), 0);
			umark = sigv4_encode(next_u, strlen(next_u), 0);
			done = 0;
		}
		xml_free(&d);
		resp_free(&r);
		free(q);
	}
	free(kmark);
	free(umark);
	free(prefix);
}

/* an ETag we can send back: bounded, printable */
static int
etag_ok(const char *what, const char *etag)
{
	size_t n = strlen(etag), i;

	if (n > MAX_ETAG) {
		warnx("%s: an ETag of %zu bytes (more than "
		    "%d): not an S3 answer", what, n, MAX_ETAG);
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)etag[i] < 0x20 ||
		    (unsigned char)etag[i] >= 0x7f) {
			warnx("%s: an ETag with a control "
			    "or non-ASCII byte: not an S3 answer", what);
			return 0;
		}
	return 1;
}

static void
xml_escape(struct ddb_buf *x, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': ddb_buf_put(x, "&amp;", 5); break;
		case '<': ddb_buf_put(x, "&lt;", 4); break;
		case '>': ddb_buf_put(x, "&gt;", 4); break;
		default: ddb_buf_putc(x, *s);
		}
}

/* the body in parts: the first is in buf, the rest is read as we go */
int
put_multipart(struct s3 *s, struct body *b, const char *key, const char *ekey,
    const char *uri, char *buf, size_t n, char **h, size_t nh,
    struct result *res)
{
	char sha[SIGV4_SHA256_HEX], md5[SIGV4_MD5_B64], *id = NULL;
	char *what = xasprintf("POST %s (create multipart upload)", uri);
	char *etags[MAX_PARTS];
	struct s3_call c;
	struct resp r = { 0 };
	size_t i, xlen = 0;
	int nparts = 0, rc;
	char *xml, *enc = NULL;

	abort_orphans(s, key, ekey, uri);
	c = call_for("POST", ekey, "uploads=", NULL, 0, sha, NULL, what);
	c.headers = (const char *const *)h;
	c.nheaders = nh;
	rc = s3_do(s, &c, &r);
	if (rc == 0 && (id = xml_value(r.body, "UploadId")) == NULL) {
		warnx("%s: no UploadId in the answer", what);
		rc = DDB_EXIT_TEMPFAIL;
	}
	free(what);
	resp_free(&r);
	if (rc != 0)
		return rc;
	enc = sigv4_encode(id, strlen(id), 0);

	while (n > 0) {
		char *q;
		ssize_t got;

		if (nparts == MAX_PARTS) {
			warnx("%s: more than %d parts; "
			    "use a larger --part-size", uri, MAX_PARTS);
			rc = DDB_EXIT_REFUSED;
			break;
		}
		q = xasprintf("partNumber=%d&uploadId=%s", nparts + 1, enc);
		what = xasprintf("PUT %s (part %d)", uri, nparts + 1);
		c = call_for("PUT", ekey, q, buf, n, sha, md5, what);
		rc = s3_do(s, &c, &r);
		/* a protocol error: maybe a proxy's, try again later */
		if (rc == 0 && r.etag == NULL) {
			warnx("%s: no ETag", what);
			rc = DDB_EXIT_TEMPFAIL;
		} else if (rc == 0 && !etag_ok(what, r.etag)) {
			rc = DDB_EXIT_TEMPFAIL;
		}
		if (rc == 0)
			etags[nparts++] = xstrdup(r.etag);
		resp_free(&r);
		free(q);
		free(what);
		if (rc != 0)
			break;
		if ((got = body_read(b, buf, b->bufsize)) < 0) {
			rc = DDB_EXIT_IO;
			break;
		}
		n = (size_t)got;
	}

	if (rc == 0) {
		struct ddb_buf x = { 0 };

		ddb_buf_put(&x, "<CompleteMultipartUpload>", 25);
		for (i = 0; i < (size_t)nparts; i++) {
			char num[48];
			int k = snprintf(num, sizeof num,
			    "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
			ddb_buf_put(&x, num, (size_t)k);
			xml_escape(&x, etags[i]);
			ddb_buf_put(&x, "</ETag></Part>", 14);
		}
		ddb_buf_put(&x, "</CompleteMultipartUpload>", 26);
		xml = x.p;
		xlen = x.n;
		what = xasprintf("POST %s (complete multipart upload)", uri);
		c = call_for("POST", ekey, xasprintf("uploadId=%s", enc), xml,
		    xlen, sha, md5, what);
		c.xml_error_in_200 = 1;
		rc = s3_do(s, &c, &r);
		if (rc == 0) {
			char *et = xml_value(r.body, "ETag");
			res->etag = strip_quotes(et);
			res->version_id = r.version_id ?
			    xstrdup(r.version_id) : NULL;
			free(et);
		}
		resp_free(&r);
		free((char *)c.query);
		free(what);
		free(xml);
	}
	if (rc != 0) {
		what = xasprintf("DELETE %s (abort multipart upload)", uri);
		abort_upload(s, ekey, id, what);
		free(what);
	}
	for (i = 0; i < (size_t)nparts; i++)
		free(etags[i]);
	free(enc);
	free(id);
	return rc;
}
