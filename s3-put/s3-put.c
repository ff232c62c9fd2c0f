/* s3-put: upload one body from standard input to one S3 object */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ddb.h"
#include "s3put.h"
#include "sigv4.h"

#define MIB (1024L * 1024)
#define MAX_META 32

static int allow_empty, json_out, gzip_body, verbose, insecure;
static const char *body_file, *keep_dir, *profile_opt, *region_opt, *endpoint, *addressing, *ca_bundle;
static const char *content_type, *sse, *kms_key, *storage_class;
static const char *if_match, *download;	/* -i, -d */
static int if_none_match;		/* -n */
static const char *meta[MAX_META];
static int nmeta;
static long part_size = 8 * MIB;
/* -z: a gzip file (.gz key, application/gzip), as csv-emit -z and
 * ddb-to-s3 -z; --gzip=encoding: Content-Encoding: gzip on the key given */
enum { GZ_FILE = 1, GZ_ENCODING = 2 };

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs("usage: s3-put [-IjnvYz] [-a attempts] [-A path|virtual] "
	    "[-B ca-bundle] [-f file]\n"
	    "              [-g secs] [-G kms-key-id] [-k keep-dir] "
	    "[-L storage-class]\n"
	    "              [-m key=value] [-M secs] [-O secs] [-p profile] "
	    "[-P part-size]\n"
	    "              [-r region] [-u endpoint-url] [-W secs] "
	    "[-X AES256|aws:kms]\n"
	    "              [-i etag] [-y content-type] s3://bucket/key\n"
	    "       s3-put [options] -R keep-dir/s3-put.XXXXXX.uri\n"
	    "       s3-put [options] -d file s3://bucket/key\n", fp);
	if (status == 0)
		fputs(
		    "  s3://bucket/key             where the body goes; the key may hold\n"
		    "                              {upload_timestamp} {upload_date} (UTC)\n"
		    "                              {uuid} {sha256} (the body's, as stored)\n"
		    "  -f, --file FILE             the body from FILE, not standard input\n"
		    "  -z, --gzip                  store a gzip file: the body compressed\n"
		    "                              (as gzip -n), .gz added to the key,\n"
		    "                              application/gzip\n"
		    "      --gzip=encoding         compressed under the key as given, with\n"
		    "                              Content-Encoding: gzip\n"
		    "  -y, --content-type TYPE     (default text/csv for .csv keys, else\n"
		    "                              application/octet-stream)\n"
		    "  -m, --metadata KEY=VALUE    x-amz-meta-KEY (repeatable, up to 32)\n"
		    "  -L, --storage-class NAME    e.g. STANDARD_IA\n"
		    "  -X, --sse AES256|aws:kms    server-side encryption\n"
		    "  -G, --sse-kms-key-id ID     the KMS key of -X aws:kms\n"
		    "  -Y, --allow-empty           store an empty body (else: nothing, exit 0)\n"
		    "  -j, --json                  print {bucket,key,size,etag} as JSON,\n"
		    "                              not the URI\n"
		    "  -k, --keep-dir DIR          keep the body there if the upload fails\n"
		    "  -R, --retry-kept SIDECAR    upload a kept body to its sidecar's URI\n"
		    "  -n, --if-none-match         store only if the key does not exist\n"
		    "  -i, --if-match ETAG         store only if the object has this ETag\n"
		    "                              (refused: exit 8; no such writes: 9)\n"
		    "  -d, --download FILE         read the object into FILE, print its\n"
		    "                              ETag (none: no file)\n"
		    "  -P, --part-size SIZE        bytes per part, 5M to 5G (8M); a larger\n"
		    "                              body goes by multipart upload\n"
		    "  -u, --endpoint-url URL      S3 endpoint (S3-compatible stores)\n"
		    "  -A, --addressing STYLE      path or virtual (bucket in the host)\n"
		    "  -p, --profile NAME          AWS profile\n"
		    "  -r, --region NAME           AWS region\n"
		    "  -a, --max-attempts N        tries per request (AWS_MAX_ATTEMPTS, 5)\n"
		    "  -g, --backoff SECS          first retry waits up to this, doubling\n"
		    "                              (0.25)\n"
		    "  -M, --max-time SECS         deadline of one request (600; 0: none)\n"
		    "  -O, --connect-timeout SECS  give up connecting after this (10)\n"
		    "  -W, --timeout SECS          a request moving < 1 KB/s this long\n"
		    "                              is retried (60)\n"
		    "  -B, --ca-bundle FILE        verify TLS against these CAs\n"
		    "  -I, --no-verify-ssl         do not verify TLS (a test store only)\n"
		    "  -v, --verbose               log requests (credentials redacted)\n"
		    "  -h, --help                  this text\n"
		    "  -V, --version               print the version\n", fp);
	if (fp == stdout)
		ddb_close_stdout();	/* --help >/dev/full is an error */
	exit(status);
}

static long
num_arg(const char *s, long min, long max, const char *what)
{
	long v;

	if (ddb_long_arg(s, min, max, &v) != 0)
		ddb_usage_error(usage, "bad %s", what);
	return v;
}

/* 8M, 16m, 5242880 ... */
static long
size_arg(const char *s)
{
	long long v;

	if (ddb_size_arg(s, 1, LLONG_MAX, &v) != 0)
		ddb_usage_error(usage, "bad part size: %s", s);
	if (v < 5 * MIB || v > 5 * 1024 * MIB)
		ddb_usage_error(usage,
		    "part size %s is not between 5M and 5G", s);
	return (long)v;
}

static int
header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/*
 * A header value is signed, then sent by curl, which drops an empty one:
 * the signature would then not match.  Nothing empty is sent at all.
 */
static int
blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* an option whose value becomes a header: neither blank nor unsafe */
static const char *
header_arg(const char *v, const char *opt, const char *what)
{
	if (blank(v))
		ddb_usage_error(usage, "%s is empty", opt);
	if (!header_safe(v))
		ddb_usage_error(usage, "bad %s: %s", what, v);
	return v;
}

/* key=value: a token for a key, printable ASCII for the value */
static int
meta_ok(const char *s)
{
	const char *eq = strchr(s, '=');
	const char *p;

	if (eq == NULL || eq == s || !header_safe(s))
		return 0;
	for (p = s; p < eq; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.", *p))
			return 0;
	return 1;
}

/* the key with placeholders filled; NULL (after a message) if bad */
static char *
expand_key(const char *t, const char *sha, int *needs_sha)
{
	struct timespec ts;
	struct tm tm;
	char stamp[40], date[16], uuid[37], *out;
	const char *p;
	size_t cap = strlen(t) + 1, n = 0;

	/* a placeholder starts at each '{' and gives at most 64 bytes */
	for (p = t; (p = strchr(p, '{')) != NULL; p++)
		cap += 64;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp),
	    ".%06ldZ", ts.tv_nsec / 1000);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	out = xmalloc(cap);
	*needs_sha = 0;
	while (*t) {
		const char *v = NULL, *e;

		if (*t != '{') {
			out[n++] = *t++;
			continue;
		}
		e = strchr(t, '}');
		if (e == NULL)
			e = t + strlen(t);
		if (strncmp(t, "{upload_timestamp}", 18) == 0)
			v = stamp;
		else if (strncmp(t, "{upload_date}", 13) == 0)
			v = date;
		else if (strncmp(t, "{timestamp}", 11) == 0 ||
		    strncmp(t, "{date}", 6) == 0) {
			/* one meaning per word: the records' time (ddb-to-s3) */
			warnx("%.*s is the records' time in ddb-to-s3's keys; "
			    "s3-put knows only the upload's: {upload_%.*s",
			    (int)(e - t + 1), t, (int)(e - t), t + 1);
			free(out);
			return NULL;
		} else if (strncmp(t, "{sha256}", 8) == 0) {
			*needs_sha = 1;
			v = sha ? sha : "";
		} else if (strncmp(t, "{uuid}", 6) == 0) {
			unsigned char b[16];
			if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
				err(DDB_EXIT_IO, "getrandom");
			b[6] = (b[6] & 0x0f) | 0x40;
			b[8] = (b[8] & 0x3f) | 0x80;
			snprintf(uuid, sizeof uuid, "%02x%02x%02x%02x-%02x%02x-"
			    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
			    b[8], b[9], b[10], b[11], b[12], b[13], b[14],
			    b[15]);
			v = uuid;
		}
		if (v == NULL) {
			warnx("unknown key placeholder: %.*s",
			    (int)(e - t + (*e == '}')), t);
			free(out);
			return NULL;
		}
		memcpy(out + n, v, strlen(v));
		n += strlen(v);
		t = e + 1;
	}
	out[n] = '\0';
	return out;
}

/* the object's headers: content type, encoding, encryption, metadata */
static size_t
object_headers(const char *key, char **h)
{
	const char *dot = strrchr(key, '.');
	size_t n = 0;
	int i;

	if (content_type)
		h[n++] = xasprintf("content-type:%s", content_type);
	else if (gzip_body == GZ_FILE)
		h[n++] = xstrdup("content-type:application/gzip");
	else if (dot && strcasecmp(dot, ".csv") == 0)
		h[n++] = xstrdup("content-type:text/csv");
	else
		h[n++] = xstrdup("content-type:application/octet-stream");
	if (gzip_body == GZ_ENCODING)
		h[n++] = xstrdup("content-encoding:gzip");
	if (sse)
		h[n++] = xasprintf("x-amz-server-side-encryption:%s", sse);
	if (kms_key)
		h[n++] = xasprintf(
		    "x-amz-server-side-encryption-aws-kms-key-id:%s", kms_key);
	if (storage_class)
		h[n++] = xasprintf("x-amz-storage-class:%s", storage_class);
	if (if_none_match)
		h[n++] = xstrdup("if-none-match:*");
	if (if_match)
		h[n++] = xasprintf("if-match:%s%s%s", *if_match == '"' ? "" :
		    "\"", if_match, *if_match == '"' ? "" : "\"");
	for (i = 0; i < nmeta; i++) {
		const char *eq = strchr(meta[i], '=');
		char *k = xstrndup(meta[i], (size_t)(eq - meta[i])), *c;
		for (c = k; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		h[n++] = xasprintf("x-amz-meta-%s:%s", k, eq + 1);
		free(k);
	}
	return n;
}

/* where requests go: endpoint, Host header, path prefix */
static int
resolve_endpoint(struct s3 *s, const char *bucket, const char *profile)
{
	char *ep = aws_endpoint(endpoint, "s3", profile);
	struct aws_url u;
	int virt;

	if (ep == NULL) {
		/*
		 * AWS: virtual-hosted, unless the name is no DNS label
		 * (a dot would also break the TLS wildcard certificate)
		 */
		virt = addressing ? strcmp(addressing, "virtual") == 0 :
		    strspn(bucket, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		    strlen(bucket);
		s->base = virt ?
		    xasprintf("https://%s.s3.%s.amazonaws.com", bucket,
		    s->region) : xasprintf("https://s3.%s.amazonaws.com",
		    s->region);
		s->host = xstrdup(s->base + 8);
		s->prefix = virt ? xstrdup("") : xasprintf("/%s", bucket);
		return 0;
	}
	if (aws_url_parse(ep, &u) != 0) {
		free(ep);
		return DDB_EXIT_USAGE;
	}
	free(ep);
	virt = addressing && strcmp(addressing, "virtual") == 0;
	s->host = xasprintf("%s%s%s%s%s", virt ? bucket : "", virt ? "." : "",
	    u.host, u.port ? ":" : "", u.port ? u.port : "");
	s->base = xasprintf("%s://%s", u.scheme, s->host);
	s->prefix = virt ? xstrdup(u.path) : xasprintf("%s/%s", u.path, bucket);
	aws_url_free(&u);
	return 0;
}

/* bucket of s3://bucket/key (allocated), *key the rest; NULL if not one */
static char *
split_uri(const char *uri, const char **key)
{
	const char *k;
	char *bucket;
	size_t i;

	if (strncmp(uri, "s3://", 5) != 0 ||
	    (k = strchr(uri + 5, '/')) == NULL || k == uri + 5 ||
	    k[1] == '\0')
		return NULL;
	bucket = xasprintf("%.*s", (int)(k - uri - 5), uri + 5);
	for (i = 0; bucket[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", bucket[i])) {
			free(bucket);
			return NULL;
		}
	*key = k + 1;
	return bucket;
}

/* a key S3 takes, that a sidecar line and a log line can hold */
static int
key_ok(const char *key)
{
	const char *p;

	if (strlen(key) > 1024) {
		warnx("key longer than 1024 bytes");
		return 0;
	}
	for (p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			warnx("key holds a control character");
			return 0;
		}
	return 1;
}

/* where and as whom: region, endpoint, credentials; 0 or an exit status */
static int
s3_open(struct s3 *s, struct http *h, struct creds *cr, const char *bucket)
{
	int how, rc;
	const char *profile = aws_profile(profile_opt, &how);

	s->region_buf = aws_region(region_opt, profile);
	s->region = s->region_buf;
	s->ca = aws_setting(ca_bundle, "AWS_CA_BUNDLE", NULL, profile,
	    "ca_bundle");
	h->ca_bundle = s->ca;
	if ((rc = resolve_endpoint(s, bucket, profile)) != 0)
		return rc;
	if ((rc = creds_find(h, profile, how, cr)))
		return rc;
	if (verbose)
		warnx("credentials from %s; region %s; "
		    "endpoint %s%s", cr->source, s->region, s->base,
		    s->prefix);
	s->h = h;
	s->c = cr;
	return 0;
}

static void
s3_close(struct s3 *s)
{
	free(s->base);
	free(s->host);
	free(s->prefix);
	free(s->region_buf);
	free(s->ca);
}

static void
print_result(const char *bucket, const char *key, const char *uri,
    off_t size, const struct result *res)
{
	struct ddb_buf o = { 0 };

	if (!json_out) {
		puts(uri);
		return;
	}
	ddb_buf_put(&o, "{\"bucket\":", 10);
	ddb_json_str(&o, bucket, strlen(bucket));
	ddb_buf_put(&o, ",\"key\":", 7);
	ddb_json_str(&o, key, strlen(key));
	printf("%.*s,\"size\":%lld,\"etag\":", (int)o.n, o.p, (long long)size);
	o.n = 0;
	ddb_json_str(&o, res->etag ? res->etag : "",
	    res->etag ? strlen(res->etag) : 0);
	if (res->version_id) {
		ddb_buf_put(&o, ",\"version_id\":", 14);
		ddb_json_str(&o, res->version_id, strlen(res->version_id));
	}
	printf("%.*s}\n", (int)o.n, o.p);
	free(o.p);
}

/*
 * Upload the body, as it is read, to bucket/key and print where it went.
 * 0 or an exit status; an empty body uploads nothing unless empty_ok.
 */
static int
put_body(const char *bucket, const char *key, const char *uri,
    struct body *b, struct http *h, char *buf, int empty_ok)
{
	struct result res = { 0 };
	struct creds cr = { 0 };
	struct s3 s = { 0 };
	char *ekey, *what, *hdr[MAX_META + 8];
	size_t nh = 0, i;
	int rc, multi = 0;
	ssize_t n;

	if ((n = body_read(b, buf, (size_t)part_size)) < 0)
		return DDB_EXIT_IO;
	if (n == 0 && !empty_ok) {
		warnx("empty body: nothing uploaded to %s",
		    uri);
		return DDB_EXIT_OK;
	}
	if (n == part_size) {
		int c = getc(b->in);
		if (c != EOF) {
			multi = ungetc(c, b->in) != EOF;
		} else if (ferror(b->in)) {
			if (ferror(b->in))
				warn("%s", b->name);
			return DDB_EXIT_IO;
		}
	}
	if ((rc = s3_open(&s, h, &cr, bucket)) == 0) {
		ekey = sigv4_encode(key, strlen(key), 1);
		nh = object_headers(key, hdr);
		if (multi && (if_match || if_none_match)) {
			warnx("%s: a conditional write is one PUT: the body is "
			    "larger than the part size", uri);
			rc = DDB_EXIT_USAGE;
		} else if (multi) {
			rc = put_multipart(&s, b, key, ekey, uri, buf,
			    (size_t)n, hdr, nh, &res);
		} else {
			what = xasprintf("PUT %s", uri);
			rc = put_single(&s, ekey, what, buf, (size_t)n, hdr, nh,
			    &res);
			free(what);
		}
		if (rc == 0)
			print_result(bucket, key, uri, b->size, &res);
		for (i = 0; i < nh; i++)
			free(hdr[i]);
		free(ekey);
	}
	creds_free(&cr);
	s3_close(&s);
	free(res.etag);
	free(res.version_id);
	return rc;
}

static void
body_close(struct body *b)
{
	keep_discard(b);
	if (b->in && b->in != stdin)
		fclose(b->in);
	b->in = NULL;
}

/*
 * The body as it will be read: standard input or -f, through gzip with
 * -z, teed into a kept copy with -k.  0 or an exit status.
 */
static int
open_body(struct body *b, const char *keepdir)
{
	if (body_file && strcmp(body_file, "-") != 0) {
		if ((b->in = fopen(body_file, "rb")) == NULL) {
			warn("%s", body_file);
			return DDB_EXIT_IO;
		}
		b->name = body_file;
	}
	if (gzip_body) {
		FILE *z = ddb_gzip_open(b->in, b->in != stdin);

		if (z == NULL) {
			warn("gzip");
			return DDB_EXIT_IO;
		}
		b->in = z;
	}
	if (keepdir && open_keep(b, keepdir) == -1)
		return DDB_EXIT_IO;
	return 0;
}

/*
 * {sha256} needs the whole body first: spool it to disk (into the kept
 * copy, if there is one) and read it from there.  0 or an exit status.
 */
static int
spool_body(struct body *b, char *buf, char sha[SIGV4_SHA256_HEX])
{
	int fd = b->keepfd;

	if (fd < 0) {
		char tmpl[PATH_MAX];
		const char *td = getenv("TMPDIR");

		snprintf(tmpl, sizeof tmpl, "%s/s3-put.XXXXXX",
		    td && *td ? td : "/tmp");
		if ((fd = mkstemp(tmpl)) == -1) {
			warn("%s", tmpl);
			return DDB_EXIT_IO;
		}
		unlink(tmpl);
	}
	return spool(b, fd, buf, sha) == -1 ? DDB_EXIT_IO : 0;
}

/*
 * After a failed upload with -k: keep the whole body for -R.  After a
 * usage or I/O error there is no whole body to keep; a body that should
 * be kept and cannot be is a local I/O error.
 */
static int
keep_failed(struct body *b, char *buf, const char *uri, int rc)
{
	int keeping = b->part != NULL;

	if (rc == DDB_EXIT_USAGE || rc == DDB_EXIT_IO ||
	    rc == DDB_EXIT_CHANGED || rc == DDB_EXIT_NOCOND)
		return rc;
	if (keep_body(b, buf, uri) == -1 && keeping)
		return DDB_EXIT_IO;
	return rc;
}

/*
 * -d: the object into the file path, its ETag on standard output; an
 * object that does not exist (404 NoSuchKey) makes no file and prints
 * nothing.  0 or an exit status.
 */
static int
download_object(const char *target, struct http *h)
{
	struct creds cr = { 0 };
	struct resp r = { 0 };
	struct s3 s = { 0 };
	struct s3_call c = { 0 };
	char sha[SIGV4_SHA256_HEX], *bucket, *ekey, *what, *etag, *code;
	const char *key;
	FILE *fp;
	int rc;

	if ((bucket = split_uri(target, &key)) == NULL)
		ddb_usage_error(usage,
		    "not an s3://bucket/key URI: %s", target);
	if (!key_ok(key)) {
		free(bucket);
		return DDB_EXIT_USAGE;
	}
	if ((rc = s3_open(&s, h, &cr, bucket)) == 0) {
		ekey = sigv4_encode(key, strlen(key), 1);
		what = xasprintf("GET %s", target);
		sigv4_sha256_hex("", 0, sha);
		c = (struct s3_call){ .method = "GET", .key = ekey, .query = "",
		    .sha256 = sha, .quiet = 1, .what = what };
		rc = s3_do(&s, &c, &r);
		code = rc == DDB_EXIT_REFUSED ? xml_value(r.body, "Code") : NULL;
		if (rc == DDB_EXIT_REFUSED && r.status == 404 && code != NULL &&
		    strcmp(code, "NoSuchKey") == 0)
			rc = 0;		/* none: no file */
		else if (rc != 0)
			s3_report(&c, &r, 1);
		else if ((fp = fopen(download, "wb")) == NULL ||
		    (r.len > 0 && fwrite(r.body, 1, r.len, fp) != r.len) ||
		    fclose(fp) != 0) {
			warn("%s", download);
			rc = DDB_EXIT_IO;
		} else if ((etag = r.etag ? xstrndup(r.etag + (*r.etag == '"'),
		    strlen(r.etag) - (*r.etag == '"') -
		    (strlen(r.etag) > 1 && r.etag[strlen(r.etag) - 1] == '"')) :
		    xstrdup("")) != NULL) {
			if (!header_safe(etag)) {
				warnx("%s: an ETag that is no header value",
				    what);
				rc = DDB_EXIT_REFUSED;
			} else
				printf("%s\n", etag);
			free(etag);
		}
		free(code);
		free(what);
		free(ekey);
	}
	resp_free(&r);
	creds_free(&cr);
	s3_close(&s);
	free(bucket);
	return rc;
}

/* standard input (or -f) to target, kept on failure with -k */
static int
run(const char *target, struct http *h, char *buf)
{
	struct body b = BODY_INIT(stdin, "<stdin>", (size_t)part_size);
	const char *kt, *keepdir = keep_dir;
	char *bucket, *key, *uri, sha[SIGV4_SHA256_HEX] = "";
	int needs_sha, rc;

	if ((bucket = split_uri(target, &kt)) == NULL)
		ddb_usage_error(usage,
		    "not an s3://bucket/key URI: %s", target);
	/* a bad template is refused before anything is read */
	if ((key = expand_key(kt, NULL, &needs_sha)) == NULL)
		usage(stderr, DDB_EXIT_USAGE);
	free(key);
	/* a refused conditional write is never kept for an unconditional -R */
	if (keepdir == NULL && !if_match && !if_none_match &&
	    (keepdir = getenv("S3PUT_KEEP_DIR")) && !*keepdir)
		keepdir = NULL;
	rc = open_body(&b, keepdir);
	if (rc == 0 && needs_sha)
		rc = spool_body(&b, buf, sha);
	if (rc == 0) {
		if ((key = expand_key(kt, sha, &needs_sha)) != NULL &&
		    gzip_body == GZ_FILE && (strlen(key) < 3 ||
		    strcmp(key + strlen(key) - 3, ".gz") != 0)) {
			char *gz = xasprintf("%s.gz", key);

			free(key);
			key = gz;
		}
		if (key == NULL || !key_ok(key)) {
			rc = DDB_EXIT_USAGE;
		} else {
			uri = xasprintf("s3://%s/%s", bucket, key);
			rc = put_body(bucket, key, uri, &b, h, buf, allow_empty);
			/* a conditional write is never kept: -R has no condition */
			if (rc != 0 && !if_match && !if_none_match)
				rc = keep_failed(&b, buf, uri, rc);
			free(uri);
		}
		free(key);
	}
	body_close(&b);
	free(bucket);
	return rc;
}

/* a sidecar's three lines: s3://bucket/key, size N, sha256 HEX */
static int
read_sidecar(const char *path, char **uri, long long *size, char sha[65])
{
	char text[4096], *nl, *end;
	FILE *fp = fopen(path, "r");
	size_t n;
	int ok = 0;

	if (fp == NULL) {
		warn("%s", path);
		return DDB_EXIT_IO;
	}
	n = fread(text, 1, sizeof text - 1, fp);
	if (ferror(fp)) {
		warn("%s", path);
		fclose(fp);
		return DDB_EXIT_IO;
	}
	fclose(fp);
	text[n] = '\0';
	if (strlen(text) == n && (nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		*uri = xstrdup(text);
		errno = 0;
		if (strncmp(nl + 1, "size ", 5) == 0 &&
		    nl[6] >= '0' && nl[6] <= '9' &&
		    (*size = strtoll(nl + 6, &end, 10)) >= 0 && errno == 0 &&
		    strncmp(end, "\nsha256 ", 8) == 0 &&
		    strspn(end + 8, "0123456789abcdef") == 64 &&
		    strcmp(end + 8 + 64, "\n") == 0) {
			memcpy(sha, end + 8, 64);
			sha[64] = '\0';
			ok = 1;
		}
		if (!ok) {
			free(*uri);
			*uri = NULL;
		}
	}
	if (!ok) {
		warnx("%s: not a sidecar of a kept body "
		    "(s3://bucket/key, size N, sha256 HEX)", path);
		return DDB_EXIT_DATA;
	}
	return 0;
}

/* is the kept body the one its sidecar describes? 0 or an exit status */
static int
verify_kept(FILE *fp, const char *path, long long size, const char *sha,
    char *buf)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	char got[SIGV4_SHA256_HEX];
	struct stat st;
	size_t n;

	errno = 0;
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		warnx("%s: %s", path, errno ? strerror(errno)
		    : "not a regular file");
		EVP_MD_CTX_free(ctx);
		return DDB_EXIT_IO;
	}
	if ((long long)st.st_size != size) {
		warnx("%s: %lld bytes, its sidecar says %lld: not uploaded",
		    path, (long long)st.st_size, size);
		EVP_MD_CTX_free(ctx);
		return DDB_EXIT_DATA;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, (size_t)part_size, fp)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (ferror(fp) || fseeko(fp, 0, SEEK_SET) == -1) {
		warn("%s", path);
		return DDB_EXIT_IO;
	}
	ddb_hex(md, 32, got);
	if (strcmp(got, sha) != 0) {
		warnx("%s: SHA-256 differs from its sidecar's: not uploaded",
		    path);
		return DDB_EXIT_DATA;
	}
	return 0;
}

/*
 * The kept body path (its sidecar side) opened in b and checked against
 * the sidecar, whose URI is *uri (bucket *bucket, key *key).  0 or an
 * exit status.
 */
static int
open_kept(const char *side, const char *path, struct body *b, char **uri,
    char **bucket, const char **key, char *buf)
{
	char sha[SIGV4_SHA256_HEX];
	long long size;
	int rc;

	if ((rc = read_sidecar(side, uri, &size, sha)) != 0)
		return rc;
	if ((*bucket = split_uri(*uri, key)) == NULL || !key_ok(*key)) {
		warnx("%s: not an s3://bucket/key URI", side);
		return DDB_EXIT_DATA;
	}
	if ((b->in = fopen(path, "rb")) == NULL) {
		warn("%s", path);
		return DDB_EXIT_IO;
	}
	b->name = path;
	return verify_kept(b->in, path, size, sha, buf);
}

/* an uploaded kept body: the sidecar goes first, then the body */
static int
remove_kept(const char *side, const char *path)
{
	char *dir, *slash;

	/* a body without its sidecar is never uploaded */
	if (unlink(side) == -1 || unlink(path) == -1) {
		int e = errno;
		const char *f = access(side, F_OK) == 0 ? side : path;

		errno = e;
		warn("%s", f);
		return DDB_EXIT_IO;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	(void)ddb_sync_dir(slash ? (*dir ? dir : "/") : ".");
	free(dir);
	return 0;
}

/*
 * -R: upload a body a failed run kept, after checking it against its
 * sidecar; both are removed when it is stored, and left otherwise.
 */
static int
retry_kept(const char *side, struct http *h, char *buf)
{
	struct body b = BODY_INIT(NULL, NULL, (size_t)part_size);
	char *path, *uri = NULL, *bucket = NULL;
	const char *key;
	size_t n = strlen(side);
	int rc;

	if (n <= 4 || strcmp(side + n - 4, ".uri") != 0)
		ddb_usage_error(usage,
		    "-R wants the .uri sidecar of a kept body: %s", side);
	path = xasprintf("%.*s", (int)(n - 4), side);
	rc = open_kept(side, path, &b, &uri, &bucket, &key, buf);
	if (rc == 0 && (rc = put_body(bucket, key, uri, &b, h, buf, 1)) != 0)
		warnx("kept body left in %s (URI in %s)", path, side);
	else if (rc == 0)
		rc = remove_kept(side, path);
	body_close(&b);
	free(bucket);
	free(uri);
	free(path);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "max-attempts", required_argument, NULL, 'a' },
		{ "addressing", required_argument, NULL, 'A' },
		{ "ca-bundle", required_argument, NULL, 'B' },
		{ "download", required_argument, NULL, 'd' },
		{ "if-match", required_argument, NULL, 'i' },
		{ "file", required_argument, NULL, 'f' },
		{ "backoff", required_argument, NULL, 'g' },
		{ "sse-kms-key-id", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-verify-ssl", no_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "keep-dir", required_argument, NULL, 'k' },
		{ "storage-class", required_argument, NULL, 'L' },
		{ "metadata", required_argument, NULL, 'm' },
		{ "max-time", required_argument, NULL, 'M' },
		{ "if-none-match", no_argument, NULL, 'n' },
		{ "connect-timeout", required_argument, NULL, 'O' },
		{ "profile", required_argument, NULL, 'p' },
		{ "part-size", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'r' },
		{ "retry-kept", required_argument, NULL, 'R' },
		{ "endpoint-url", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "sse", required_argument, NULL, 'X' },
		{ "content-type", required_argument, NULL, 'y' },
		{ "allow-empty", no_argument, NULL, 'Y' },
		{ "gzip", optional_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 }
	};
	struct http h = { 0 };
	const char *e, *retry = NULL;
	char *buf;
	int c, rc;

	aws_http_defaults(&h, S3_MAX_TIME, 5);
	if ((e = getenv("AWS_MAX_ATTEMPTS")) && *e)
		h.max_attempts = (int)num_arg(e, 1, 100, "AWS_MAX_ATTEMPTS");
	while ((c = getopt_long(argc, argv,
	    "a:A:B:d:f:g:G:hi:Ijk:L:m:M:nO:p:P:r:R:u:vVW:X:y:Yz", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'a': h.max_attempts = (int)num_arg(optarg, 1, 100,
		    "attempt count"); break;
		case 'A':
			if (strcmp(optarg, "path") && strcmp(optarg, "virtual"))
				ddb_usage_error(usage,
				    "addressing is path or virtual, "
				    "not %s", optarg);
			addressing = optarg;
			break;
		case 'B': ca_bundle = optarg; break;
		case 'd': download = optarg; break;
		case 'i':
			if_match = header_arg(optarg, "--if-match", "ETag");
			break;
		case 'f': body_file = optarg; break;
		case 'g':
			if (ddb_double_arg(optarg, 0, 60, &h.backoff) != 0)
				ddb_usage_error(usage,
				    "bad backoff: %s", optarg);
			break;
		case 'G':
			kms_key = header_arg(optarg, "--sse-kms-key-id",
			    "KMS key id");
			break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'I': insecure = 1; break;
		case 'j': json_out = 1; break;
		case 'k': keep_dir = optarg; break;
		case 'L':
			storage_class = header_arg(optarg, "--storage-class",
			    "storage class");
			break;
		case 'm':
			if (nmeta == MAX_META)
				ddb_usage_error(usage,
				    "more than 32 metadata items");
			if (!meta_ok(optarg))
				ddb_usage_error(usage,
				    "bad metadata (want key=value, "
				    "printable ASCII): %s", optarg);
			if (blank(strchr(optarg, '=') + 1))
				ddb_usage_error(usage,
				    "--metadata %.*s has an empty value",
				    (int)(strchr(optarg, '=') - optarg), optarg);
			meta[nmeta++] = optarg;
			break;
		case 'M': h.max_time = num_arg(optarg, 0, 86400,
		    "maximum time"); break;
		case 'n': if_none_match = 1; break;
		case 'O': h.connect_timeout = num_arg(optarg, 1, 3600,
		    "connect timeout"); break;
		case 'p': profile_opt = optarg; break;
		case 'P': part_size = size_arg(optarg); break;
		case 'r': region_opt = optarg; break;
		case 'R': retry = optarg; break;
		case 'u': endpoint = optarg; break;
		case 'v': verbose = 1; break;
		case 'V': ddb_print_version(); break;
		case 'W': h.stall_timeout = num_arg(optarg, 1, 86400,
		    "timeout"); break;
		case 'X':
			if (blank(optarg))
				ddb_usage_error(usage, "--sse is empty");
			if (strcmp(optarg, "AES256") && strcmp(optarg, "aws:kms"))
				ddb_usage_error(usage,
				    "--sse is AES256 or aws:kms, not %s",
				    optarg);
			sse = optarg;
			break;
		case 'y':
			content_type = header_arg(optarg, "--content-type",
			    "content type");
			break;
		case 'Y': allow_empty = 1; break;
		case 'z':
			if (optarg == NULL || strcmp(optarg, "file") == 0)
				gzip_body = GZ_FILE;
			else if (strcmp(optarg, "encoding") == 0)
				gzip_body = GZ_ENCODING;
			else
				ddb_usage_error(usage,
				    "--gzip is file or encoding, not %s",
				    optarg);
			break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (retry) {
		if (argc != 0)
			ddb_usage_error(usage,
			    "--retry-kept takes the target from the "
			    "sidecar: no s3:// URI");
		if (body_file)
			ddb_usage_error(usage,
			    "--retry-kept reads the kept body: no --file");
	} else if (argc != 1) {
		usage(stderr, DDB_EXIT_USAGE);
	}
	if (kms_key && (sse == NULL || strcmp(sse, "aws:kms") != 0))
		ddb_usage_error(usage, "--sse-kms-key-id needs --sse aws:kms");
	if (if_match && if_none_match)
		ddb_usage_error(usage,
		    "--if-match and --if-none-match: give one");
	if ((if_match || if_none_match) && (retry || keep_dir))
		ddb_usage_error(usage,
		    "a conditional write is not kept for --retry-kept: "
		    "no --keep-dir");
	if (download && (retry || body_file || keep_dir || if_match ||
	    if_none_match))
		ddb_usage_error(usage,
		    "--download reads one object: no --retry-kept, "
		    "--file, --keep-dir, --if-match or --if-none-match");
	if (download && *download == '\0')
		ddb_usage_error(usage, "--download needs a file name");
	h.verbose = verbose;
	h.insecure = insecure;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h.curl = curl_easy_init()) == NULL) {
		warnx("cannot initialise libcurl");
		return DDB_EXIT_IO;
	}
	buf = xmalloc((size_t)part_size);
	rc = retry ? retry_kept(retry, &h, buf) : download ?
	    download_object(argv[0], &h) : run(argv[0], &h, buf);
	free(buf);
	curl_easy_cleanup(h.curl);
	curl_global_cleanup();
	if (rc == 0)
		ddb_close_stdout();
	return rc;
}
