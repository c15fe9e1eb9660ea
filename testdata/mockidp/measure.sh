#!/usr/bin/env bash
# Mock IdP measurements (issue 3): cold start, peak RSS, client_credentials
# throughput with hey for ES256 and RS256, beside the one-core RS256 signing
# rate measured in the same run. Run from the repository root:
#   bash testdata/mockidp/measure.sh            (DURATION=10s CONC=32 to change)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-/tmp/authlab-idp}
DURATION=${DURATION:-10s}
CONC=${CONC:-32}
PORT=${PORT:-19391}
[ -x "$BIN" ] || go build -o "$BIN" .
command -v hey >/dev/null || { echo "hey is not installed (apt-get install hey)"; exit 1; }
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== cold start: process start → first client_credentials token (median of 5), peak RSS"
for alg in ES256 RS256; do
  AUTHLAB_BIN=$BIN AUTHLAB_ALG=$alg go test -run '^$' -bench '^BenchmarkIdpColdStart$' -benchtime 5x . | grep '^Benchmark' | sed "s/^/$alg /"
done

echo "== one-core signing rate (go test -cpu 1)"
go test -run '^$' -bench '^BenchmarkSign(RS|ES)256$' -cpu 1 -benchtime 3s ./mockidp/ | grep '^Benchmark' |
  awk '{printf "%s %s ns/op = %.0f signatures/s on one core\n", $1, $3, 1e9/$3}'

for alg in ES256 RS256; do
  echo "== hey -c $CONC -z $DURATION client_credentials, $alg"
  "$BIN" --store "$work/authlab.db" idp --addr 127.0.0.1:$PORT --alg $alg >"$work/idp.log" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$work/idp.log" 2>/dev/null && break; sleep 0.05; done
  rss() { awk '/VmRSS|VmHWM/{printf "%s %d MiB  ", $1, $2/1024}' /proc/$pid/status; echo; }
  echo -n "before: "; rss
  # RSS once a second during the run: flat memory means no growth per token.
  ( while kill -0 $pid 2>/dev/null; do awk '/VmRSS/{printf "%d ", $2/1024}' /proc/$pid/status 2>/dev/null; sleep 1; done ) >"$work/rss.log" &
  sampler=$!
  ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
  t0=$(ticks)
  # Debian's hey drops -a credentials, so the Basic header is spelled out.
  hey -c "$CONC" -z "$DURATION" -m POST -H "Authorization: Basic $(printf demo-cc:demo-cc-secret | base64)" -T application/x-www-form-urlencoded \
      -d grant_type=client_credentials "http://127.0.0.1:$PORT/token" >"$work/hey.out"
  t1=$(ticks)
  grep -E 'Requests/sec|Average|99% in|responses$' "$work/hey.out"
  # CPU per token is independent of what else runs on the machine.
  n=$(awk '/\[200\]/{print $2}' "$work/hey.out")
  echo "server CPU per token: $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / ${n:-1} )) µs ($((t1 - t0)) ticks, $n tokens)"
  echo -n "after:  "; rss
  kill $sampler 2>/dev/null || true; wait $sampler 2>/dev/null || true
  echo "RSS MiB each second: $(cat "$work/rss.log")"
  kill $pid; wait $pid 2>/dev/null || true; pid=
done
