/* s3-put: upload one body from standard input to one S3 object */
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

#include <json-c/json.h>
#include <openssl/evp.h>

#include "ddb.h"
#include "s3put.h"
#include "sigv4.h"

#define MIB (1024L * 1024)
#define MAX_META 32

static int allow_empty, json_out, gzip_body, verbose, insecure;
static const char *body_file, *keep_dir, *profile_opt, *region_opt, *endpoint, *addressing, *ca_bundle;
static const char *content_type, *sse, *kms_key, *storage_class;
static const char *meta[MAX_META];
static int nmeta;
static long part_size = 8 * MIB;

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs("usage: s3-put [-IjvYz] [-a attempts] [-A path|virtual] "
	    "[-B ca-bundle] [-f file]\n"
	    "              [-g secs] [-G kms-key-id] [-k keep-dir] "
	    "[-L storage-class]\n"
	    "              [-m key=value] [-M secs] [-O secs] [-p profile] "
	    "[-P part-size]\n"
	    "              [-r region] [-u endpoint-url] [-W secs] "
	    "[-X AES256|aws:kms]\n"
	    "              [-y content-type] s3://bucket/key\n"
	    "key placeholders: {timestamp} {date} {uuid} {sha256}\n", fp);
	exit(status);
}

static _Noreturn void die_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static _Noreturn void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("s3-put: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr, DDB_EXIT_USAGE);
}

static long
num_arg(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage("bad %s", what);
	return v;
}

/* 8M, 16m, 5242880 ... */
static long
size_arg(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		die_usage("bad part size: %s", s);
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= MIB; end++; break;
	case 'g': case 'G': v *= 1024 * MIB; end++; break;
	}
	if (*end || v < 5 * MIB || v > 5 * 1024 * MIB)
		die_usage("part size %s is not between 5M and 5G", s);
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
		if (strncmp(t, "{timestamp}", 11) == 0)
			v = stamp;
		else if (strncmp(t, "{date}", 6) == 0)
			v = date;
		else if (strncmp(t, "{sha256}", 8) == 0) {
			*needs_sha = 1;
			v = sha ? sha : "";
		} else if (strncmp(t, "{uuid}", 6) == 0) {
			unsigned char b[16];
			if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
				fprintf(stderr, "s3-put: getrandom: %s\n",
				    strerror(errno));
				exit(DDB_EXIT_IO);
			}
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
			fprintf(stderr, "s3-put: unknown key placeholder: "
			    "%.*s\n", (int)(e - t + (*e == '}')), t);
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
	else if (dot && strcasecmp(dot, ".csv") == 0)
		h[n++] = xstrdup("content-type:text/csv");
	else
		h[n++] = xstrdup("content-type:application/octet-stream");
	if (gzip_body)
		h[n++] = xstrdup("content-encoding:gzip");
	if (sse)
		h[n++] = xasprintf("x-amz-server-side-encryption:%s", sse);
	if (kms_key)
		h[n++] = xasprintf(
		    "x-amz-server-side-encryption-aws-kms-key-id:%s", kms_key);
	if (storage_class)
		h[n++] = xasprintf("x-amz-storage-class:%s", storage_class);
	for (i = 0; i < nmeta; i++) {
		const char *eq = strchr(meta[i], '=');
		char *k = strndup(meta[i], (size_t)(eq - meta[i])), *c;
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
	const char *ep = endpoint;
	char *conf = NULL, *scheme = NULL, *host = NULL, *port = NULL;
	char *path = NULL, *hostport;
	int virt, rc = 0;
	CURLU *u;

	if (ep == NULL && (ep = getenv("AWS_ENDPOINT_URL_S3")) && !*ep)
		ep = NULL;
	if (ep == NULL && (ep = getenv("AWS_ENDPOINT_URL")) && !*ep)
		ep = NULL;
	if (ep == NULL)
		ep = conf = conf_get(profile, "endpoint_url", NULL);
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
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		fprintf(stderr, "s3-put: bad endpoint URL: %s\n", ep);
		rc = DDB_EXIT_USAGE;
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (path) {
		size_t n = strlen(path);
		while (n > 0 && path[n - 1] == '/')
			path[--n] = '\0';
	}
	virt = addressing && strcmp(addressing, "virtual") == 0;
	hostport = port ? xasprintf("%s%s%s:%s", virt ? bucket : "",
	    virt ? "." : "", host, port) : xasprintf("%s%s%s",
	    virt ? bucket : "", virt ? "." : "", host);
	s->base = xasprintf("%s://%s", scheme, hostport);
	s->host = hostport;
	s->prefix = virt ? xstrdup(path ? path : "") :
	    xasprintf("%s/%s", path ? path : "", bucket);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	free(conf);
	return rc;
}

static char *
setting(const char *opt, const char *env1, const char *env2,
    const char *profile, const char *key)
{
	const char *v = opt;

	if (v == NULL && env1 && (v = getenv(env1)) && !*v)
		v = NULL;
	if (v == NULL && env2 && (v = getenv(env2)) && !*v)
		v = NULL;
	return v ? xstrdup(v) : conf_get(profile, key, NULL);
}

static int
run(const char *target, struct http *h, char *buf)
{
	struct body b = { stdin, "<stdin>", 0, -1, NULL, NULL, 0, 0 };
	struct result res = { 0 };
	struct creds cr = { 0 };
	struct s3 s = { 0 };
	const char *kt, *profile, *keepdir = keep_dir;
	char *bucket = NULL, *key = NULL, *ekey = NULL, *uri = NULL;
	char *region = NULL, *what = NULL, *ca = NULL, *h_obj[MAX_META + 8];
	char sha[SIGV4_SHA256_HEX] = "";
	size_t nh = 0, i;
	int needs_sha, rc = 0, pmode = 0;
	ssize_t n;

	if (strncmp(target, "s3://", 5) != 0 ||
	    (kt = strchr(target + 5, '/')) == NULL || kt == target + 5 ||
	    kt[1] == '\0')
		die_usage("not an s3://bucket/key URI: %s", target);
	bucket = strndup(target + 5, (size_t)(kt - target - 5));
	kt++;
	if (bucket == NULL)
		return DDB_EXIT_IO;
	for (i = 0; bucket[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", bucket[i]))
			die_usage("bad bucket name: %s", bucket);
	if ((key = expand_key(kt, NULL, &needs_sha)) == NULL)
		usage(stderr, DDB_EXIT_USAGE);
	free(key);
	key = NULL;

	b.bufsize = (size_t)part_size;
	if (keepdir == NULL && (keepdir = getenv("S3PUT_KEEP_DIR")) && !*keepdir)
		keepdir = NULL;
	if (body_file && strcmp(body_file, "-") != 0) {
		if ((b.in = fopen(body_file, "rb")) == NULL) {
			fprintf(stderr, "s3-put: %s: %s\n", body_file,
			    strerror(errno));
			rc = DDB_EXIT_IO;
			goto out;
		}
		b.name = body_file;
	}
	if (gzip_body) {
		FILE *z = spawn_gzip(fileno(b.in), &b.gzip);
		if (z == NULL) {
			rc = DDB_EXIT_IO;
			goto out;
		}
		if (b.in != stdin)
			fclose(b.in);
		b.in = z;
	}
	if (keepdir && open_keep(&b, keepdir) == -1) {
		rc = DDB_EXIT_IO;
		goto out;
	}

	/* {sha256} needs the whole body first: spool it to disk */
	if (needs_sha) {
		int fd = b.tee;
		if (fd >= 0) {
			b.tee = -1;
		} else {
			char tmpl[PATH_MAX];
			const char *td = getenv("TMPDIR");
			snprintf(tmpl, sizeof tmpl, "%s/s3-put.XXXXXX",
			    td && *td ? td : "/tmp");
			if ((fd = mkstemp(tmpl)) == -1) {
				fprintf(stderr, "s3-put: %s: %s\n", tmpl,
				    strerror(errno));
				rc = DDB_EXIT_IO;
				goto out;
			}
			unlink(tmpl);
		}
		if (spool(&b, fd, buf, sha) == -1) {
			rc = DDB_EXIT_IO;
			goto out;
		}
	}
	if ((key = expand_key(kt, sha, &needs_sha)) == NULL) {
		rc = DDB_EXIT_USAGE;
		goto out;
	}
	if (strlen(key) > 1024) {
		fprintf(stderr, "s3-put: key longer than 1024 bytes\n");
		rc = DDB_EXIT_USAGE;
		goto out;
	}
	uri = xasprintf("s3://%s/%s", bucket, key);
	ekey = sigv4_encode(key, strlen(key), 1);
	if (b.side && write_sidecar(&b, uri) == -1) {
		rc = DDB_EXIT_IO;
		goto out;
	}

	if ((n = body_read(&b, buf, (size_t)part_size)) < 0) {
		rc = DDB_EXIT_IO;
		goto out;
	}
	if (n == 0 && !allow_empty) {
		fprintf(stderr, "s3-put: empty body: nothing uploaded to %s\n",
		    uri);
		goto out;
	}
	if (n == part_size) {
		int c = getc(b.in);
		if (c != EOF) {
			pmode = ungetc(c, b.in) != EOF;
		} else if (ferror(b.in) || gzip_done(&b) == -1) {
			if (ferror(b.in))
				fprintf(stderr, "s3-put: %s: %s\n", b.name,
				    strerror(errno));
			rc = DDB_EXIT_IO;
			goto out;
		}
	}

	profile = profile_opt ? profile_opt : getenv("AWS_PROFILE");
	if (profile == NULL || *profile == '\0')
		profile = "default";
	region = setting(region_opt, "AWS_REGION", "AWS_DEFAULT_REGION", profile,
	    "region");
	s.region = region ? region : "us-east-1";
	ca = setting(ca_bundle, "AWS_CA_BUNDLE", NULL, profile, "ca_bundle");
	h->ca_bundle = ca;
	if ((rc = resolve_endpoint(&s, bucket, profile)) != 0)
		goto fail;
	if ((rc = creds_find(h, profile, profile_opt ? 1 :
	    getenv("AWS_PROFILE") && *getenv("AWS_PROFILE") ? 2 : 0, &cr)))
		goto fail;
	if (verbose)
		fprintf(stderr, "s3-put: credentials from %s; region %s; "
		    "endpoint %s%s\n", cr.source, s.region, s.base, s.prefix);
	s.h = h;
	s.c = &cr;

	nh = object_headers(key, h_obj);
	if (pmode) {
		rc = put_multipart(&s, &b, ekey, uri, buf, (size_t)n, h_obj, nh,
		    &res);
	} else {
		what = xasprintf("PUT %s", uri);
		rc = put_single(&s, ekey, what, buf, (size_t)n, h_obj, nh,
		    &res);
	}
fail:
	if (rc != 0) {
		/* after a usage or I/O error there is no whole body to keep */
		if (rc != DDB_EXIT_USAGE && rc != DDB_EXIT_IO)
			keep_body(&b, buf, rc);
		if (b.keep) {
			free(b.keep);
			b.keep = NULL;
		}
		goto out;
	}
	if (json_out) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "bucket",
		    json_object_new_string(bucket));
		json_object_object_add(o, "key", json_object_new_string(key));
		json_object_object_add(o, "size",
		    json_object_new_int64((int64_t)b.size));
		json_object_object_add(o, "etag",
		    json_object_new_string(res.etag ? res.etag : ""));
		if (res.version_id)
			json_object_object_add(o, "version_id",
			    json_object_new_string(res.version_id));
		puts(json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		puts(uri);
	}
out:
	if (b.keep) {
		/* uploaded, empty, or never started: the copy is not needed */
		unlink(b.keep);
		unlink(b.side);
		free(b.keep);
	}
	if (b.tee >= 0)
		close(b.tee);
	if (b.gzip > 0) {
		kill(b.gzip, SIGTERM);
		waitpid(b.gzip, NULL, 0);
	}
	if (b.in && b.in != stdin)
		fclose(b.in);
	for (i = 0; i < nh; i++)
		free(h_obj[i]);
	creds_free(&cr);
	free(b.side);
	free(s.base);
	free(s.host);
	free(s.prefix);
	free(res.etag);
	free(res.version_id);
	free(region);
	free(ca);
	free(what);
	free(uri);
	free(ekey);
	free(key);
	free(bucket);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "max-attempts", required_argument, NULL, 'a' },
		{ "addressing", required_argument, NULL, 'A' },
		{ "ca-bundle", required_argument, NULL, 'B' },
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
		{ "connect-timeout", required_argument, NULL, 'O' },
		{ "profile", required_argument, NULL, 'p' },
		{ "part-size", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'r' },
		{ "endpoint-url", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "sse", required_argument, NULL, 'X' },
		{ "content-type", required_argument, NULL, 'y' },
		{ "allow-empty", no_argument, NULL, 'Y' },
		{ "gzip", no_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 }
	};
	struct http h = { 0 };
	const char *e;
	char *buf, *end;
	int c, rc;

	h.connect_timeout = 10;
	h.stall_timeout = 60;
	h.max_attempts = 5;
	if ((e = getenv("AWS_MAX_ATTEMPTS")) && *e)
		h.max_attempts = (int)num_arg(e, 1, 100, "AWS_MAX_ATTEMPTS");
	h.backoff = 0.25;
	while ((c = getopt_long(argc, argv,
	    "a:A:B:f:g:G:hIjk:L:m:M:O:p:P:r:u:vVW:X:y:Yz", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'a': h.max_attempts = (int)num_arg(optarg, 1, 100,
		    "attempt count"); break;
		case 'A':
			if (strcmp(optarg, "path") && strcmp(optarg, "virtual"))
				die_usage("addressing is path or virtual, "
				    "not %s", optarg);
			addressing = optarg;
			break;
		case 'B': ca_bundle = optarg; break;
		case 'f': body_file = optarg; break;
		case 'g':
			errno = 0;
			h.backoff = strtod(optarg, &end);
			if (errno || end == optarg || *end || h.backoff < 0 ||
			    h.backoff > 60)
				die_usage("bad backoff: %s", optarg);
			break;
		case 'G':
			if (!header_safe(optarg))
				die_usage("bad KMS key id: %s", optarg);
			kms_key = optarg;
			break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'I': insecure = 1; break;
		case 'j': json_out = 1; break;
		case 'k': keep_dir = optarg; break;
		case 'L':
			if (!header_safe(optarg) || !*optarg)
				die_usage("bad storage class: %s", optarg);
			storage_class = optarg;
			break;
		case 'm':
			if (nmeta == MAX_META)
				die_usage("more than 32 metadata items");
			if (!meta_ok(optarg))
				die_usage("bad metadata (want key=value, "
				    "printable ASCII): %s", optarg);
			meta[nmeta++] = optarg;
			break;
		case 'M': h.max_time = num_arg(optarg, 0, 86400,
		    "maximum time"); break;
		case 'O': h.connect_timeout = num_arg(optarg, 1, 3600,
		    "connect timeout"); break;
		case 'p': profile_opt = optarg; break;
		case 'P': part_size = size_arg(optarg); break;
		case 'r': region_opt = optarg; break;
		case 'u': endpoint = optarg; break;
		case 'v': verbose = 1; break;
		case 'V': ddb_print_version(); break;
		case 'W': h.stall_timeout = num_arg(optarg, 1, 86400,
		    "timeout"); break;
		case 'X':
			if (strcmp(optarg, "AES256") && strcmp(optarg, "aws:kms"))
				die_usage("--sse is AES256 or aws:kms, not %s",
				    optarg);
			sse = optarg;
			break;
		case 'y':
			if (!header_safe(optarg))
				die_usage("bad content type: %s", optarg);
			content_type = optarg;
			break;
		case 'Y': allow_empty = 1; break;
		case 'z': gzip_body = 1; break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(stderr, DDB_EXIT_USAGE);
	if (kms_key && (sse == NULL || strcmp(sse, "aws:kms") != 0))
		die_usage("--sse-kms-key-id needs --sse aws:kms");
	h.verbose = verbose;
	h.insecure = insecure;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h.curl = curl_easy_init()) == NULL) {
		fputs("s3-put: cannot initialise libcurl\n", stderr);
		return DDB_EXIT_IO;
	}
	buf = xmalloc((size_t)part_size);
	rc = run(argv[0], &h, buf);
	free(buf);
	curl_easy_cleanup(h.curl);
	curl_global_cleanup();
	if (rc == 0)
		ddb_close_stdout();
	return rc;
}
