#!/usr/bin/env python3
"""A JSON-RPC app as written for the original micro sidecar: Python's standard library only.

Prints the port it listens on, then serves go-micro's JSON-RPC over HTTP: POST / with
{"method": "Example.Call", "params": [{"name": "John"}], "id": 0}.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers["Content-Length"])
        req = json.loads(self.rfile.read(length))
        if req["method"] == "Example.Call":
            answer = {"id": req["id"], "result": {"msg": "python: Hello " + req["params"][0]["name"]}, "error": None}
        else:
            answer = {"id": req["id"], "result": None, "error": "unknown method " + req["method"]}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
