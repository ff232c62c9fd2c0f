/* awsjson.c: signed AWS JSON 1.0 calls to DynamoDB Streams, retried */
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "awsjson.h"
#include "sigv4.h"

static const char *const target_prefix[2] = {
	"DynamoDBStreams_20120810", "DynamoDB_20120810"
};

static int
set_endpoint(struct aj *c, int svc, const char *ep)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLU *u = curl_url();
	int rc = 0;
	size_t n;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		warnx("bad endpoint URL: %s", ep);
		rc = DDB_EXIT_USAGE;
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	c->host[svc] = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
	c->path[svc] = xstrdup(path && *path ? path : "/");
	n = strlen(c->path[svc]);
	if (n > 1 && c->path[svc][n - 1] == '/')
		c->path[svc][n - 1] = '\0';
	c->url[svc] = xasprintf("%s://%s%s", scheme, c->host[svc],
	    c->path[svc]);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int
read_creds(struct aj *c)
{
	struct creds fresh;
	int rc;

	rc = creds_find(&c->http, c->profile, c->explicit_profile, &fresh);
	if (rc != 0)
		return rc == DDB_EXIT_TEMPFAIL ? DDB_EXIT_TEMPFAIL :
		    rc == DDB_EXIT_IO ? DDB_EXIT_IO : DDB_EXIT_REFUSED;
	creds_free(&c->creds);
	c->creds = fresh;
	c->creds_at = time(NULL);
	return 0;
}

static int
renew(struct aj *c, int force)
{
	int rc = creds_renew(&c->http, &c->creds, force);

	if (rc != 0)
		return rc == DDB_EXIT_TEMPFAIL ? DDB_EXIT_TEMPFAIL :
		    rc == DDB_EXIT_IO ? DDB_EXIT_IO : DDB_EXIT_REFUSED;
	return 0;
}

int
aj_open(struct aj *c, const char *endpoint, const char *profile,
    int explicit_profile, const char *region)
{
	static const char *const envs[2] = {
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_DYNAMODB"
	};
	static const char *const names[2] = { "streams.dynamodb", "dynamodb" };
	char *conf = NULL, *def;
	const char *ep;
	int svc, rc = 0;

	c->profile = profile;
	c->explicit_profile = explicit_profile;
	if (region)
		c->region = xstrdup(region);
	else if (env("AWS_REGION"))
		c->region = xstrdup(env("AWS_REGION"));
	else if (env("AWS_DEFAULT_REGION"))
		c->region = xstrdup(env("AWS_DEFAULT_REGION"));
	else if ((c->region = conf_get(profile, "region", NULL)) == NULL)
		c->region = xstrdup("us-east-1");
	for (svc = 0; svc < 2 && rc == 0; svc++) {
		ep = endpoint;
		if (ep == NULL)
			ep = env(envs[svc]);
		if (ep == NULL)
			ep = env("AWS_ENDPOINT_URL");
		if (ep == NULL && conf == NULL)
			ep = conf = conf_get(profile, "endpoint_url", NULL);
		else if (ep == NULL)
			ep = conf;
		if (ep)
			rc = set_endpoint(c, svc, ep);
		else {
			def = xasprintf("https://%s.%s.amazonaws.com",
			    names[svc], c->region);
			rc = set_endpoint(c, svc, def);
			free(def);
		}
	}
	free(conf);
	if (rc == 0)
		rc = read_creds(c);
	if (rc == 0 && c->verbose)
		warnx("credentials from %s; region %s; streams endpoint %s",
		    c->creds.source, c->region, c->url[AJ_STREAMS]);
	return rc;
}

void
aj_close(struct aj *c)
{
	int i;

	creds_free(&c->creds);
	free(c->region);
	for (i = 0; i < 2; i++) {
		free(c->url[i]);
		free(c->host[i]);
		free(c->path[i]);
	}
}

static void
copy_str(char *dst, size_t n, const struct jv *v)
{
	size_t k;

	if (n == 0)
		return;
	dst[0] = '\0';
	if (v == NULL || v->type != JV_STRING)
		return;
	k = v->n < n - 1 ? v->n : n - 1;
	memcpy(dst, v->u.s, k);
	dst[k] = '\0';
}

static int
type_is(const char *t, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(t, *names) == 0)
			return 1;
	return 0;
}

/*
 * The JSON 1.0 classifier: what an answer of DynamoDB or its Streams
 * means.  type gets the error's short name (after the '#' of __type),
 * msg its message.  The shared request loop of aws/ takes it as its
 * parameter, as it takes S3's XML one.
 */
int
aj_classify(long status, int transport_ok, int transport_permanent,
    const char *body, size_t len, char *type, size_t typesz, char *msg,
    size_t msgsz)
{
	static const char *const temp[] = {
		"LimitExceededException", "ThrottlingException",
		"ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"TooManyRequestsException", "InternalServerError",
		"InternalFailure", "ServiceUnavailable",
		"ServiceUnavailableException", "RequestTimeout", NULL
	};
	struct ddb_arena a = { 0 };
	struct ddb_json_stack st = { 0 };
	struct jv v, *t, *m;
	size_t off;
	char *h;

	type[0] = msg[0] = '\0';
	if (!transport_ok)
		return transport_permanent ? AJ_REFUSED : AJ_TEMP;
	if (body && len > 0 && ddb_json_parse(&a, &st, body, len, 16, &v,
	    &off) == 0 && v.type == JV_OBJECT) {
		t = jv_get(&v, "__type");
		if ((m = jv_get(&v, "message")) == NULL)
			m = jv_get(&v, "Message");
		copy_str(type, typesz, t);
		copy_str(msg, msgsz, m);
	} else if (status >= 200 && status < 300) {
		/* a 200 that is no JSON object: cut off on the way */
		snprintf(type, typesz, "%s", "malformed answer");
		status = 500;
	}
	ddb_arena_free(&a);
	ddb_json_stack_free(&st);
	if ((h = strrchr(type, '#')) != NULL)
		memmove(type, h + 1, strlen(h + 1) + 1);
	if (status >= 200 && status < 300)
		return AJ_OK;
	if (strcmp(type, "ExpiredIteratorException") == 0)
		return AJ_EXPIRED_ITERATOR;
	if (strcmp(type, "TrimmedDataAccessException") == 0)
		return AJ_TRIMMED;
	if (strcmp(type, "ExpiredTokenException") == 0 ||
	    strcmp(type, "ExpiredToken") == 0)
		return AJ_RENEW;
	if (type_is(type, temp))
		return AJ_TEMP;
	if ((status >= 500 && status != 501) || status == 429 || status == 408)
		return AJ_TEMP;
	return AJ_REFUSED;
}

static int
transport_permanent(CURLcode cc)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_LOGIN_DENIED:
		return 1;
	default:
		return 0;
	}
}

static struct curl_slist *
add(struct curl_slist *l, const char *name, const char *value)
{
	char *s = xasprintf("%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(l, s);

	memset(s, 0, strlen(s));
	free(s);
	if (n == NULL)
		errx(DDB_EXIT_IO, "out of memory");
	return n;
}

/* one signed exchange */
static void
send_once(struct aj *c, int svc, const char *target, const char *body,
    size_t n, struct resp *r)
{
	struct sigv4_key k = { c->creds.akid, c->creds.secret, c->region,
	    "dynamodb" };
	struct sigv4_header hs[6];
	struct sigv4_request q;
	struct curl_slist *l = NULL;
	struct hreq hr = { 0 };
	char date[17], sha[SIGV4_SHA256_HEX], *auth;
	time_t now = time(NULL);
	struct tm tm;
	size_t nh = 0, i;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	sigv4_sha256_hex(body, n, sha);
	hs[nh++] = (struct sigv4_header){ "host", c->host[svc] };
	hs[nh++] = (struct sigv4_header){ "x-amz-date", date };
	hs[nh++] = (struct sigv4_header){ "x-amz-target", target };
	hs[nh++] = (struct sigv4_header){ "content-type",
	    "application/x-amz-json-1.0" };
	if (c->creds.token)
		hs[nh++] = (struct sigv4_header){ "x-amz-security-token",
		    c->creds.token };
	q.method = "POST";
	q.uri = c->path[svc];
	q.query = "";
	q.headers = hs;
	q.nheaders = nh;
	q.payload_hash = sha;
	auth = sigv4_authorization(&q, &k, date);
	for (i = 0; i < nh; i++)
		l = add(l, hs[i].name, hs[i].value);
	l = add(l, "Authorization", auth);
	l = curl_slist_append(l, "Expect:");
	memset(auth, 0, strlen(auth));
	free(auth);
	hr.method = "POST";
	hr.url = c->url[svc];
	hr.headers = l;
	hr.body = body;
	hr.len = n;
	http_do(&c->http, &hr, r);
	curl_slist_free_all(l);
	c->calls++;
}

int
aj_call(struct aj *c, int svc, const char *op, const char *body, size_t n,
    struct ddb_arena *a, struct jv *out)
{
	char target[96], type[128], msg[256], why[512];
	struct ddb_json_stack st = { 0 };
	struct resp r = { 0 };
	int attempt, kind = AJ_TEMP, renewed = 0, rc;
	size_t off;

	snprintf(target, sizeof target, "%s.%s", target_prefix[svc], op);
	for (attempt = 1; attempt <= c->http.max_attempts; attempt++) {
		/* credentials that expire: renewed shortly before */
		if ((rc = renew(c, 0)) != 0)
			goto fail_rc;
		send_once(c, svc, target, body, n, &r);
		kind = aj_classify(r.status, r.cc == CURLE_OK,
		    transport_permanent(r.cc), r.body, r.len, type,
		    sizeof type, msg, sizeof msg);
		if (r.cc != CURLE_OK)
			snprintf(why, sizeof why, "%s", r.err);
		else
			snprintf(why, sizeof why, "HTTP %ld%s%s%s%s", r.status,
			    *type ? " " : "", type, *msg ? ": " : "", msg);
		if (kind == AJ_RENEW && !renewed) {
			renewed = 1;
			if ((rc = renew(c, 1)) != 0)
				goto fail_rc;
			attempt--;
			continue;
		}
		if (kind != AJ_TEMP || attempt == c->http.max_attempts)
			break;
		aws_backoff(&c->http, attempt, c->verbose, op, why);
	}
	switch (kind) {
	case AJ_OK:
		if ((rc = ddb_json_parse(a, &st, r.body, r.len, DDB_READ_DEPTH,
		    out, &off)) != 0 || out->type != JV_OBJECT) {
			warnx("%s: the answer is no JSON object (%s at byte "
			    "%zu)", op, rc ? ddb_json_strerror(rc) :
			    "not an object", rc ? off : 0);
			rc = DDB_EXIT_TEMPFAIL;
			break;
		}
		rc = AJ_OK;
		break;
	case AJ_EXPIRED_ITERATOR:
	case AJ_TRIMMED:
		rc = kind;
		break;
	case AJ_TEMP:
		warnx("%s: %s (after %d attempts)", op, why,
		    c->http.max_attempts);
		rc = DDB_EXIT_TEMPFAIL;
		break;
	default:
		warnx("%s: %s", op, why);
		rc = DDB_EXIT_REFUSED;
		break;
	}
	ddb_json_stack_free(&st);
	resp_free(&r);
	return rc;
fail_rc:
	resp_free(&r);
	return rc;
}
