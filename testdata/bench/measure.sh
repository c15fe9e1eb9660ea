#!/bin/sh
# Side-by-side: authlab bench vs hey against the mock IdP's client
# credentials endpoint, same concurrency and duration, alternating rounds in
# one run. Usage: testdata/bench/measure.sh [AUTHLAB_BINARY]
# Env: C (32), Z (10s), ROUNDS (3), PORT (9191), ALG (RS256).
set -eu
BIN=${1:-bin/authlab}
C=${C:-32}; Z=${Z:-10s}; ROUNDS=${ROUNDS:-3}; PORT=${PORT:-9191}
command -v hey >/dev/null || { echo "hey is not installed (make deps)"; exit 2; }
KEYS=$(mktemp -d)
"$BIN" idp --addr "127.0.0.1:$PORT" --keys "$KEYS" --alg "${ALG:-RS256}" >/dev/null 2>&1 &
IDP=$!
trap 'kill $IDP 2>/dev/null; rm -rf "$KEYS"' EXIT INT TERM
for i in $(seq 50); do
  curl -fs "http://127.0.0.1:$PORT/.well-known/openid-configuration" >/dev/null 2>&1 && break
  sleep 0.1
done
URL="http://127.0.0.1:$PORT/token"
AUTH=$(printf 'demo-cc:demo-cc-secret' | base64)
printf '%-8s %5s %10s %10s %10s\n' tool round rps p50_ms mean_ms
run_hey() {
  hey -c "$C" -z "$Z" -m POST -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "Authorization: Basic $AUTH" -d 'grant_type=client_credentials' "$URL" |
    awk -v r="$r" '/Requests\/sec/ {rps=$2} /Average:/ {avg=$2*1000} /50% in/ {p50=$3*1000}
      END {printf "%-8s %5s %10.1f %10.2f %10.2f\n", "hey", r, rps, p50, avg}'
}
run_authlab() {
  "$BIN" bench --issuer "http://127.0.0.1:$PORT" --client-id demo-cc --client-secret demo-cc-secret \
    -c "$C" -z "$Z" --json |
    awk -v r="$r" -F'[:,]' '/"throughput_rps"/ {rps=$2} /"p50"/ {p50=$2} /"mean"/ {mean=$2}
      END {printf "%-8s %5s %10.1f %10.2f %10.2f\n", "authlab", r, rps, p50, mean}'
}
# Alternate which tool goes first (ABBA): the IdP's tables grow as it
# issues tokens, so a fixed order would favour the first tool.
ROWS=$(mktemp)
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then run_hey; run_authlab; else run_authlab; run_hey; fi
done | tee "$ROWS"
# Medians per tool, and authlab relative to hey.
for tool in hey authlab; do
  for col in 3 4 5; do
    awk -v t="$tool" -v c="$col" '$1 == t {print $c}' "$ROWS" | sort -n |
      awk '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%s ", m}'
  done
  echo "$tool"
done | awk '{rps[$4]=$1; p50[$4]=$2; mean[$4]=$3}
  END {
    printf "median   hey     %8.1f rps  p50 %6.2f ms  mean %6.2f ms\n", rps["hey"], p50["hey"], mean["hey"]
    printf "median   authlab %8.1f rps  p50 %6.2f ms  mean %6.2f ms\n", rps["authlab"], p50["authlab"], mean["authlab"]
    printf "authlab/hey      throughput %+.1f%%  p50 %+.1f%%\n", 100*(rps["authlab"]/rps["hey"]-1), 100*(p50["authlab"]/p50["hey"]-1)
  }'
rm -f "$ROWS"
