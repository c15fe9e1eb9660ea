#!/usr/bin/env bash
# Whole-process measurements the issues ask for, side by side with their
# baselines, in one run (the machines are shared: compare within a run).
# Run from the repository root: make measure (it builds bin/authlab first).
# Each hyperfine line reports the median of its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin/authlab}
RUNS=${RUNS:-5}
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
wait_http() { for _ in $(seq 100); do curl -fsk "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1"; exit 1; }

echo "== issue 2: profile list on a store with 10,000 profiles (target < 100 ms)"
awk 'BEGIN { printf "{\"format\":\"authlab-profiles\",\"version\":1,\"profiles\":["
  for (i = 0; i < 10000; i++) printf "%s{\"name\":\"p%05d\",\"kind\":\"client-credentials\",\"issuer\":\"https://idp%d.example.com\",\"client_id\":\"c%d\",\"scopes\":[\"read\",\"write\"],\"tags\":[\"bench\"]}", (i ? "," : ""), i, i % 7, i
  print "]}" }' > "$work/10k.json"
"$BIN" --store "$work/10k.db" profile import "$work/10k.json" >/dev/null
hf "$BIN --store $work/10k.db profile list" "$BIN version"

echo "== issue 4: token inspect (RS256, local JWKS) vs golang-jwt's jwt -verify (target <= 2x)"
hf "jwt -verify testdata/token/rs256.jwt -key testdata/token/rsa1.pub -alg RS256" \
   "$BIN token inspect --jwks testdata/token/jwks.json testdata/token/rs256.jwt"

echo "== issue 5: flow client-credentials (discovery + token + decode + checks) against authlab idp (target <= 10 ms)"
"$BIN" --store "$work/idp.db" idp --addr 127.0.0.1:19480 --alg ES256 >/dev/null 2>&1 & pids+=($!)
wait_http http://127.0.0.1:19480/.well-known/openid-configuration
hf "$BIN --store $work/cli.db flow client-credentials --issuer http://127.0.0.1:19480 --client-id demo-cc --client-secret demo-cc-secret --json" \
   "curl -s -o /dev/null http://127.0.0.1:19480/.well-known/openid-configuration"

echo "== issue 6: flow mtls handshake report against authlab idp --tls (target < 40 ms)"
"$BIN" --store "$work/tls.db" idp --tls --addr 127.0.0.1:19443 >/dev/null 2>&1 & pids+=($!)
C=$work/certs
wait_http https://127.0.0.1:19443/.well-known/openid-configuration
U=https://127.0.0.1:19443/.well-known/openid-configuration
hf "$BIN flow mtls --url $U --cert $C/client.pem --key $C/client-key.pem --ca $C/ca.pem --json" \
   "curl -s -o /dev/null --cert $C/client.pem --key $C/client-key.pem --cacert $C/ca.pem $U"

echo "== issue 3: mock IdP cold start, RSS, throughput with hey"
BIN=$BIN bash testdata/mockidp/measure.sh

for alg in ES256 RS256; do
  echo "== issue 8: authlab bench vs hey, client credentials, -c 32 -z 10s, IdP signing $alg"
  ALG=$alg C=32 Z=10s ROUNDS=${ROUNDS:-4} sh testdata/bench/measure.sh "$BIN"
done
