#!/usr/bin/env bash
# Two builds of the sidecar side by side in one run, for a change's before and after figures:
#
#   sidecar-bench/load/pair.sh BEFORE.jar AFTER.jar [--path /rpc|/bench/call] [--rounds 2] [-- sidecar flags...]
#
# Starts an app (nginx, one worker, a fixed JSON-RPC reply), haproxy in front of it, and one sidecar per
# jar through bin/micro (its shipped JVM flags), both with the app registered as go.micro.srv.bench; warms
# both (wrk 20 s, then hey 15 s at 1,000 req/s), then for each round: each sidecar saturated (wrk -t2
# -c64 10 s) with the CPU microseconds per request of its process, haproxy saturated, each sidecar at
# 1,000 req/s (hey -c16, 1 KiB bodies, 20 s) with its p50/p90/p99 and CPU per request, haproxy at that
# rate. Use --path /bench/call for the catch-all, and "-- --handler=proxy" for the proxy handler.
# Build a jar of an earlier commit with: git worktree add /tmp/before COMMIT && (cd /tmp/before && mvn -q
# -DskipTests -Dcheckstyle.skip package -pl sidecar-server -am) (the jar is sidecar-server/target/micro.jar).
# To compare JVM flags on one jar, give the jar twice and BEFORE_JAVA_OPTIONS / AFTER_JAVA_OPTIONS: each is
# added to that side's shipped flags (through JDK_JAVA_OPTIONS), e.g. AFTER_JAVA_OPTIONS=-Dreactor.netty.ioWorkerCount=2;
# BEFORE_JAVA_OPTS / AFTER_JAVA_OPTS replace that side's flags instead (bin/micro's JAVA_OPTS).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -ge 2 ] || { sed -n 2,12p "$0" >&2; exit 2; }
before=$1; after=$2; shift 2
path=/rpc; rounds=2; flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --path) path=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --) shift; flags=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# shellcheck source=servers.sh
. "$root/sidecar-bench/load/servers.sh"
start_servers "$work"
a_port=$(free_port); b_port=$(free_port)
wait_port $app_port; wait_port $haproxy_port

start() { # jar port java-options replacing-opts -> pid
  JAVA_OPTS=$4 JDK_JAVA_OPTIONS=$3 MICRO_JAR=$1 "$root/bin/micro" sidecar --address=127.0.0.1:$2 "${flags[@]}" > "$work/sidecar-$2.log" 2>&1 & local p=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$2/registry"; do kill -0 $p || { cat "$work/sidecar-$2.log" >&2; exit 1; }; done
  curl -sf -d '{"name":"go.micro.srv.bench","nodes":[{"id":"bench-1","address":"127.0.0.1","port":'$app_port'}]}' \
    "http://127.0.0.1:$2/registry"
  echo $p
}
A=$(start "$before" $a_port "${BEFORE_JAVA_OPTIONS:-}" "${BEFORE_JAVA_OPTS:-}"); pids+=($A)
B=$(start "$after" $b_port "${AFTER_JAVA_OPTIONS:-}" "${AFTER_JAVA_OPTS:-}"); pids+=($B)

kib=$(python3 -c 'print("x" * 1000)')
jsonrpc='{"method":"Bench.Call","params":[{"name":"John"}],"id":0}'
jsonrpc_kib='{"method":"Bench.Call","params":[{"name":"'$kib'"}],"id":0}'
if [[ " ${flags[*]} " == *" --handler=proxy "* ]]; then sat=$jsonrpc; low=$jsonrpc_kib
elif [ "$path" = /rpc ]; then
  sat='{"service":"go.micro.srv.bench","method":"Bench.Call","request":{"name":"John"}}'
  low='{"service":"go.micro.srv.bench","method":"Bench.Call","request":{"name":"'$kib'"}}'
else sat='{"name":"John"}'; low='{"name":"'$kib'"}'; fi
lua="$root/sidecar-bench/load/post.lua"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

for p in $a_port $b_port; do WRK_BODY=$sat wrk -t2 -c64 -d20s -s "$lua" "http://127.0.0.1:$p$path" > /dev/null; done
for p in $a_port $b_port; do hey -z 15s -c 16 -q 62.5 -m POST -T application/json -d "$low" "http://127.0.0.1:$p$path" > /dev/null; done
echo "pair.sh $(date -u +%Y-%m-%dT%H:%MZ), path $path ${flags[*]}: before $before ${BEFORE_JAVA_OPTIONS:-}${BEFORE_JAVA_OPTS:-}, after $after ${AFTER_JAVA_OPTIONS:-}${AFTER_JAVA_OPTS:-}"
for r in $(seq 1 "$rounds"); do
  for x in "before $a_port $A" "after $b_port $B"; do
    set -- $x
    c0=$(cpu $3); out=$(WRK_BODY=$sat wrk -t2 -c64 -d10s -s "$lua" "http://127.0.0.1:$2$path"); c1=$(cpu $3)
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    echo "round $r $1 saturated: $(awk '/Requests\/sec/ {print $2}' <<< "$out") req/s," \
      "$(awk -v a=$c0 -v b=$c1 -v n=$n -v hz=$hz 'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}') us/request"
  done
  echo "round $r haproxy saturated: $(WRK_BODY=$jsonrpc wrk -t2 -c64 -d10s -s "$lua" "http://127.0.0.1:$haproxy_port/" | awk '/Requests\/sec/ {print $2}') req/s"
  for x in "before $a_port $A" "after $b_port $B"; do
    set -- $x
    c0=$(cpu $3)
    out=$(hey -z 20s -c 16 -q 62.5 -m POST -T application/json -d "$low" "http://127.0.0.1:$2$path")
    c1=$(cpu $3); n=$(awk '/\[200\]/ {print $2}' <<< "$out")
    echo "round $r $1 at 1,000 req/s: p50/p90/p99 $(awk '$2 == "in" && ($1 == "50%" || $1 == "90%" || $1 == "99%") {printf "%.1f ", $3 * 1000}' <<< "$out")ms," \
      "$(awk -v a=$c0 -v b=$c1 -v n=${n:-1} -v hz=$hz 'BEGIN {printf "%.0f", (b - a) * 1e6 / hz / n}') us/request"
  done
  out=$(hey -z 20s -c 16 -q 62.5 -m POST -T application/json -d "$jsonrpc_kib" "http://127.0.0.1:$haproxy_port/")
  echo "round $r haproxy at 1,000 req/s: p50/p90/p99 $(awk '$2 == "in" && ($1 == "50%" || $1 == "90%" || $1 == "99%") {printf "%.1f ", $3 * 1000}' <<< "$out")ms"
done
echo "RSS after the runs: before $(ps -o rss= -p "$A" | awk '{printf "%.0f", $1 / 1024}') MiB, after $(ps -o rss= -p "$B" | awk '{printf "%.0f", $1 / 1024}') MiB"
