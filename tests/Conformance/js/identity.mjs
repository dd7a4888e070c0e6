// Sandbox identity through Modal's JS SDK: names set later, connect tokens, readiness probes, placement names,
// experimental options, makeDirectory on a file. Usage: node identity.mjs <scenario>  (TEST_APP names the app).
import { Probe } from "modal";
import { modal, image, app, capture, main } from "./harness.mjs";

const appName = process.env.TEST_APP ?? "identity";

// A web server on 8080 that answers with what the connect-token forward passed on; it starts listening after a second.
const server = `
import http.server, time
time.sleep(1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("path=%s user=%s auth=%s" % (self.path, self.headers.get("X-Verified-User-Data", ""), self.headers.get("Authorization", ""))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", 8080), H).serve_forever()
`;

const get = async (url, headers = {}) => {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.text() };
};

const scenarios = {
  async "names"() {
    const a = await app();
    const first = await modal.sandboxes.create(a, image());
    const second = await modal.sandboxes.create(a, image());
    try {
      await first.experimentalSetName("named-later");
      const found = (await modal.sandboxes.fromName(appName, "named-later")).sandboxId;
      const taken = await capture(() => second.experimentalSetName("named-later"));
      const again = await capture(() => first.experimentalSetName("another-name"));
      const invalid = await capture(() => modal.cpClient.sandboxSetName({ sandboxId: second.sandboxId, name: "has space" }));
      await first.terminate();
      await first.wait();
      const afterStop = await capture(() => modal.sandboxes.fromName(appName, "named-later"));
      await second.experimentalSetName("named-later");
      const reused = (await modal.sandboxes.fromName(appName, "named-later")).sandboxId;
      const onFinished = await capture(() => first.experimentalSetName("too-late"));
      return { firstId: first.sandboxId, secondId: second.sandboxId, found, taken, again, invalid, afterStop, reused, onFinished };
    } finally {
      await first.terminate();
      await second.terminate();
    }
  },
  async "connect-and-probe"() {
    const a = await app();
    const web = await modal.sandboxes.create(a, image(process.env.PYTHON_IMAGE), {
      command: ["python3", "-c", server],
      readinessProbe: Probe.withTcp(8080, { intervalMs: 50 }),
    });
    const other = await modal.sandboxes.create(a, image());
    try {
      await web.waitUntilReady(60000);
      const creds = await web.createConnectToken({ userMetadata: "user-42" });
      const otherCreds = await other.createConnectToken();
      return {
        url: creds.url,
        withHeader: await get(creds.url + "/hello", { Authorization: `Bearer ${creds.token}` }),
        withQuery: await get(`${creds.url}/q?a=1&_modal_connect_token=${creds.token}`),
        without: await get(creds.url + "/hello"),
        wrongToken: await get(creds.url + "/hello", { Authorization: "Bearer ct-not-a-token" }),
        foreignToken: await get(creds.url + "/hello", { Authorization: `Bearer ${otherCreds.token}` }),
        badPort: await capture(() => web.createConnectToken({ port: 70000 })),
      };
    } finally {
      await web.terminate();
      await other.terminate();
    }
  },
  async "exec-probe"() {
    const a = await app();
    const ready = await modal.sandboxes.create(a, image(), {
      command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 600"],
      readinessProbe: Probe.withExec(["test", "-f", "/tmp/ready"], { intervalMs: 50 }),
    });
    const never = await modal.sandboxes.create(a, image(), { readinessProbe: Probe.withExec(["false"], { intervalMs: 50 }) });
    try {
      const passed = await capture(() => ready.waitUntilReady(60000));
      const marker = await (await ready.exec(["cat", "/tmp/ready"])).wait();
      const timedOut = await capture(() => never.waitUntilReady(1500));
      return { passed, marker, timedOut };
    } finally {
      await ready.terminate();
      await never.terminate();
    }
  },
  async "placement-and-options"() {
    const a = await app();
    const create = (params) => capture(async () => {
      const sb = await modal.sandboxes.create(a, image(), params);
      await sb.terminate();
      return sb.sandboxId;
    });
    return {
      known: await create({ cloud: "aws", regions: ["us-east", "eu-west-1", "us-central1"] }),
      badCloud: await create({ cloud: "moon" }),
      badRegion: await create({ regions: ["moon-base"] }),
      docker: await create({ experimentalOptions: { enable_docker: true } }),
      unknownOption: await create({ experimentalOptions: { warp_drive: "on" } }),
    };
  },
  async "make-directory"() {
    const a = await app();
    const sb = await modal.sandboxes.create(a, image());
    try {
      const fs = sb.filesystem;
      await fs.writeText("x", "/tmp/f.txt");
      return {
        onFile: await capture(() => fs.makeDirectory("/tmp/f.txt")),
        onFileNoParents: await capture(() => fs.makeDirectory("/tmp/f.txt", { createParents: false })),
        underFile: await capture(() => fs.makeDirectory("/tmp/f.txt/sub")),
      };
    } finally {
      await sb.terminate();
    }
  },
};

await main(scenarios);
