#!/usr/bin/env bash
# Fan-out on loopback, with the baseline in the same run so the ratios mean something: one publisher,
# N WebSocket subscribers of one topic, against ONE sidecar (memory broker, POST /broker to publish,
# GET /broker WebSockets to subscribe) and against nats-server with its WebSocket listener (plain TCP
# PUB to publish, NATS over WebSocket to subscribe). Prints a table and, with --write, puts it in
# docs/benchmarks.md between <!-- fanout:begin --> and <!-- fanout:end -->.
#
#   sidecar-bench/load/fanout.sh [--write] [--subscribers "10 100 1000"] [--rate 1000] [--duration 10s]
#                                [--warmup 2s] [--size 64] [--no-build]
#
# The client is io.micro.sidecar.bench.load.FanoutClient (sidecar-bench/target/benchmarks.jar): the
# publisher stamps each message with its nanoTime, the subscribers in the same JVM measure
# publish-to-delivery latency. Installs nats-server from Debian when missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
subscribers="10 100 1000"; rate=1000; duration=10s; warmup=2s; size=64; write=; build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --write) write=1 ;;
    --subscribers) subscribers=$2; shift ;;
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --size) size=$2; shift ;;
    --no-build) build= ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v nats-server >/dev/null; then
  sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nats-server
fi
nats_bin=$(command -v nats-server)

jar="$root/sidecar-server/target/micro.jar"
bench="$root/sidecar-bench/target/benchmarks.jar"
if [ -n "$build" ] || [ ! -f "$jar" ] || [ ! -f "$bench" ]; then
  (cd "$root" && mvn -B -q -DskipTests package -pl sidecar-server,sidecar-bench -am)
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 200); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

sidecar_port=$(free_port); nats_port=$(free_port); nats_ws_port=$(free_port)

MICRO_JAR=$jar "$root/bin/micro" sidecar --address=127.0.0.1:$sidecar_port > "$work/sidecar.log" 2>&1 & sidecar_pid=$!; pids+=($sidecar_pid)

cat > "$work/nats.conf" <<NATS
listen: 127.0.0.1:$nats_port
max_connections: 10000
websocket {
  listen: "127.0.0.1:$nats_ws_port"
  no_tls: true
}
NATS
"$nats_bin" -c "$work/nats.conf" > "$work/nats.log" 2>&1 & nats_pid=$!; pids+=($nats_pid)
wait_port $sidecar_port; wait_port $nats_port; wait_port $nats_ws_port

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || true; }
hz=$(getconf CLK_TCK)
# One client run; its RESULT line gains the CPU seconds the client and the server ($1, a pid) used over
# the whole run: all three share the cores, so a server that costs less leaves more to the client.
client() {
  local server=$1; shift
  local s0 c=0 last=0
  s0=$(ticks "$server")
  java -Xms256m -Xmx1g -cp "$bench" io.micro.sidecar.bench.load.FanoutClient \
    --rate "$rate" --duration "$duration" --warmup "$warmup" --size "$size" "$@" > "$work/client.out" & c=$!
  while kill -0 "$c" 2>/dev/null; do last=$(ticks "$c"); last=${last:-0}; sleep 0.2; done
  wait "$c" || true
  echo "$(grep '^RESULT' "$work/client.out") client_cpu_s=$(awk -v t="$last" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }') server_cpu_s=$(awk -v a="$s0" -v b="$(ticks "$server")" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz }')"
}
field() { tr ' ' '\n' <<< "$1" | awk -F= -v k="$2" '$1==k {print $2}'; }
ms() { awk -v us="$1" 'BEGIN { printf (us >= 1000 ? "%.1f ms" : "%d us"), (us >= 1000 ? us / 1000 : us) }'; }

# warm the sidecar's JIT with a short run nobody reads
client "$sidecar_pid" --target sidecar --subscribe "ws://127.0.0.1:$sidecar_port/broker?topic=warm" \
  --publish "http://127.0.0.1:$sidecar_port/broker?topic=warm" --subscribers 50 --duration 5s > /dev/null || true

rows=()
for n in $subscribers; do
  s=$(client "$sidecar_pid" --target sidecar --subscribers "$n" --subscribe "ws://127.0.0.1:$sidecar_port/broker?topic=fanout" \
      --publish "http://127.0.0.1:$sidecar_port/broker?topic=fanout")
  echo "$s" >&2
  q=$(client "$nats_pid" --target nats --subscribers "$n" --subscribe "ws://127.0.0.1:$nats_ws_port" \
      --publish "nats://127.0.0.1:$nats_port")
  echo "$q" >&2
  rows+=("$n|$s|$q")
done
rss_kb=$(ps -o rss= -p $sidecar_pid | tr -d ' ')

machine="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(java -version 2>&1 | head -1), $("$nats_bin" --version)"
table="| subscribers | target | offered deliveries/s | delivered msgs/s | ratio to nats | lost | publishes not taken | p50 | p99 | p99.9 | server CPU s | client CPU s |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do
  IFS='|' read -r n s q <<< "$r"
  nats_rate=$(field "$q" delivered_per_s)
  for line in "$s" "$q"; do
    target=$(field "$line" target)
    delivered=$(field "$line" delivered_per_s)
    ratio=$(awk -v a="$delivered" -v b="$nats_rate" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }')
    offered=$((rate * n))
    extra=
    [ "$(field "$line" closed_early)" != 0 ] && extra=" ($(field "$line" closed_early) subscribers cut off)"
    table+=$'\n'"| $n | $target | $offered | $delivered | $ratio | $(field "$line" loss_pct)%$extra | $(field "$line" publish_errors) of $(field "$line" sent) | $(ms "$(field "$line" p50_us)") | $(ms "$(field "$line" p99_us)") | $(ms "$(field "$line" p999_us)") | $(field "$line" server_cpu_s) | $(field "$line" client_cpu_s) |"
  done
done
summary="Sidecar RSS after the runs: $((rss_kb / 1024)) MiB. Message body $size bytes; the sidecar's subscribers get it base64 in a JSON frame, NATS's raw in a MSG."

echo
echo "Machine: $machine"
echo "publish rate $rate msg/s, warm-up $warmup, measured $duration per point, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "$table"
echo "$summary"

if [ -n "$write" ]; then
  doc="$root/docs/benchmarks.md"
  block="<!-- fanout:begin -->
Run $(date -u +%Y-%m-%d) on: $machine.
Command: \`sidecar-bench/load/fanout.sh --write --subscribers \"$subscribers\" --rate $rate --duration $duration --warmup $warmup --size $size\`
(one publisher at $rate msg/s for $duration after a $warmup warm-up; \"offered\" is rate × subscribers, \"delivered\" counts
messages published in the window and received by any subscriber, per second of the window; \"publishes not taken\" are
messages the publisher could not hand over — for the sidecar, POSTs beyond 256 in flight or not answered 200;
CPU seconds are each process's user + system time over the whole client run, warm-up and drain included).

$table

$summary
<!-- fanout:end -->"
  python3 - "$doc" "$block" <<'PY'
import re, sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
if "<!-- fanout:begin -->" not in text:
    sys.exit("docs/benchmarks.md has no <!-- fanout:begin --> marker")
text = re.sub(r"<!-- fanout:begin -->.*?<!-- fanout:end -->", lambda m: block, text, flags=re.S)
open(path, "w").write(text)
PY
  echo "written to $doc"
fi
