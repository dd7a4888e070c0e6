// Outbound header replacement: an experimentalOutboundPolicy makes the engine's egress proxy, outside the sandbox, set
// headers on the sandbox's plain HTTP requests (port 80) to matching names, replacing any the sandbox sent itself. Values
// may use $KEY from a named secret (create it first with the engine's command:
//   dotnet run --project src/Server -- secret set examples-db DB_PASSWORD=hunter2 --state-dir <the engine's state dir>),
// so the secret never enters the sandbox; experimentalUpdateOutboundPolicy replaces the rules while it runs.
//
// The proxy sends a request only to the address its Host name has on the engine's host, never to one the sandbox
// picked. So that this example needs no server beyond this machine, its server runs in the sandbox and the requests name
// "localhost": the proxy connects from the sandbox's network namespace, where loopback is the sandbox itself. In real
// use the replacement's domain is your API's ("api.example.com", "*.example.com"), not "*", which matches every name.
import { ExperimentalOutboundPolicy } from "modal";
import { modal, app, sh } from "./common.mjs";

// The server and the client below use Python; any image with python3 works.
const pythonImage = () => modal.images.fromRegistry(process.env.IMAGE ?? "python:3.13-slim");

// Answers every GET with the two headers it received.
const server = `
import http.server
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"X-Example={self.headers.get('X-Example')} Authorization={self.headers.get('Authorization')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("0.0.0.0", 80), Echo).serve_forever()
`;

// Waits for the server on loopback (not redirected), then sends a request with its own Authorization to a
// documentation address (192.0.2.1) naming "localhost": the proxy takes it, sets the headers and delivers it.
const client = `
import socket, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", 80), timeout=1).close()
        break
    except OSError:
        time.sleep(0.05)
s = socket.create_connection(("192.0.2.1", 80), timeout=10)
s.sendall(b"GET / HTTP/1.0\\r\\nHost: localhost\\r\\nAuthorization: Bearer guessed-in-the-sandbox\\r\\n\\r\\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.decode().split("\\r\\n\\r\\n", 1)[1])
`;

const db = await modal.secrets.fromName("examples-db", { requiredKeys: ["DB_PASSWORD"] });
const sb = await modal.sandboxes.create(await app(), pythonImage(), {
  command: ["python3", "-c", server],
  experimentalOutboundPolicy: new ExperimentalOutboundPolicy().withHeaderReplacement({ domain: "*", headers: { "X-Example": "set by the engine" } }),
});
console.log("the server received:", (await sh(sb, `python3 -c '${client}'`)).trim());

await sb.experimentalUpdateOutboundPolicy(
  new ExperimentalOutboundPolicy().withHeaderReplacement({ domain: "*", secret: db, headers: { Authorization: "Bearer $DB_PASSWORD" } }),
);
console.log("after the live update:", (await sh(sb, `python3 -c '${client}'`)).trim());
await sb.terminate();
