#!/usr/bin/env bats
# Where each service is reached: the AWS CLI's configured endpoint URLs
# (the option, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
# [services NAME] block, its endpoint_url, ignore_configured_endpoint_urls).
# Every endpoint here is a closed port on loopback: a tool's message names
# the port it tried. Debian 12's /usr/bin/aws (2.9) predates these settings,
# so the expectations are the order AWS's SDK reference guide gives, which
# aws-cli 1.45 (botocore 1.43) was seen following in each of these cases.

bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	export HOME=$T/home AWS_CONFIG_FILE=$T/config \
		AWS_SHARED_CREDENTIALS_FILE=$T/credentials
	mkdir -p "$HOME"
	: >"$AWS_SHARED_CREDENTIALS_FILE"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE \
		AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_DYNAMODB \
		AWS_ENDPOINT_URL_DYNAMODB_STREAMS AWS_ENDPOINT_URL_STS \
		AWS_ENDPOINT_URL_SSO AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
	# nothing leaves the machine: AWS's own https endpoints go to a
	# closed proxy
	export HTTPS_PROXY=http://127.0.0.1:$(port p) AWS_EC2_METADATA_DISABLED=true
	cat >"$AWS_CONFIG_FILE" <<EOF
[profile svc]
region = eu-west-1
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = secret
services = local
endpoint_url = http://127.0.0.1:$(port global)

[services local]
s3 =
  endpoint_url = http://127.0.0.1:$(port s3)
dynamodb_streams =
  endpoint_url = http://127.0.0.1:$(port streams)
# a key of the section itself, not of a service's block
endpoint_url = http://127.0.0.1:$(port wrong)

[profile role]
region = eu-west-1
role_arn = arn:aws:iam::123456789012:role/r
source_profile = svc
services = roles

[services roles]
sts =
  endpoint_url = http://127.0.0.1:$(port sts)
EOF
	printf 'a,b\n1,2\n' >"$T/small.csv"
}

# port NAME: a closed port of the test's, the same for a NAME each time
port() {
	local f=$BATS_TEST_TMPDIR/port.$1
	if [ ! -f "$f" ]; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$f"
	fi
	cat "$f"
}

# s3 ARGS: the port (or "proxy", for AWS's own endpoint) s3-put ARGS tried
s3() {
	run -75 --separate-stderr s3-put -a 1 "$@" s3://b/k <"$T/small.csv"
	where "$stderr"
}

streams() {
	run -75 --separate-stderr ddb-stream -a 1 "$@" \
		arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000
	where "$stderr"
}

dynamodb() {
	run -75 --separate-stderr ddb-scan -a 1 -t tab "$@"
	where "$stderr"
}

where() {
	local p
	if [[ $1 == *"port $(port p) "* ]]; then
		echo proxy
		return
	fi
	for p in global s3 streams wrong sts opt env envs3 envstreams envddb; do
		[ -f "$BATS_TEST_TMPDIR/port.$p" ] || continue
		if [[ $1 == *"port $(port $p) "* ]]; then
			echo "$p"
			return
		fi
	done
	echo "unknown: $1"
}

@test "endpoints: a profile's [services] block, else its endpoint_url" {
	[ "$(s3 -p svc)" = s3 ]
	[ "$(streams -p svc)" = streams ]
	[ "$(dynamodb -p svc)" = global ]
	AWS_PROFILE=svc
	export AWS_PROFILE
	[ "$(s3)" = s3 ]
}

@test "endpoints: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, come before the profile's" {
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(port env)
	[ "$(s3 -p svc)" = env ]
	[ "$(streams -p svc)" = env ]
	[ "$(dynamodb -p svc)" = env ]
	export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(port envs3)
	export AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://127.0.0.1:$(port envstreams)
	export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(port envddb)
	[ "$(s3 -p svc)" = envs3 ]
	[ "$(streams -p svc)" = envstreams ]
	[ "$(dynamodb -p svc)" = envddb ]
}

@test "endpoints: the option comes before everything" {
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(port env)
	export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(port envs3)
	export AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
	[ "$(s3 -p svc -u "http://127.0.0.1:$(port opt)")" = opt ]
	[ "$(streams -p svc -u "http://127.0.0.1:$(port opt)")" = opt ]
}

@test "endpoints: ignore_configured_endpoint_urls, in the environment or the profile" {
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(port env)
	AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
	export AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
	[ "$(s3 -p svc)" = proxy ]
	[ "$(streams -p svc)" = proxy ]
	unset AWS_ENDPOINT_URL AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
	sed -i 's/^services = local$/&\nignore_configured_endpoint_urls = True/' "$AWS_CONFIG_FILE"
	[ "$(s3 -p svc)" = proxy ]
	[ "$(dynamodb -p svc)" = proxy ]
	# the environment's false comes before the profile's true
	export AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false
	[ "$(s3 -p svc)" = s3 ]
}

@test "endpoints: STS is reached where the profile asked for says" {
	[ "$(s3 -p role)" = sts ]
	export AWS_ENDPOINT_URL_STS=http://127.0.0.1:$(port env)
	[ "$(s3 -p role)" = env ]
}
