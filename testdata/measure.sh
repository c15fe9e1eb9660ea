#!/usr/bin/env bash
# The one measurement script (make measure): whole-process timings and load
# runs, each side by side with its baseline in the same run, since these
# machines are shared and noisy. Every figure printed is a median.
#
#   bash testdata/measure.sh [SECTION...]
#
# Sections (all by default): profiles inspect flow mtls idp bench fapi tokenget.
# Env: BIN (bin/authlab), RUNS (hyperfine runs, 5), DURATION (10s), CONC (32),
# ROUNDS (bench-vs-hey rounds per algorithm, 4).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin/authlab}
RUNS=${RUNS:-5}
DURATION=${DURATION:-10s}
CONC=${CONC:-32}
ROUNDS=${ROUNDS:-4}
[ -x "$BIN" ] || go build -o "$BIN" .
for tool in hyperfine hey jwt curl; do
  command -v $tool >/dev/null || { echo "$tool is not installed (make deps)"; exit 2; }
done
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# hf runs hyperfine and prints each command's median (commands hold no commas).
hf() {
  local out=$work/hf.csv
  hyperfine -N --warmup 2 --runs "$RUNS" --export-csv "$out" "$@" >/dev/null 2>&1
  awk -F, 'NR > 1 { printf "  %-70s median %7.2f ms\n", substr($1, 1, 70), $4 * 1000 }' "$out"
}
# wait_http polls a URL until it answers: bounded to 100 tries, 5 s.
wait_http() { for _ in $(seq 100); do curl -fsk "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1"; exit 1; }
# start_idp PORT ARGS...: an authlab mock IdP in the background, until exit.
start_idp() {
  local port=$1; shift
  "$BIN" --store "$work/idp-$port.db" idp --addr "127.0.0.1:$port" --keys "$work/keys-$port" "$@" >/dev/null 2>&1 & pids+=($!)
  local scheme=http; [[ " $* " == *" --tls "* ]] && scheme=https
  wait_http "$scheme://127.0.0.1:$port/.well-known/openid-configuration"
}
# median reads numbers on stdin and prints their median.
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

section_profiles() {
  echo "== profile list on a store with 10,000 profiles (target < 100 ms), beside authlab version"
  awk 'BEGIN { printf "{\"format\":\"authlab-profiles\",\"version\":1,\"profiles\":["
    for (i = 0; i < 10000; i++) printf "%s{\"name\":\"p%05d\",\"kind\":\"client-credentials\",\"issuer\":\"https://idp%d.example.com\",\"client_id\":\"c%d\",\"scopes\":[\"read\",\"write\"],\"tags\":[\"bench\"]}", (i ? "," : ""), i, i % 7, i
    print "]}" }' > "$work/10k.json"
  "$BIN" --store "$work/10k.db" profile import "$work/10k.json" >/dev/null
  hf "$BIN --store $work/10k.db profile list" "$BIN version"
}

section_inspect() {
  echo "== token inspect (RS256, local JWKS) vs golang-jwt's jwt -verify (target <= 2x)"
  hf "jwt -verify testdata/token/rs256.jwt -key testdata/token/rsa1.pub -alg RS256" \
     "$BIN token inspect --jwks testdata/token/jwks.json testdata/token/rs256.jwt"
}

section_flow() {
  echo "== flow client-credentials (discovery + token + JWKS + checks) beside curl of discovery + token in one shell"
  echo "   (the floor: two HTTP calls, no validation) and oauth2c's discovery + token when it is on PATH; one run"
  start_idp 19480 --alg ES256
  local I=http://127.0.0.1:19480
  local cmds=(-n "authlab flow client-credentials --json" \
    "$BIN --store $work/cli.db flow client-credentials --issuer $I --client-id demo-cc --client-secret demo-cc-secret --json"
    -n "curl discovery && curl token (sh -c)" \
    "sh -c 'curl -s -o /dev/null $I/.well-known/openid-configuration && curl -s -o /dev/null -u demo-cc:demo-cc-secret -d grant_type=client_credentials $I/token'")
  if command -v oauth2c >/dev/null; then
    cmds+=(-n "oauth2c client_credentials (discovery + token)" \
      "oauth2c $I --client-id demo-cc --client-secret demo-cc-secret --grant-type client_credentials --auth-method client_secret_basic --silent")
  else
    echo "   oauth2c is not on PATH: its row is missing"
  fi
  hf "${cmds[@]}"
}

section_mtls() {
  echo "== flow mtls handshake report vs curl with the same certificates (target < 40 ms)"
  start_idp 19443 --tls
  local C=$work/certs U=https://127.0.0.1:19443/.well-known/openid-configuration
  [ -d "$C" ] || C=$(dirname "$(find "$work" -name client.pem | head -1)")
  hf "$BIN flow mtls --url $U --cert $C/client.pem --key $C/client-key.pem --ca $C/ca.pem --json" \
     "curl -s -o /dev/null --cert $C/client.pem --key $C/client-key.pem --cacert $C/ca.pem $U"
}

section_idp() {
  echo "== mock IdP: cold start → first client_credentials token (median of 5), peak RSS"
  for alg in ES256 RS256; do
    AUTHLAB_BIN=$BIN AUTHLAB_ALG=$alg go test -run '^$' -bench '^BenchmarkIdpColdStart$' -benchtime 5x ./app/cli | grep '^Benchmark' | sed "s/^/$alg /" || true
  done
  echo "== one-core signing rate (go test -cpu 1), the baseline for the RS256 throughput"
  go test -run '^$' -bench '^BenchmarkSign(RS|ES)256$' -cpu 1 -benchtime 3s ./mockidp/ | grep '^Benchmark' |
    awk '{printf "%s %s ns/op = %.0f signatures/s on one core\n", $1, $3, 1e9/$3}'
  local port=19391
  for alg in ES256 RS256; do
    echo "== hey -c $CONC -z $DURATION client_credentials, $alg: throughput, server CPU per token, RSS each second"
    "$BIN" --store "$work/hey-$alg.db" idp --addr 127.0.0.1:$port --alg $alg --keys "$work/hey-keys-$alg" >"$work/idp.log" 2>&1 &
    local pid=$!; pids+=($pid)
    wait_http "http://127.0.0.1:$port/.well-known/openid-configuration"
    rss() { awk '/VmRSS|VmHWM/{printf "%s %d MiB  ", $1, $2/1024}' /proc/$pid/status; echo; }
    echo -n "before: "; rss
    ( while kill -0 $pid 2>/dev/null; do awk '/VmRSS/{printf "%d ", $2/1024}' /proc/$pid/status 2>/dev/null; sleep 1; done ) >"$work/rss.log" &
    local sampler=$!
    ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
    local t0; t0=$(ticks)
    # Debian's hey drops -a credentials, so the Basic header is spelled out.
    hey -c "$CONC" -z "$DURATION" -m POST -H "Authorization: Basic $(printf demo-cc:demo-cc-secret | base64)" -T application/x-www-form-urlencoded \
        -d grant_type=client_credentials "http://127.0.0.1:$port/token" >"$work/hey.out"
    local t1; t1=$(ticks)
    grep -E 'Requests/sec|Average|99% in|responses$' "$work/hey.out"
    local n; n=$(awk '/\[200\]/{print $2}' "$work/hey.out")
    echo "server CPU per token: $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / ${n:-1} )) µs ($((t1 - t0)) ticks, $n tokens)"
    echo -n "after:  "; rss
    kill $sampler 2>/dev/null || true; wait $sampler 2>/dev/null || true
    echo "RSS MiB each second: $(cat "$work/rss.log")"
    kill $pid; wait $pid 2>/dev/null || true
  done
}

section_bench() {
  local port=19191
  for alg in ES256 RS256; do
    echo "== authlab bench vs hey, client credentials, -c $CONC -z $DURATION, IdP signing $alg, $ROUNDS alternating rounds"
    start_idp $port --alg $alg
    local url="http://127.0.0.1:$port/token" auth rows=$work/rows-$alg
    auth=$(printf 'demo-cc:demo-cc-secret' | base64)
    printf '%-8s %5s %10s %10s %10s\n' tool round rps p50_ms mean_ms
    run_hey() {
      hey -c "$CONC" -z "$DURATION" -m POST -H 'Content-Type: application/x-www-form-urlencoded' \
        -H "Authorization: Basic $auth" -d 'grant_type=client_credentials' "$url" |
        awk -v r="$r" '/Requests\/sec/ {rps=$2} /Average:/ {avg=$2*1000} /50% in/ {p50=$3*1000}
          END {printf "%-8s %5s %10.1f %10.2f %10.2f\n", "hey", r, rps, p50, avg}'
    }
    run_authlab() {
      "$BIN" --store "$work/bench.db" bench --issuer "http://127.0.0.1:$port" --client-id demo-cc --client-secret demo-cc-secret \
        -c "$CONC" -z "$DURATION" --json |
        awk -v r="$r" -F'[:,]' '/"throughput_rps"/ {rps=$2} /"p50"/ {p50=$2} /"mean"/ {mean=$2}
          END {printf "%-8s %5s %10.1f %10.2f %10.2f\n", "authlab", r, rps, p50, mean}'
    }
    # Alternate which tool goes first (ABBA): the IdP's tables grow as it
    # issues tokens, so a fixed order would favour the first tool.
    for r in $(seq "$ROUNDS"); do
      if [ $((r % 2)) -eq 1 ]; then run_hey; run_authlab; else run_authlab; run_hey; fi
    done | tee "$rows"
    local hr ar hp ap
    hr=$(awk '$1 == "hey" {print $3}' "$rows" | median); ar=$(awk '$1 == "authlab" {print $3}' "$rows" | median)
    hp=$(awk '$1 == "hey" {print $4}' "$rows" | median); ap=$(awk '$1 == "authlab" {print $4}' "$rows" | median)
    awk -v hr="$hr" -v ar="$ar" -v hp="$hp" -v ap="$ap" 'BEGIN {
      printf "median   hey     %8.1f rps  p50 %6.2f ms\n", hr, hp
      printf "median   authlab %8.1f rps  p50 %6.2f ms\n", ar, ap
      printf "authlab/hey      throughput %.2fx  p50 %+.1f%%\n", ar/hr, 100*(ap/hp-1) }'
    port=$((port + 1))
  done
}

section_fapi() {
  echo "== flow auth-code --par --request-object --response-mode jwt beside plain auth-code (curl as the browser), one run"
  echo "   and check --profile fapi2 against the FAPI 2.0 mock IdP, metadata only and with the behaviour probes"
  start_idp 19581
  start_idp 19582 --fapi2
  local I=http://127.0.0.1:19581 F=http://127.0.0.1:19582 K=$PWD/testdata/mockidp/demo-jwt.key
  export BROWSER="curl -s -o /dev/null -L --max-time 20"
  hf -n "auth-code (demo-jwt with private_key_jwt)" \
     "$BIN --store $work/fapi.db flow auth-code --issuer $I --client-id demo-jwt --private-key $K --scope api:read --json" \
     -n "auth-code --par --request-object --response-mode jwt" \
     "$BIN --store $work/fapi.db flow auth-code --issuer $I --client-id demo-jwt --private-key $K --scope api:read --par --request-object --response-mode jwt --json"
  hf -n "check --profile fapi2 (metadata)" "$BIN check --issuer $F --profile fapi2" \
     -n "check --profile fapi2 with probes (demo-jwt --fapi2)" \
     "$BIN --store $work/fapi.db check --issuer $F --profile fapi2 --client-id demo-jwt --private-key $K --fapi2"
}

section_tokenget() {
  echo "== token get on a warm cache beside authlab version (the floor), one run; then 20 processes after expiry"
  start_idp 19583
  local I=http://127.0.0.1:19583 S=$work/tg.db
  "$BIN" --store "$S" profile add tg --kind client-credentials --issuer $I --client-id demo-cc --client-secret demo-cc-secret >/dev/null
  "$BIN" --store "$S" token get tg >/dev/null
  hf "$BIN --store $S token get tg" "$BIN version"
  # The renewal after expiry: the test expires the cached token in the store,
  # starts 20 processes at once and asserts one token request at the IdP.
  local walls
  walls=$(go test -count=5 -v -run '^TestTokenGetConcurrentProcesses$' ./app/cli |
    awk '/processes after expiry/ {print $NF == "time" ? $(NF-2) : $NF}' | sed 's/ms$//')
  echo "  20 processes after expiry, one renewal (asserted), 5 rounds: $(echo $walls) ms"
  echo "  20-caller renewal wall time: median $(printf '%s\n' $walls | median) ms"
}

sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(profiles inspect flow mtls idp bench fapi tokenget)
for s in "${sections[@]}"; do
  declare -F "section_$s" >/dev/null || { echo "unknown section $s (profiles inspect flow mtls idp bench fapi tokenget)"; exit 2; }
  "section_$s"
done
