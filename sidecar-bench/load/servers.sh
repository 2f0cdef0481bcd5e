# Sourced by run.sh and pair.sh: the app and the baselines they measure the sidecar against, on loopback.
#   start_servers WORK   sets app_port, nginx_port, haproxy_port and haproxy_pid, and adds the pids to $pids:
#     the "app", nginx with one worker answering a fixed go-micro JSON-RPC reply to any request on $app_port,
#     the same nginx as a reverse proxy to it on $nginx_port, and haproxy (one thread) in front of it on
#     $haproxy_port.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# await_200 PORT: returns once GET /registry on 127.0.0.1:PORT answers 200, polling every 10 ms with the
# shell's own builtins (/dev/tcp, read -t as the pause): no process per poll. A curl per poll (about 24 ms
# of CPU each) with a sleep between delayed a start by 0.3-0.5 s on this machine's two cores (2026-12-02, six
# interleaved starts each: 1.10-1.62 s polled with curl, 0.72-1.02 s polled so, 0.74-1.00 s polled from
# inside one Python process that started the sidecar).
await_200() {
  local port=$1 line tick c
  exec {tick}<> <(:)
  while :; do
    if exec {c}<>"/dev/tcp/127.0.0.1/$port"; then
      printf 'GET /registry HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$c"
      line=
      IFS= read -r -t 2 line <&"$c" || true
      exec {c}<&-
      if [[ $line == "HTTP/1.1 200"* ]]; then
        break
      fi
    fi 2>/dev/null
    read -r -t 0.01 -u "$tick" || true
  done
  exec {tick}<&-
}
wait_port() { for _ in $(seq 1 200); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

start_servers() {
  local work=$1
  local reply='{"id":0,"result":{"msg":"Hello John"},"error":null}'
  app_port=$(free_port); nginx_port=$(free_port); haproxy_port=$(free_port)
  cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work;
  proxy_temp_path $work;
  upstream app { server 127.0.0.1:$app_port; keepalive 64; }
  server {
    listen 127.0.0.1:$app_port backlog=4096;
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '$reply'; }
  }
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    keepalive_requests 1000000;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
  cat > "$work/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$haproxy_port
  default_backend app
backend app
  http-reuse always
  server app1 127.0.0.1:$app_port
HAPROXY
  haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & haproxy_pid=$!; pids+=($haproxy_pid)
}
