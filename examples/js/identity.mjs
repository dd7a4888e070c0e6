// Sandbox identity: a readiness probe behind waitUntilReady, a connect token for HTTP requests to the sandbox's port
// 8080 (the engine's forward admits only requests carrying it), and a name set on a sandbox already running.
import { Probe } from "modal";
import { modal, baseImage, app } from "./common.mjs";

const server = `
import http.server
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello, " + self.headers.get("X-Verified-User-Data", "stranger")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", 8080), Echo).serve_forever()
`;

const a = await app();
const sb = await modal.sandboxes.create(a, baseImage(), {
  command: ["python3", "-c", server],
  readinessProbe: Probe.withTcp(8080),
});
try {
  await sb.waitUntilReady(60_000);
  console.log("ready: the server listens on 8080");

  const { url, token } = await sb.createConnectToken({ userMetadata: "alice" });
  const withToken = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  console.log("with the token:", withToken.status, await withToken.text());
  const withoutToken = await fetch(url);
  console.log("without it:", withoutToken.status);

  await sb.experimentalSetName("echo-server");
  const found = await modal.sandboxes.fromName("typedsandbox-examples", "echo-server");
  console.log("found by its new name:", found.sandboxId === sb.sandboxId);
} finally {
  await sb.terminate();
}
