#!/usr/bin/env bats
# s3-put against a real S3 store (OpenStack Swift + s3api, started by
# setup_suite.bash), objects read back with /usr/bin/aws, byte for byte.

bats_require_minimum_version 1.5.0
load lib/tool
load lib/s3

F="$BATS_TEST_DIRNAME/fixtures/s3-put"

setup_file() {
	B=$(s3_bucket s3put)
	s3_mb "$B"
	export B
}

setup() {
	export AWS_ENDPOINT_URL_S3="$S3_ENDPOINT"
	T="$BATS_TEST_TMPDIR"
	KEEP="$T/keep"
	mkdir -p "$KEEP"
}

teardown() {
	fault_proxy_stop
	imds_stop
}

# same KEY FILE: the object KEY of bucket $B holds exactly FILE's bytes
same() {
	rm -f "$T/got"
	s3_get "$B" "$1" "$T/got"
	cmp "$2" "$T/got"
}

# kept BODY URI: exactly one kept body in $KEEP, equal to BODY, its sidecar
# naming URI with BODY's size and SHA-256; both 0600; no temp file left
kept() {
	local files
	files=$(ls "$KEEP" | grep -v '\.uri$')
	[ "$(printf '%s\n' "$files" | wc -l)" -eq 1 ]
	cmp "$1" "$KEEP/$files"
	printf '%s\nsize %s\nsha256 %s\n' "$2" "$(stat -c %s "$1")" \
		"$(sha256sum <"$1" | cut -c1-64)" | cmp - "$KEEP/$files.uri"
	[ "$(stat -c %a "$KEEP/$files")" = 600 ]
	[ "$(stat -c %a "$KEEP/$files.uri")" = 600 ]
	[ -z "$(ls -A "$KEEP" | grep '^\.')" ]
}

# kept_body: the path of the one kept body in $KEEP
kept_body() {
	printf '%s/%s\n' "$KEEP" "$(ls "$KEEP" | grep -v '\.uri$')"
}

# put_unreachable BODY URI [ARGS...]: s3-put ARGS of the file BODY to URI
# with the store out of reach, one attempt, -k $KEEP: temporary (75), the
# body kept, its path in $KEPT
put_unreachable() {
	local body=$1 uri=$2
	shift 2
	run --separate-stderr s3-put -a 1 "$@" -k "$KEEP" -u http://127.0.0.1:9 \
		"$uri" <"$body"
	[ "$status" -eq 75 ]
	KEPT=$(kept_body)
}

sigv4_test() {
	"$(dirname "$(command -v s3-put)")/../tests/sigv4-test" "$@"
}

xml_test() {
	"$(dirname "$(command -v s3-put)")/../tests/xml-test" "$@"
}

# --- the signer ----------------------------------------------------------

@test "s3-put: S3's and STS's XML answers are read as they are written (entities, namespaces, white space, CDATA)" {
	# swift-*: answers of the test store, captured with aws --debug;
	# doc-*: answers in the shapes of S3's and STS's API reference
	# (a 200 Complete that is an error after white space, prefixed
	# namespaces, &quot; around an ETag, &amp; in a key, CDATA); a DTD
	# or a truncated answer is no XML
	local f
	for f in "$F"/xml/*.xml; do
		run xml_test "$f" root Code Message Key ETag UploadId Upload/Key \
			Upload/UploadId IsTruncated NextKeyMarker Credentials/SessionToken \
			Credentials/SecretAccessKey Credentials/AccessKeyId Expiration
		diff -u "${f%.xml}.exp" - <<<"$output"
	done
}

@test "s3-put: the SigV4 signer gives AWS's published signatures" {
	run sigv4_test <"$F/sigv4-vectors.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$F/sigv4-vectors.out")" ]
}

@test "s3-put: the signer's test notices a wrong signature" {
	sed 's/Signature=5fa00fa3/Signature=5fa00fa4/' "$F/sigv4-vectors.txt" >"$T/v"
	run sigv4_test <"$T/v"
	[ "$status" -eq 1 ]
	[[ "$output" == *"FAIL get-vanilla"*"Signature=5fa00fa31553b73e"* ]]
}

# --- command line --------------------------------------------------------

@test "s3-put: --help prints usage and exits 0" {
	run --separate-stderr s3-put --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: s3-put "* ]]
	[ -z "$stderr" ]
}

@test "s3-put: --version" {
	run s3-put --version
	[ "$status" -eq 0 ]
	[[ "$output" == "s3-put "[0-9]* ]]
}

@test "s3-put: --help and --version to a full disk fail with a write error" {
	full_disk s3-put --help
	full_disk s3-put --version
}

@test "s3-put: a bad option is a usage error (2)" {
	run --separate-stderr s3-put --no-such-option s3://b/k
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"usage: s3-put"* ]]
}

@test "s3-put: short options are the suite's letters; the old ones are gone" {
	run --separate-stderr s3-put --help
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$F/usage.txt")" ]
	for o in -b -c -C -e -E -l -s -S -t; do
		run --separate-stderr s3-put "$o" x "s3://$B/k" </dev/null
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"s3-put: invalid option -- '${o#-}'"$'\n'"usage: s3-put "* ]]
	done
}

@test "s3-put: a target that is not s3://bucket/key is a usage error" {
	run --separate-stderr s3-put "$B/key"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: not an s3://bucket/key URI: $B/key"* ]]
	run --separate-stderr s3-put "s3://$B/"
	[ "$status" -eq 2 ]
}

@test "s3-put: an unknown key placeholder is a usage error" {
	run --separate-stderr s3-put "s3://$B/x/{hostname}.csv" </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: unknown key placeholder: {hostname}"* ]]
}

@test "s3-put: a key with a control character is a usage error (it could forge a sidecar line)" {
	run --separate-stderr s3-put "s3://$B/a"$'\n'"size 1" <<<x
	[ "$status" -eq 2 ]
	[ "$stderr" = "s3-put: key holds a control character" ]
}

@test "s3-put: empty header values are usage errors, not unsigned headers (2)" {
	while IFS='|' read -r opt val msg; do
		run --separate-stderr s3-put "$opt" "$val" "s3://$B/empty/h.txt" <<<x
		[ "$status" -eq 2 ]
		[[ "$stderr" == "s3-put: $msg"$'\n'"usage: s3-put "* ]]
	done <<-'EOF'
	-m|k=|--metadata k has an empty value
	--metadata|Owner=  |--metadata Owner has an empty value
	-y||--content-type is empty
	--content-type| |--content-type is empty
	-X||--sse is empty
	-G||--sse-kms-key-id is empty
	-L||--storage-class is empty
	--storage-class|	|--storage-class is empty
	EOF
	[ -z "$(s3_ls "$B" empty/h.txt)" ]
}

@test "s3-put: a part size under 5 MiB is a usage error" {
	run --separate-stderr s3-put -P 1M "s3://$B/k" </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: part size 1M is not between 5M and 5G"* ]]
}

@test "s3-put: a missing --file is a local I/O error (3)" {
	run --separate-stderr s3-put -f "$T/nope" "s3://$B/k"
	[ "$status" -eq 3 ]
	[ "$stderr" = "s3-put: $T/nope: No such file or directory" ]
}

@test "s3-put: a keep dir that cannot be written is a local I/O error (3)" {
	run --separate-stderr s3-put -k "$T/nonexistent" "s3://$B/io/k.txt" <<<"x"
	[ "$status" -eq 3 ]
	[ "$stderr" = "s3-put: $T/nonexistent: No such file or directory" ]
}

@test "s3-put: a body that cannot be read is a local I/O error (3), nothing uploaded" {
	run --separate-stderr s3-put -k "$KEEP" -f "$T" "s3://$B/io/dir.txt"
	[ "$status" -eq 3 ]
	[ "$stderr" = "s3-put: $T: Is a directory" ]
	[ -z "$(ls "$KEEP")" ]
	run s3_ls "$B" io/
	[ -z "$output" ]
}

@test "s3-put: a body that cannot be read with -z is a local I/O error (3), nothing uploaded" {
	run --separate-stderr s3-put -z -f "$T" "s3://$B/io/gz.txt"
	[ "$status" -eq 3 ]
	[ "$stderr" = "s3-put: $T: Is a directory" ]
	run s3_ls "$B" io/
	[ -z "$output" ]
}

# --- round trips ---------------------------------------------------------

@test "s3-put: a small CSV goes up byte for byte, as text/csv" {
	run --separate-stderr s3-put "s3://$B/staging/student/small.csv" \
		<"$BATS_TEST_DIRNAME/fixtures/seed-sample.csv"
	[ "$status" -eq 0 ]
	[ "$output" = "s3://$B/staging/student/small.csv" ]
	[ -z "$stderr" ]
	same staging/student/small.csv "$BATS_TEST_DIRNAME/fixtures/seed-sample.csv"
	s3_head "$B" staging/student/small.csv | jq -e '.ContentType == "text/csv"'
}

@test "s3-put: --file, --json, content type and metadata" {
	printf 'x\001y\n' >"$T/body"
	run --separate-stderr s3-put -j -f "$T/body" -y application/x-thing \
		-m Owner=etl -m batch-id=42 "s3://$B/json/body.bin"
	[ "$status" -eq 0 ]
	[ "$output" = '{"bucket":"'"$B"'","key":"json/body.bin","size":4,"etag":"'"$(md5sum <"$T/body" | cut -c1-32)"'"}' ]
	same json/body.bin "$T/body"
	s3_head "$B" json/body.bin >"$T/head"
	jq -e '.ContentType == "application/x-thing" and
		.Metadata == {"owner":"etl","batch-id":"42"}' "$T/head"
}

@test "s3-put: an empty body uploads nothing and says so" {
	run --separate-stderr s3-put "s3://$B/empty/a.csv" </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = "s3-put: empty body: nothing uploaded to s3://$B/empty/a.csv" ]
	run s3_ls "$B" empty/
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "s3-put: --allow-empty uploads an empty object" {
	run --separate-stderr s3-put --allow-empty "s3://$B/empty/b.csv" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "s3://$B/empty/b.csv" ]
	s3_head "$B" empty/b.csv | jq -e '.ContentLength == 0'
}

@test "s3-put: 30 MB from a pipe goes up in 5 MiB parts, intact" {
	head -c 31457280 /dev/urandom >"$T/big"
	run --separate-stderr sh -c 'cat "$1" | s3-put -j -P 5M "$2"' sh \
		"$T/big" "s3://$B/big/30m.bin"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.size == 31457280 and (.etag | endswith("-6"))'
	same big/30m.bin "$T/big"
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: the default part size is 8 MiB" {
	head -c 20000000 /dev/urandom >"$T/big"
	run --separate-stderr s3-put -j "s3://$B/big/20m.bin" <"$T/big"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.size == 20000000 and (.etag | endswith("-3"))'
	same big/20m.bin "$T/big"
}

@test "s3-put: memory does not grow with the body (6 MB vs 60 MB, 5 MiB parts)" {
	head -c 6000000 /dev/zero | /usr/bin/time -f %M -o "$T/rss6" \
		s3-put -P 5M "s3://$B/rss/6.bin" >/dev/null
	head -c 60000000 /dev/zero | /usr/bin/time -f %M -o "$T/rss60" \
		s3-put -P 5M "s3://$B/rss/60.bin" >/dev/null
	echo "max RSS: $(cat "$T/rss6") KB, $(cat "$T/rss60") KB"
	[ $(( $(tail -1 "$T/rss60") - $(tail -1 "$T/rss6") )) -lt 4096 ]
	s3_head "$B" rss/60.bin | jq -e '.ContentLength == 60000000'
}

@test "s3-put: keys with spaces, +, :, =, unicode and more are encoded right" {
	local k
	mkdir "$T/up"
	while IFS= read -r k; do
		mkdir -p "$T/up/$(dirname "$k")"
		printf '%s\n' "$k" >"$T/up/$k"
		run --separate-stderr s3-put "s3://$B/$k" <"$T/up/$k"
		[ "$status" -eq 0 ]
		[ "$output" = "s3://$B/$k" ]
	done <"$F/keys.txt"
	s3_ls "$B" keys/ >"$T/ls"
	diff -u <(LC_ALL=C sort "$F/keys.txt") "$T/ls"
	s3_aws s3 cp --quiet --recursive "s3://$B/keys/" "$T/down/keys/"
	diff -r "$T/up" "$T/down"
}

@test "s3-put: key placeholders {upload_date} {upload_timestamp} {uuid} {sha256}" {
	printf 'a,b\n1,2\n' >"$T/b"
	run --separate-stderr s3-put "s3://$B/ph/{upload_date}/{upload_timestamp}_{uuid}_{sha256}.csv" <"$T/b"
	[ "$status" -eq 0 ]
	local re='^s3://'"$B"'/ph/[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9]{8}T[0-9]{6}\.[0-9]{6}Z_'
	re+='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_'
	re+="$(sha256sum <"$T/b" | cut -c1-64)"'\.csv$'
	[[ "$output" =~ $re ]]
	[[ "$output" == "s3://$B/ph/$(date -u +%Y-%m-%d)/"* ]]
	same "${output#s3://$B/}" "$T/b"
}

@test "s3-put: {date} and {timestamp} are the records' time (ddb-to-s3's keys): refused (2), naming the upload's" {
	run --separate-stderr s3-put -k "$KEEP" "s3://$B/ph/dt={date}/x.csv" <<<"a"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: {date} is the records' time in ddb-to-s3's keys; s3-put knows only the upload's: {upload_date}"$'\n'"usage: s3-put "* ]]
	run --separate-stderr s3-put "s3://$B/ph/{timestamp}.csv" <<<"a"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: {timestamp} is the records' time in ddb-to-s3's keys; s3-put knows only the upload's: {upload_timestamp}"$'\n'* ]]
	[ -z "$(s3_ls "$B" ph/dt=)" ]
	[ -z "$(ls -A "$KEEP")" ]
}

@test "s3-put: {sha256} keys make a retried batch land on the same object" {
	printf 'same batch\n' >"$T/b"
	run s3-put "s3://$B/idem/{sha256}.csv" <"$T/b"
	[ "$status" -eq 0 ]
	local first=$output
	run s3-put "s3://$B/idem/{sha256}.csv" <"$T/b"
	[ "$output" = "$first" ]
	[ "$(s3_ls "$B" idem/ | wc -l)" -eq 1 ]
}

@test "s3-put: -z stores a gzip file (.gz key, application/gzip) as ddb-to-s3 -z does; --gzip=encoding the same key with Content-Encoding: gzip" {
	seq 1 5000 >"$T/b"
	run --separate-stderr s3-put -z "s3://$B/gz/seq.csv" <"$T/b"
	[ "$status" -eq 0 ]
	[ "$output" = "s3://$B/gz/seq.csv.gz" ]
	s3_get "$B" gz/seq.csv.gz "$T/got.gz"
	gzip -dc "$T/got.gz" | cmp - "$T/b"
	# compressed in process (zlib), gzip -n's bytes for this body
	cmp "$T/got.gz" <(gzip -n -c <"$T/b")
	s3_head "$B" gz/seq.csv.gz | jq -e '.ContentEncoding == null and .ContentType == "application/gzip"'
	# a key that ends in .gz keeps it
	run --separate-stderr s3-put --gzip=file "s3://$B/gz/b.csv.gz" <"$T/b"
	[ "$output" = "s3://$B/gz/b.csv.gz" ]
	run --separate-stderr s3-put --gzip=encoding "s3://$B/gz/seq.csv" <"$T/b"
	[ "$status" -eq 0 ]
	[ "$output" = "s3://$B/gz/seq.csv" ]
	s3_get "$B" gz/seq.csv "$T/got2.gz"
	cmp "$T/got2.gz" "$T/got.gz"
	s3_head "$B" gz/seq.csv | jq -e '.ContentEncoding == "gzip" and .ContentType == "text/csv"'
	run --separate-stderr s3-put --gzip=zip "s3://$B/gz/x.csv" <"$T/b"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: --gzip is file or encoding, not zip"$'\n'"usage: "* ]]
}

@test "s3-put: addressing: virtual-hosted on AWS, path-style for dotted buckets, endpoints and -A" {
	# a dead proxy keeps these requests off the network
	export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
	unset AWS_ENDPOINT_URL_S3
	run --separate-stderr s3-put -v -a 1 -r eu-west-1 s3://my-bucket/a/k.csv <<<x
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"> PUT https://my-bucket.s3.eu-west-1.amazonaws.com/a/k.csv"$'\n'"s3-put: > host: my-bucket.s3.eu-west-1.amazonaws.com"$'\n'* ]]
	run --separate-stderr s3-put -v -a 1 -r eu-west-1 s3://my.bucket/k.csv <<<x
	[[ "$stderr" == *"> PUT https://s3.eu-west-1.amazonaws.com/my.bucket/k.csv"$'\n'* ]]
	run --separate-stderr s3-put -v -a 1 -A path s3://my-bucket/k.csv <<<x
	[[ "$stderr" == *"> PUT https://s3.us-east-1.amazonaws.com/my-bucket/k.csv"$'\n'* ]]
	AWS_ENDPOINT_URL=http://minio.example:9000/base/ run --separate-stderr \
		s3-put -v -a 1 s3://my-bucket/k.csv <<<x
	[[ "$stderr" == *"> PUT http://minio.example:9000/base/my-bucket/k.csv"$'\n'"s3-put: > host: minio.example:9000"$'\n'* ]]
	run --separate-stderr s3-put -v -a 1 -A virtual -u https://r2.example s3://my-bucket/k.csv <<<x
	[[ "$stderr" == *"> PUT https://my-bucket.r2.example/k.csv"$'\n'* ]]
}

@test "s3-put: an endpoint that is not http(s) is a usage error" {
	run --separate-stderr s3-put -u ftp://127.0.0.1/ "s3://$B/k" <<<x
	[ "$status" -eq 2 ]
	[ "$stderr" = "s3-put: bad endpoint URL: ftp://127.0.0.1/" ]
}

@test "s3-put: --sse is sent; Swift's 501 NotImplemented is permanent, not retried" {
	fault_proxy_start pass
	run --separate-stderr s3-put -v -X aws:kms -G alias/etl -u "$FAULT_URL" \
		"s3://$B/sse/k.txt" <<<"x"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"s3-put: PUT s3://$B/sse/k.txt: HTTP 501 NotImplemented"* ]]
	[[ "$stderr" != *retry* ]]
	[ "$(fault_proxy_count)" -eq 1 ]
	grep -qi '^x-amz-server-side-encryption: aws:kms' "$FAULT_DIR/heads"
	grep -qi '^x-amz-server-side-encryption-aws-kms-key-id: alias/etl' "$FAULT_DIR/heads"
}

@test "s3-put: --storage-class is sent and signed" {
	fault_proxy_start pass
	run --separate-stderr s3-put -L STANDARD -u "$FAULT_URL" "s3://$B/sc/k.txt" <<<"x"
	[ "$status" -eq 0 ]
	grep -qi '^x-amz-storage-class: STANDARD' "$FAULT_DIR/heads"
	grep -qi '^authorization: .*;x-amz-storage-class[;,]' "$FAULT_DIR/heads"
}

@test "s3-put: --sse-kms-key-id without --sse aws:kms is a usage error" {
	run --separate-stderr s3-put -G k "s3://$B/k" <<<"x"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: --sse-kms-key-id needs --sse aws:kms"* ]]
}

# --- credentials ---------------------------------------------------------

@test "s3-put: session-token credentials are signed and accepted" {
	fault_proxy_start pass
	printf 'tok\n' >"$T/b"
	AWS_SESSION_TOKEN=FQoGZXIvYXdzEXAMPLETOKEN run --separate-stderr \
		s3-put -v -u "$FAULT_URL" "s3://$B/cred/token.txt" <"$T/b"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"x-amz-security-token: [redacted]"* ]]
	[[ "$stderr" != *FQoGZXIvYXdzEXAMPLETOKEN* ]]
	# Swift ignores the token's value: check that it was sent and signed
	grep -qi '^x-amz-security-token: FQoGZXIvYXdzEXAMPLETOKEN' "$FAULT_DIR/heads"
	grep -qi '^authorization: .*SignedHeaders=[a-z0-9;-]*;x-amz-security-token[;,]' "$FAULT_DIR/heads"
	same cred/token.txt "$T/b"
}

@test "s3-put: every PUT carries Content-MD5 and the payload's SHA-256, signed" {
	fault_proxy_start pass
	printf 'a,b\n1,2\n' >"$T/b"
	run s3-put -u "$FAULT_URL" "s3://$B/cred/digests.csv" <"$T/b"
	[ "$status" -eq 0 ]
	grep -qi "^content-md5: $(openssl md5 -binary <"$T/b" | base64)" "$FAULT_DIR/heads"
	grep -qi "^x-amz-content-sha256: $(sha256sum <"$T/b" | cut -c1-64)" "$FAULT_DIR/heads"
	grep -qi '^authorization: .*SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;x-amz-date,' "$FAULT_DIR/heads"
}

@test "s3-put: credentials from the container endpoint (Lambda, ECS)" {
	imds_start -a 'Bearer tok-123' -T container-session-token
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_CONTAINER_CREDENTIALS_FULL_URI="$IMDS_URL/v2/credentials/test" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN='Bearer tok-123' \
		s3-put -v "s3://$B/cred/container.txt" <<<"container"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from container credentials"* ]]
	[[ "$stderr" != *testing* && "$stderr" != *tok-123* && "$stderr" != *container-session-token* ]]
	same cred/container.txt <(echo container)
}

# creds_answer BODY: s3-put with container credentials that answer BODY
creds_answer() {
	imds_stop
	imds_start -a '' -j "$1"
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_CONTAINER_CREDENTIALS_FULL_URI="$IMDS_URL/v2/credentials/test" \
		s3-put "s3://$B/cred/badjson.txt" <<<"x"
}

@test "s3-put: a credentials answer that is not JSON, or holds no keys, is refused (4) and says why" {
	creds_answer '{"AccessKeyId": "AKID", "SecretAccessKey": "s3cr3t",'
	[ "$status" -eq 4 ]
	[ "${stderr%%$'\n'*}" = "s3-put: container credentials: invalid JSON: unexpected end of data at byte 52 of the answer" ]
	# json-c would take the last of two keys; the suite's parser refuses
	creds_answer '{"AccessKeyId": "A", "AccessKeyId": "B", "SecretAccessKey": "s"}'
	[ "$status" -eq 4 ]
	[[ "${stderr%%$'\n'*}" == "s3-put: container credentials: an object has a duplicate key at byte "*" of the answer" ]]
	creds_answer '{"AccessKeyId": "AKID"}'
	[ "$status" -eq 4 ]
	[ "${stderr%%$'\n'*}" = "s3-put: container credentials: no credentials in the answer" ]
}

@test "s3-put: the container authorization token can come from a file" {
	imds_start -a 'tok-file-456'
	printf 'tok-file-456\n' >"$T/token"
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_CONTAINER_CREDENTIALS_FULL_URI="$IMDS_URL/v2/credentials/test" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/token" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
		s3-put "s3://$B/cred/container2.txt" <<<"container2"
	[ "$status" -eq 0 ]
	same cred/container2.txt <(echo container2)
}

@test "s3-put: a container endpoint refusing the token is a permanent failure" {
	imds_start -a 'right'
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_CONTAINER_CREDENTIALS_FULL_URI="$IMDS_URL/v2/credentials/test" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
		s3-put "s3://$B/cred/container3.txt" <<<"x"
	[ "$status" -eq 4 ]
	[ "$stderr" = "s3-put: container credentials: HTTP 401"$'\n'"s3-put: the body was not kept (no --keep-dir)" ]
}

@test "s3-put: container credentials over plain http only to loopback" {
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/creds \
		s3-put "s3://$B/cred/x.txt" <<<"x"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "s3-put: http://example.com/creds: container credentials need https"* ]]
}

@test "s3-put: credentials from EC2 instance metadata (IMDSv2)" {
	imds_start -T imds-session-token
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		-u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS_URL/" \
		s3-put -v "s3://$B/cred/imds.txt" <<<"imds"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from EC2 instance metadata"* ]]
	[[ "$stderr" == *"X-aws-ec2-metadata-token: [redacted]"* ]]
	[[ "$stderr" != *testing* && "$stderr" != *imds-session-token* ]]
	grep -q '^PUT /latest/api/token 200' "$IMDS_DIR/log"
	same cred/imds.txt <(echo imds)
}

@test "s3-put: credentials and region from a profile (--profile, AWS_PROFILE)" {
	printf '[etl]\naws_access_key_id = test:tester\naws_secret_access_key = testing\n' \
		>"$T/credentials"
	printf '[profile etl]\nregion = us-east-1\n' >"$T/config"
	printf 'p\n' >"$T/b"
	run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_CONFIG_FILE="$T/config" \
		s3-put --profile etl "s3://$B/cred/profile.txt" <"$T/b"
	[ "$status" -eq 0 ]
	same cred/profile.txt "$T/b"
	run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=etl \
		AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_CONFIG_FILE="$T/config" \
		s3-put "s3://$B/cred/profile2.txt" <"$T/b"
	[ "$status" -eq 0 ]
	same cred/profile2.txt "$T/b"
}

@test "s3-put: an unknown profile is refused (4), the body kept" {
	printf 'p\n' >"$T/b"
	run --separate-stderr s3-put -k "$KEEP" --profile nosuch "s3://$B/cred/x.txt" <"$T/b"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "s3-put: profile nosuch not found"* ]]
	kept "$T/b" "s3://$B/cred/x.txt"
}

@test "s3-put: no credentials anywhere is a permanent failure (4)" {
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		s3-put "s3://$B/cred/none.txt" <<<"x"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "s3-put: no credentials found"* ]]
}

@test "s3-put: no credentials, and a 403 on the metadata address: where they were looked for (4)" {
	imds_start -e 403
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		-u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS_URL" \
		AWS_SHARED_CREDENTIALS_FILE="$T/nocreds" AWS_CONFIG_FILE="$T/noconfig" \
		s3-put "s3://$B/cred/none.txt" <<<"x"
	[ "$status" -eq 4 ]
	[ "$stderr" = "s3-put: no credentials found: looked in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), profile default ($T/nocreds, $T/noconfig), container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI unset), EC2 instance metadata (PUT $IMDS_URL/latest/api/token: HTTP 403)"$'\n'"s3-put: the body was not kept (no --keep-dir)" ]
	# with -p, the environment is not looked in
	printf '[default]\nregion = us-east-1\n' >"$T/config"
	run --separate-stderr env -u AWS_EC2_METADATA_DISABLED \
		AWS_SHARED_CREDENTIALS_FILE="$T/nocreds" AWS_CONFIG_FILE="$T/config" \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS_URL" s3-put -p default "s3://$B/cred/none.txt" <<<"x"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "s3-put: no credentials found: looked in profile default ($T/nocreds, "* ]]
}

@test "s3-put: --verbose shows requests but never the secret" {
	run --separate-stderr s3-put -v "s3://$B/verbose/v.txt" <<<"v"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"> PUT $S3_ENDPOINT/$B/verbose/v.txt"* ]]
	[[ "$stderr" == *"Authorization: [redacted]"* ]]
	[[ "$stderr" == *"< HTTP/1.1 200 OK"* ]]
	[[ "$stderr" != *testing* ]]
	[[ "$stderr" != *Signature=* ]]
}

# --- refusals: permanent, exit 4, body kept ------------------------------

@test "s3-put: a wrong secret is refused (4), not retried, body kept" {
	printf 'secret\n' >"$T/b"
	AWS_SECRET_ACCESS_KEY=wrong run --separate-stderr s3-put -v -k "$KEEP" \
		"s3://$B/refuse/secret.txt" <"$T/b"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"s3-put: PUT s3://$B/refuse/secret.txt: HTTP 403 SignatureDoesNotMatch"* ]]
	[[ "$stderr" != *retry* ]]
	[[ "$stderr" == *"s3-put: body kept in $KEEP/s3-put."* ]]
	kept "$T/b" "s3://$B/refuse/secret.txt"
	run s3_ls "$B" refuse/
	[ -z "$output" ]
}

@test "s3-put: an unknown bucket is refused (4)" {
	run --separate-stderr s3-put "s3://$B-nosuch/k.txt" <<<"x"
	[ "$status" -eq 4 ]
	[ "${stderr%%$'\n'*}" = "s3-put: PUT s3://$B-nosuch/k.txt: HTTP 404 NoSuchBucket: The specified bucket does not exist." ]
	[[ "$stderr" == *"the body was not kept (no --keep-dir)"* ]]
}

@test "s3-put: a body corrupted after hashing is rejected (BadDigest, 4), kept intact" {
	printf 'a,b\n1,2\n' >"$T/b"
	fault_proxy_start flip
	run --separate-stderr s3-put -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/refuse/corrupt.csv" <"$T/b"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"HTTP 400 BadDigest"* ]]
	kept "$T/b" "s3://$B/refuse/corrupt.csv"
	run s3_ls "$B" refuse/
	[ -z "$output" ]
}

@test "s3-put: a corrupted part fails the multipart upload, which is aborted" {
	head -c 12000000 /dev/urandom >"$T/big"
	# list unfinished uploads, create one, then part 1 corrupted
	fault_proxy_start pass,pass,flip
	run --separate-stderr s3-put -P 5M -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/refuse/corrupt.bin" <"$T/big"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"(part 1): HTTP 400 BadDigest"* ]]
	kept "$T/big" "s3://$B/refuse/corrupt.bin"
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: S3PUT_KEEP_DIR works like --keep-dir; -R uploads the kept body later" {
	printf 'later\n' >"$T/b"
	S3PUT_KEEP_DIR="$KEEP" AWS_SECRET_ACCESS_KEY=wrong run s3-put \
		"s3://$B/later/b.txt" <"$T/b"
	[ "$status" -eq 4 ]
	kept "$T/b" "s3://$B/later/b.txt"
	local f
	f=$(kept_body)
	run --separate-stderr s3-put -R "$f.uri"
	[ "$status" -eq 0 ]
	[ "$output" = "s3://$B/later/b.txt" ]
	[ -z "$stderr" ]
	same later/b.txt "$T/b"
	[ -z "$(ls -A "$KEEP")" ]
}

# --- kept bodies: complete and verified, or none ------------------------

@test "s3-put: a failed upload from a pipe keeps the whole body, its size and SHA-256 in the sidecar" {
	fault_proxy_start 'pass,pass,pass,500,pass'
	head -c 13000000 /dev/urandom >"$T/big"
	run --separate-stderr sh -c 'cat "$1" | s3-put -a 1 -P 5M -k "$2" -u "$3" "$4"' \
		sh "$T/big" "$KEEP" "$FAULT_URL" "s3://$B/keep/pipe.bin"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"(part "?"): HTTP 500 InternalError"* ]]
	[[ "$stderr" == *"s3-put: body kept in $KEEP/s3-put."*" (URI in $KEEP/s3-put."*".uri)" ]]
	kept "$T/big" "s3://$B/keep/pipe.bin"
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: -R uploads a kept multipart body byte for byte and removes it" {
	head -c 12000000 /dev/urandom >"$T/big"
	put_unreachable "$T/big" "s3://$B/keep/mp.bin" -P 5M
	kept "$T/big" "s3://$B/keep/mp.bin"
	run --separate-stderr s3-put -j -P 5M -R "$KEPT.uri"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.key == "keep/mp.bin" and .size == 12000000 and (.etag | endswith("-3"))'
	same keep/mp.bin "$T/big"
	[ -z "$(ls -A "$KEEP")" ]
}

@test "s3-put: -R of a kept body that changed is refused (1), nothing uploaded, both left" {
	printf 'a,b\n1,2\n' >"$T/b"
	put_unreachable "$T/b" "s3://$B/keep/t.csv"
	cp "$KEPT.uri" "$T/side"
	printf 'a,b\n1,3\n' >"$KEPT"
	run --separate-stderr s3-put -R "$KEPT.uri"
	[ "$status" -eq 1 ]
	[ "$stderr" = "s3-put: $KEPT: SHA-256 differs from its sidecar's: not uploaded" ]
	printf 'a,b\n1,2' >"$KEPT"
	run --separate-stderr s3-put -R "$KEPT.uri"
	[ "$status" -eq 1 ]
	[ "$stderr" = "s3-put: $KEPT: 7 bytes, its sidecar says 8: not uploaded" ]
	cmp "$T/side" "$KEPT.uri"
	printf 'x\n' >"$T/x.uri"
	run --separate-stderr s3-put -R "$T/x.uri"
	[ "$status" -eq 1 ]
	[ "$stderr" = "s3-put: $T/x.uri: not a sidecar of a kept body (s3://bucket/key, size N, sha256 HEX)" ]
	[ -z "$(s3_ls "$B" keep/t.csv)" ]
}

@test "s3-put: -R that fails again leaves both and says so (75)" {
	printf 'again\n' >"$T/b"
	put_unreachable "$T/b" "s3://$B/keep/again.txt"
	run --separate-stderr s3-put -a 1 -u http://127.0.0.1:9 -R "$KEPT.uri"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"s3-put: kept body left in $KEPT (URI in $KEPT.uri)" ]]
	[[ "$stderr" != *"not kept"* ]]
	kept "$T/b" "s3://$B/keep/again.txt"
}

@test "s3-put: -R takes no target and no --file, and wants a .uri sidecar (2)" {
	run --separate-stderr s3-put -R "$KEEP/x.uri" "s3://$B/k"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: --retry-kept takes the target from the sidecar: no s3:// URI"$'\n'"usage: "* ]]
	run --separate-stderr s3-put -f /dev/null -R "$KEEP/x.uri"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: --retry-kept reads the kept body: no --file"$'\n'* ]]
	run --separate-stderr s3-put -R "$KEEP/x"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "s3-put: -R wants the .uri sidecar of a kept body: $KEEP/x"$'\n'* ]]
}

@test "s3-put: a {sha256} key's kept body is whole and verified too" {
	printf 'sha body\n' >"$T/b"
	put_unreachable "$T/b" "s3://$B/keep/{sha256}.csv"
	kept "$T/b" "s3://$B/keep/$(sha256sum <"$T/b" | cut -c1-64).csv"
}

# --- faults: retried, then temporary (75) --------------------------------

@test "s3-put: 503 SlowDown for the first 3 requests is retried" {
	fault_proxy_start '503*3'
	printf 'slow\n' >"$T/b"
	run --separate-stderr s3-put -v -g 0.05 -u "$FAULT_URL" "s3://$B/fault/slow.txt" <"$T/b"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'HTTP 503 SlowDown.*; retry' <<<"$stderr")" -eq 3 ]
	[ "$(fault_proxy_count)" -eq 4 ]
	same fault/slow.txt "$T/b"
}

@test "s3-put: 500, a reset mid-body and an empty reply are retried" {
	fault_proxy_start '500,reset,close'
	head -c 3000000 /dev/urandom >"$T/b"
	run --separate-stderr s3-put -g 0.05 -u "$FAULT_URL" "s3://$B/fault/reset.bin" <"$T/b"
	[ "$status" -eq 0 ]
	[ "$(fault_proxy_count)" -eq 4 ]
	same fault/reset.bin "$T/b"
}

@test "s3-put: a refused connection is retried until the endpoint is back" {
	fault_proxy_start 'refuse:1'
	printf 'refused\n' >"$T/b"
	run --separate-stderr s3-put -a 12 -g 0.2 -u "$FAULT_URL" "s3://$B/fault/refused.txt" <"$T/b"
	[ "$status" -eq 0 ]
	same fault/refused.txt "$T/b"
}

@test "s3-put: a stall past --timeout is cut off and retried" {
	fault_proxy_start 'stall:20'
	printf 'stall\n' >"$T/b"
	SECONDS=0
	run --separate-stderr s3-put -v -W 2 -g 0.05 -u "$FAULT_URL" "s3://$B/fault/stall.txt" <"$T/b"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -lt 15 ]
	[[ "$stderr" == *"Operation too slow"*"; retry 1/4"* ]]
	same fault/stall.txt "$T/b"
}

@test "s3-put: a trickling answer (200, then a byte every 0.4 s) ends the try (75 with -W 3 -a 1)" {
	fault_proxy_start 'trickle:0.4*'
	printf 'trickle\n' >"$T/b"
	run --separate-stderr timeout 25 s3-put -W 3 -a 1 -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/fault/trickle.txt" <"$T/b"
	[ "$status" -eq 75 ]
	[[ "$stderr" == "s3-put: PUT s3://$B/fault/trickle.txt: Operation too slow. Less than 1024 bytes/sec transferred the last 3 seconds"$'\n'"s3-put: body kept in $KEEP/"* ]]
	kept "$T/b" "s3://$B/fault/trickle.txt"
	[ "$(fault_proxy_count)" -eq 1 ]
}

@test "s3-put: --max-time ends a request that keeps moving, and is retried" {
	fault_proxy_start 'trickle:0.4'
	printf 'deadline\n' >"$T/b"
	run --separate-stderr timeout 25 s3-put -v -M 2 -g 0.05 -u "$FAULT_URL" \
		"s3://$B/fault/deadline.txt" <"$T/b"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"Operation timed out after 2"*" milliseconds with "*" bytes received; retry 1/4"* ]]
	same fault/deadline.txt "$T/b"
}

@test "s3-put: a 400-character ETag for a part is a protocol error (75), never an overflow" {
	fault_proxy_start 'etag:400*'
	head -c 6000000 /dev/urandom >"$T/big"
	run --separate-stderr s3-put -a 1 -P 5M -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/fault/etag.bin" <"$T/big"
	[ "$status" -eq 75 ]
	[[ "$stderr" == "s3-put: PUT s3://$B/fault/etag.bin (part 1): an ETag of 400 bytes (more than 256): not an S3 answer"$'\n'"s3-put: body kept in "* ]]
	kept "$T/big" "s3://$B/fault/etag.bin"
	[ -z "$(s3_ls "$B" fault/etag.bin)" ]
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: ETags are XML-escaped in CompleteMultipartUpload (the store parses it: InvalidPart, not MalformedXML)" {
	fault_proxy_start 'etag:40*'
	head -c 6000000 /dev/urandom >"$T/big"
	run --separate-stderr s3-put -a 1 -P 5M -u "$FAULT_URL" "s3://$B/fault/etag40.bin" <"$T/big"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "s3-put: POST s3://$B/fault/etag40.bin (complete multipart upload): HTTP 400 InvalidPart"* ]]
	run s3_uploads "$B"
	[ -z "$output" ]
}

# complete_faults: the requests of a 2-part upload before its Complete:
# the listing of unfinished uploads, Create, two parts
complete_faults() {
	fault_proxy_start "pass*4,$1"
	head -c 6000000 /dev/urandom >"$T/big"
}

@test "s3-put: a CompleteMultipartUpload answer 200 without a CompleteMultipartUploadResult (empty, whitespace then closed) is Completed again; the store's idempotent Complete then confirms it" {
	complete_faults 'empty200,blank200,pass'
	run --separate-stderr s3-put -j -v -P 5M -g 0.05 -u "$FAULT_URL" "s3://$B/fault/c200.bin" <"$T/big"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"s3-put: POST s3://$B/fault/c200.bin (complete multipart upload): HTTP 200 without a CompleteMultipartUploadResult in the body; retry 1/4 in "* ]]
	[[ "$stderr" == *"s3-put: POST s3://$B/fault/c200.bin (complete multipart upload): HTTP 200 without a CompleteMultipartUploadResult in the body; retry 2/4 in "* ]]
	echo "$output" | jq -e '.etag | endswith("-2")'
	[ "$(grep -c ' POST .*?uploadId=' "$FAULT_DIR/log")" -eq 3 ]
	same fault/c200.bin "$T/big"
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: a CompleteMultipartUpload that never gives its result, or an Error after the 200, is a temporary failure (75), the body kept, the upload aborted" {
	complete_faults 'blank200*'
	run --separate-stderr s3-put -a 3 -g 0.05 -P 5M -k "$KEEP" -u "$FAULT_URL" "s3://$B/fault/c200b.bin" <"$T/big"
	[ "$status" -eq 75 ]
	[ "${stderr_lines[0]}" = "s3-put: POST s3://$B/fault/c200b.bin (complete multipart upload): HTTP 200 without a CompleteMultipartUploadResult in the body (after 3 attempts)" ]
	[[ "${stderr_lines[1]}" == "s3-put: body kept in $KEEP/"* ]]
	kept "$T/big" "s3://$B/fault/c200b.bin"
	fault_proxy_stop
	rm -f "$KEEP"/*
	complete_faults 'error200*2'
	run --separate-stderr s3-put -a 2 -g 0.05 -P 5M -u "$FAULT_URL" "s3://$B/fault/c200e.bin" <"$T/big"
	[ "$status" -eq 75 ]
	[ "${stderr_lines[0]}" = "s3-put: POST s3://$B/fault/c200e.bin (complete multipart upload): HTTP 200 InternalError: injected after a 200 (after 2 attempts)" ]
	[ -z "$(s3_ls "$B" fault/c200e.bin)" ]
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: faults on a multipart upload's parts are retried" {
	fault_proxy_start 'pass,pass,500,reset,pass,503,pass'
	head -c 16000000 /dev/urandom >"$T/big"
	run --separate-stderr s3-put -j -P 5M -g 0.05 -u "$FAULT_URL" "s3://$B/fault/mp.bin" <"$T/big"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.etag | endswith("-4")'
	same fault/mp.bin "$T/big"
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: killed while part 1 stalls: no sidecar, nothing -R would upload; the next run aborts the orphan upload" {
	fault_proxy_start 'pass,pass,stall:30'
	head -c 12000000 /dev/urandom >"$T/big"
	s3-put -P 5M -k "$KEEP" -u "$FAULT_URL" "s3://$B/orphan/killed.bin" <"$T/big" 3>&- &
	local pid=$! i=0
	while [ "$(fault_proxy_count 2>/dev/null || echo 0)" -lt 3 ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^3 stall:30[.0]* PUT ' "$FAULT_DIR/log"
	kill -9 "$pid"
	wait "$pid" || :
	[ -z "$(ls "$KEEP")" ]
	ls -A "$KEEP" | grep -qx '\.s3-put\.......\.part'
	[ -z "$(ls -A "$KEEP" | grep '\.uri')" ]
	[ -z "$(s3_ls "$B" orphan/)" ]
	# the killed run's upload is left; another key's is no business of ours
	s3_aws s3api create-multipart-upload --bucket "$B" --key orphan/killed.bin.2 >/dev/null
	[ "$(s3_uploads "$B" | sort)" = "$(printf 'orphan/killed.bin\norphan/killed.bin.2')" ]
	run --separate-stderr s3-put -P 5M "s3://$B/orphan/killed.bin" <"$T/big"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "s3-put: s3://$B/orphan/killed.bin: aborting an unfinished multipart upload of an earlier run ("*")" ]]
	same orphan/killed.bin "$T/big"
	[ "$(s3_uploads "$B")" = orphan/killed.bin.2 ]
	s3_aws s3api abort-multipart-upload --bucket "$B" --key orphan/killed.bin.2 \
		--upload-id "$(s3_aws s3api list-multipart-uploads --bucket "$B" \
		--query 'Uploads[0].UploadId' --output text)"
	run s3_uploads "$B"
	[ -z "$output" ]
}

@test "s3-put: a store that refuses to list unfinished uploads only costs a warning" {
	fault_proxy_start '403'
	head -c 6000000 /dev/urandom >"$T/big"
	run --separate-stderr s3-put -P 5M -u "$FAULT_URL" "s3://$B/orphan/nolist.bin" <"$T/big"
	[ "$status" -eq 0 ]
	[ "$stderr" = "s3-put: s3://$B/orphan/nolist.bin: cannot list unfinished uploads (HTTP 403 AccessDenied: Access Denied); one a killed run left may stay" ]
	same orphan/nolist.bin "$T/big"
	grep -q '^1 403:AccessDenied GET /'"$B"'?prefix=orphan%2Fnolist.bin&uploads=$' "$FAULT_DIR/log"
}

@test "s3-put: faults outlasting the retries exit 75 with the body kept" {
	fault_proxy_start '503*'
	printf 'a,b\n1,2\n' >"$T/b"
	AWS_MAX_ATTEMPTS=3 run --separate-stderr s3-put -g 0.05 -k "$KEEP" \
		-u "$FAULT_URL" "s3://$B/fault/gone.csv" <"$T/b"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"s3-put: PUT s3://$B/fault/gone.csv: HTTP 503 SlowDown: Please reduce your request rate. (after 3 attempts)"* ]]
	[[ "$stderr" == *"s3-put: body kept in $KEEP/"* ]]
	[ "$(fault_proxy_count)" -eq 3 ]
	kept "$T/b" "s3://$B/fault/gone.csv"
}

@test "s3-put: 403 RequestTimeTooSkewed is temporary (75): a clock can be set right" {
	fault_proxy_start '403:RequestTimeTooSkewed*'
	printf 'skew\n' >"$T/b"
	run --separate-stderr s3-put -a 2 -g 0.05 -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/fault/skew.txt" <"$T/b"
	[ "$status" -eq 75 ]
	[[ "$stderr" == "s3-put: PUT s3://$B/fault/skew.txt: HTTP 403 RequestTimeTooSkewed: The difference between the request time and the current time is too large. (after 2 attempts)"$'\n'"s3-put: body kept in $KEEP/"* ]]
	kept "$T/b" "s3://$B/fault/skew.txt"
}

@test "s3-put: an endpoint that stays down exits 75" {
	fault_proxy_start 'refuse:60'
	echo down >"$T/b"
	run --separate-stderr s3-put -a 2 -g 0.05 -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/fault/down.txt" <"$T/b"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"(after 2 attempts)"* ]]
	kept "$T/b" "s3://$B/fault/down.txt"
}

@test "s3-put: a multipart upload failing for good exits 75, body kept whole" {
	fault_proxy_start 'pass,pass,pass,500*'
	head -c 16000000 /dev/urandom >"$T/big"
	run --separate-stderr s3-put -a 2 -P 5M -g 0.05 -k "$KEEP" -u "$FAULT_URL" \
		"s3://$B/fault/mpgone.bin" <"$T/big"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"(part 2): HTTP 500 InternalError"* ]]
	kept "$T/big" "s3://$B/fault/mpgone.bin"
}

@test "s3-put: a key of many long placeholders does not overflow (fuzz finding)" {
	local sha k
	printf 'x\n' > "$T/body"
	sha=$(sha256sum < "$T/body" | cut -c1-64)
	k='{sha256}{sha256}{sha256}{sha256}{sha256}{sha256}{sha256}{uuid}{uuid}{upload_date}'
	run --separate-stderr s3-put -a 1 -k "$KEEP" -f "$T/body" \
	    -u http://127.0.0.1:9 "s3://b/$k"
	[ "$status" -eq 75 ]
	run head -1 "$KEEP"/*.uri
	[[ "$output" == "s3://b/$sha$sha$sha$sha$sha$sha$sha"* ]]
	[[ "$output" == *"$(date -u +%Y-%m-%d)" ]]
	[ "${#output}" -eq $((7 + 7 * 64 + 2 * 36 + 10)) ]
}
