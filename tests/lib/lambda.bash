# lambda.bash: the Lambda Runtime API stand-in (tests/lib/lambda-runtime-standin)
# for the bats files that run bootstrap. Load with `load lib/lambda`.

LAMBDA_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# runtime_standin DIR [-r CODE] [-e CODE] [-d SECS] [-x MODE] EVENT...:
# start the stand-in in DIR (made if need be; its options -r, -e, -d, -x)
# serving the events; its pid in
# DIR/pid (the caller's teardown stops it); waits up to 5 s for its
# address in DIR/address
runtime_standin() {
	local dir=$1 opts=()
	shift
	while [[ "$1" == -[redx] ]]; do
		opts+=("$1" "$2")
		shift 2
	done
	mkdir -p "$dir"
	"$LAMBDA_LIB/lambda-runtime-standin" "${opts[@]}" "$dir" "$@" >/dev/null 2>&1 3>&- &
	echo $! >"$dir/pid"
	for _ in $(seq 50); do
		[ -f "$dir/address" ] && break
		sleep 0.1
	done
}
