#!/usr/bin/env bash
# One load run on loopback, everything in the same run so the ratios mean something:
#   app direct, sidecar /rpc, sidecar catch-all rpc, sidecar proxy handler, nginx and haproxy as
#   reverse proxies to the same app. Prints a table and, with --write, puts it in docs/benchmarks.md.
#
#   sidecar-bench/load/run.sh [--write] [--duration 10s] [--connections 64] [--threads 2] [--rounds 3]
#
# The "app" is nginx answering a fixed go-micro JSON-RPC reply to every request (one worker), so the
# app costs as little CPU as possible and the proxies are what is measured. Installs wrk, nginx-light
# and haproxy from Debian when missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
duration=10s; connections=64; threads=2; rounds=3; write=
while [ $# -gt 0 ]; do
  case "$1" in
    --write) write=1 ;;
    --duration) duration=$2; shift ;;
    --connections) connections=$2; shift ;;
    --threads) threads=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v haproxy >/dev/null || need+=(haproxy)
command -v hey >/dev/null || need+=(hey)
if [ ${#need[@]} -gt 0 ]; then
  sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=servers.sh
. "$root/sidecar-bench/load/servers.sh"
start_servers "$work"
rpc_port=$(free_port); proxy_port=$(free_port)

jar="$root/sidecar-server/target/micro.jar"
[ -f "$jar" ] || (cd "$root" && mvn -B -q -DskipTests package -pl sidecar-server -am)
# the first start after a build records bin/micro's class-data archive (written when it exits): timed
# on its own, then a start as every later one is
# (with an archive already recorded for this jar, the first start is one like the others, and says so)
first_start="the first start after a build, which records the class-data archive"
[ "${jar%.jar}.jsa" -nt "$jar" ] && first_start="a first start (this jar's class-data archive was already recorded)"
start_ns=$(date +%s%N)
MICRO_JAR=$jar "$root/bin/micro" sidecar --address=127.0.0.1:$rpc_port > "$work/sidecar-first.log" 2>&1 & first_pid=$!
# polled every 10 ms without a process per poll (await_200): a curl per poll (about 24 ms of CPU each)
# delayed the start by 0.3-0.5 s on this machine's two cores, which no user's start pays
await_200 "$rpc_port"
first_build_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
kill $first_pid; wait $first_pid 2>/dev/null || true
# five starts as every later one is (one start alone moves by a few hundred ms on this machine): the
# median is reported; the last one stays up and serves /rpc below
starts=()
for i in 1 2 3 4 5; do
  start_ns=$(date +%s%N)
  MICRO_JAR=$jar "$root/bin/micro" sidecar --address=127.0.0.1:$rpc_port > "$work/sidecar-rpc.log" 2>&1 & rpc_pid=$!
  await_200 "$rpc_port"
  starts+=($(( ($(date +%s%N) - start_ns) / 1000000 )))
  if [ $i -lt 5 ]; then kill $rpc_pid; wait $rpc_pid 2>/dev/null || true; fi
done
pids+=($rpc_pid)
first_answer_ms=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 3p)
all_starts=$(printf '%s, ' "${starts[@]}"); all_starts=${all_starts%, }
MICRO_JAR=$jar "$root/bin/micro" sidecar --address=127.0.0.1:$proxy_port --handler=proxy > "$work/sidecar-proxy.log" 2>&1 & proxy_pid=$!; pids+=($proxy_pid)
# the two ceilings from ../shared/bench/limits (the leanest raw Netty and Reactor Netty proxies on our
# versions), built on first use, when that directory is there; started after the sidecars so that their
# start-to-first-answer figure is taken on a quiet machine
limits="$root/../shared/bench/limits"
netty_ceiling=; rn_ceiling=
if [ -d "$limits" ]; then
  for d in netty-proxy rn-proxy; do
    [ -f "$limits/$d/target/$d.jar" ] || (cd "$limits/$d" && mvn -B -q package) || true
  done
  if [ -f "$limits/netty-proxy/target/netty-proxy.jar" ] && [ -f "$limits/rn-proxy/target/rn-proxy.jar" ]; then
    netty_ceiling=$(free_port); rn_ceiling=$(free_port)
    java -Dio.netty.leakDetection.level=disabled -jar "$limits/netty-proxy/target/netty-proxy.jar" $netty_ceiling $app_port \
      > "$work/netty-ceiling.log" 2>&1 & netty_pid=$!; pids+=($netty_pid)
    java -Dio.netty.leakDetection.level=disabled -cp "$limits/rn-proxy/target/rn-proxy.jar" limits.RnAffineProxy \
      $rn_ceiling $app_port > "$work/rn-ceiling.log" 2>&1 & rn_pid=$!; pids+=($rn_pid)
  fi
fi

wait_port $app_port; wait_port $nginx_port; wait_port $haproxy_port; wait_port $proxy_port
if [ -n "$netty_ceiling" ]; then wait_port $netty_ceiling; wait_port $rn_ceiling; fi

service='{"name":"go.micro.srv.bench","nodes":[{"id":"bench-1","address":"127.0.0.1","port":'$app_port'}]}'
curl -sf -d "$service" "http://127.0.0.1:$rpc_port/registry"
curl -sf -d "$service" "http://127.0.0.1:$proxy_port/registry"
rss_idle_kb=$(ps -o rss= -p $rpc_pid | tr -d ' ')

rpc_body='{"service":"go.micro.srv.bench","method":"Bench.Call","request":{"name":"John"}}'
call_body='{"name":"John"}'
jsonrpc_body='{"method":"Bench.Call","params":[{"name":"John"}],"id":0}'

# name|url|body
targets=(
  "app direct|http://127.0.0.1:$app_port/|$jsonrpc_body"
  "nginx proxy|http://127.0.0.1:$nginx_port/|$jsonrpc_body"
  "haproxy|http://127.0.0.1:$haproxy_port/|$jsonrpc_body"
)
if [ -n "$netty_ceiling" ]; then
  targets+=("ceiling: raw Netty proxy|http://127.0.0.1:$netty_ceiling/|$jsonrpc_body"
            "ceiling: Reactor Netty per-loop proxy|http://127.0.0.1:$rn_ceiling/|$jsonrpc_body")
fi
targets+=(
  "sidecar proxy handler|http://127.0.0.1:$proxy_port/bench/call|$jsonrpc_body"
  "sidecar /rpc|http://127.0.0.1:$rpc_port/rpc|$rpc_body"
  "sidecar catch-all rpc|http://127.0.0.1:$rpc_port/bench/call|$call_body"
)

# sanity: every target answers 200 with the app's reply or its result
for t in "${targets[@]}"; do
  IFS='|' read -r name url body <<< "$t"
  out=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d "$body" "$url")
  case "$out" in *" 200") ;; *) echo "$name: $url answered: $out" >&2; exit 1 ;; esac
done

# warm the JITs of both sidecars (C2 needs a while) and of the ceilings
warm=("http://127.0.0.1:$rpc_port/rpc|$rpc_body|8s" "http://127.0.0.1:$rpc_port/bench/call|$call_body|8s"
      "http://127.0.0.1:$proxy_port/bench/call|$jsonrpc_body|8s")
if [ -n "$netty_ceiling" ]; then
  warm+=("http://127.0.0.1:$netty_ceiling/|$jsonrpc_body|5s" "http://127.0.0.1:$rn_ceiling/|$jsonrpc_body|5s")
fi
for w in "${warm[@]}"; do
  IFS='|' read -r u b d <<< "$w"
  WRK_BODY=$b wrk -t"$threads" -c"$connections" -d"$d" -s "$root/sidecar-bench/load/post.lua" "$u" > /dev/null
done

# CPU time (user + system, in clock ticks) of the process that serves a target; empty where the
# server shares its process with the app (nginx serves both in one worker)
cpu_ticks() { if [ -n "$1" ]; then awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || true; fi; }
server_pid() {
  case "$1" in
    haproxy) echo "$haproxy_pid" ;;
    "ceiling: raw Netty proxy") echo "$netty_pid" ;;
    "ceiling: Reactor Netty per-loop proxy") echo "$rn_pid" ;;
    "sidecar proxy handler") echo "$proxy_pid" ;;
    "sidecar /rpc"|"sidecar catch-all rpc") echo "$rpc_pid" ;;
  esac
}
hz=$(getconf CLK_TCK)

results=()
haproxy_rps=
for t in "${targets[@]}"; do
  IFS='|' read -r name url body <<< "$t"
  spid=$(server_pid "$name"); c0=$(cpu_ticks "$spid")
  out=$(WRK_BODY=$body wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$root/sidecar-bench/load/post.lua" "$url")
  c1=$(cpu_ticks "$spid")
  total=$(awk '/requests in/ {print $1}' <<< "$out")
  us=—; [ -n "$c0" ] && [ -n "$c1" ] && us=$(awk -v a="$c0" -v b="$c1" -v n="${total:-1}" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1=="50%" {print $2}' <<< "$out")
  p99=$(awk '$1=="99%" {print $2}' <<< "$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<< "$out" | tr '\n' ' ')
  [ "$name" = "haproxy" ] && haproxy_rps=$rps
  results+=("$name|$rps|$p50|$p99|${errors:-none}|$us")
done
rss_load_kb=$(ps -o rss= -p $rpc_pid | tr -d ' ')
rss_proxy_kb=$(ps -o rss= -p $proxy_pid | tr -d ' ')

# (b) latency at a fixed 1,000 requests/s: 16 connections, 1 KiB bodies, hey's per-worker rate limit
kib=$(python3 -c 'print("x" * 1000)')
rpc_kib='{"service":"go.micro.srv.bench","method":"Bench.Call","request":{"name":"'$kib'"}}'
jsonrpc_kib='{"method":"Bench.Call","params":[{"name":"'$kib'"}],"id":0}'
latency_targets=(
  "app direct|http://127.0.0.1:$app_port/|$jsonrpc_kib"
  "nginx proxy|http://127.0.0.1:$nginx_port/|$jsonrpc_kib"
  "haproxy|http://127.0.0.1:$haproxy_port/|$jsonrpc_kib"
  "sidecar proxy handler|http://127.0.0.1:$proxy_port/bench/call|$jsonrpc_kib"
  "sidecar /rpc|http://127.0.0.1:$rpc_port/rpc|$rpc_kib"
  "sidecar catch-all rpc|http://127.0.0.1:$rpc_port/bench/call|{\"name\":\"$kib\"}"
)
# the ceilings too: what the leanest proxies on our stack add at this rate bounds what the sidecar can
if [ -n "$netty_ceiling" ]; then
  latency_targets+=("ceiling: raw Netty proxy|http://127.0.0.1:$netty_ceiling/|$jsonrpc_kib"
                    "ceiling: Reactor Netty per-loop proxy|http://127.0.0.1:$rn_ceiling/|$jsonrpc_kib")
fi
lat_rows=()
direct_p50=; direct_p90=; direct_p99=
rss_fixed_kb=0
# 15 s at the same rate first: at a low rate the JIT keeps recompiling for a while (the throughput runs
# profiled the code under saturation), and p99 falls round after round until it settles
for t in "${latency_targets[@]}"; do
  IFS='|' read -r name url body <<< "$t"
  hey -z 15s -c 16 -q 62.5 -m POST -T application/json -d "$body" "$url" > /dev/null
done
# then $rounds rounds, each target in turn: this machine's noise comes in spells of seconds that can
# hit any one target's run (haproxy's included); the median of the rounds is reported
declare -A lat
for r in $(seq 1 "$rounds"); do
  for t in "${latency_targets[@]}"; do
    IFS='|' read -r name url body <<< "$t"
    out=$(hey -z "$duration" -c 16 -q 62.5 -m POST -T application/json -d "$body" "$url")
    pct() { awk -v p="$1" '$1 == p"%" && $2 == "in" {printf "%.3f", $3 * 1000}' <<< "$out"; }
    lat[$name|p50]+="$(pct 50) "; lat[$name|p90]+="$(pct 90) "; lat[$name|p99]+="$(pct 99) "
    lat[$name|rps]+="$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<< "$out") "
    lat[$name|bad]=$(( ${lat[$name|bad]:-0} + $(awk '/\[[0-9]+\]/ && $1 != "[200]" {n += $2} END {print n + 0}' <<< "$out") ))
    if [ "$name" = "sidecar /rpc" ]; then rss_fixed_kb=$(ps -o rss= -p $rpc_pid | tr -d ' '); fi
  done
done
median() { tr ' ' '\n' <<< "$1" | awk 'NF' | sort -g | awk '{v[NR] = $1} END {printf "%s", (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
for t in "${latency_targets[@]}"; do
  IFS='|' read -r name url body <<< "$t"
  p50=$(median "${lat[$name|p50]}"); p90=$(median "${lat[$name|p90]}"); p99=$(median "${lat[$name|p99]}")
  rps=$(median "${lat[$name|rps]}")
  if [ "$name" = "app direct" ]; then direct_p50=$p50; direct_p90=$p90; direct_p99=$p99; fi
  lat_rows+=("$name|$rps|$p50|$p90|$p99|${lat[$name|bad]}|$(sed 's/ *$//; s/ / · /g' <<< "${lat[$name|p99]}")")
done
lat_table="| target | requests/s | p50 ms | p90 ms | p99 ms | added p50 | added p90 | added p99 | p99 of each round | non-200 |
|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
for r in "${lat_rows[@]}"; do
  IFS='|' read -r name rps p50 p90 p99 bad each <<< "$r"
  add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }
  lat_table+=$'\n'"| $name | $rps | $p50 | $p90 | $p99 | $(add "$p50" "$direct_p50") | $(add "$p90" "$direct_p90") | $(add "$p99" "$direct_p99") | $each | $bad |"
done

machine="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(java -version 2>&1 | head -1)"
table="| target | requests/s | ratio to haproxy | p50 | p99 | CPU µs/request | errors |
|---|---:|---:|---:|---:|---:|---|"
for r in "${results[@]}"; do
  IFS='|' read -r name rps p50 p99 errors us <<< "$r"
  ratio=$(awk -v a="$rps" -v b="$haproxy_rps" 'BEGIN { printf "%.2f", a / b }')
  table+=$'\n'"| $name | $rps | $ratio | $p50 | $p99 | $us | $errors |"
done
summary="Sidecar (/rpc one) RSS: idle $((rss_idle_kb / 1024)) MiB, after the throughput runs $((rss_load_kb / 1024)) MiB, under 1,000 requests/s $((rss_fixed_kb / 1024)) MiB; proxy-handler sidecar after the throughput runs $((rss_proxy_kb / 1024)) MiB. Start to first answer (bin/micro with a built jar, process start to the first 200, polled every 10 ms by the shell itself, no process per poll): ${first_answer_ms} ms, the median of five starts (${all_starts} ms); ${first_start}, ${first_build_ms} ms."

echo
echo "Machine: $machine"
echo "wrk -t$threads -c$connections -d$duration --latency, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "$table"
echo
echo "Latency at 1,000 requests/s (hey -c 16 -q 62.5, 1 KiB bodies), median of $rounds rounds, added over app direct:"
echo "$lat_table"
echo "$summary"

if [ -n "$write" ]; then
  doc="$root/docs/benchmarks.md"
  block="<!-- load:begin -->
Run $(date -u +%Y-%m-%d) on: $machine.
Command: \`sidecar-bench/load/run.sh --write --duration $duration --connections $connections --threads $threads --rounds $rounds\`
(\`wrk -t$threads -c$connections -d$duration --latency\`, POST with a JSON body; the app is nginx returning a fixed JSON-RPC reply).

(a) Throughput, \`wrk -t$threads -c$connections -d$duration --latency\`; CPU µs/request is the serving process's CPU time (user + system) over the run divided by the requests it answered (— where nginx serves the app and the proxy in one worker):

$table

(b) Latency at a fixed 1,000 requests/s, \`hey -z $duration -c 16 -q 62.5 -m POST\` with a 1 KiB JSON body, each target warmed 15 s at that rate, then $rounds rounds of every target in turn; each figure is the median over the rounds; \"added\" is over app direct in the same run, in ms:

$lat_table

(c) $summary
<!-- load:end -->"
  python3 - "$doc" "$block" <<'PY'
import re, sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"<!-- load:begin -->.*?<!-- load:end -->", lambda m: block, text, flags=re.S)
open(path, "w").write(text)
PY
  echo "written to $doc"
fi
