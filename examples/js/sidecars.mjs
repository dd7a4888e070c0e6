// Sidecar containers (experimental in Modal's SDK): a second container from another image that shares the sandbox's
// network (each reaches the other's servers on 127.0.0.1) but has its own filesystem, processes and lifetime.
import { modal, baseImage, app, sh } from "./common.mjs";

const a = await app();
// The sidecar's image: another image than the sandbox's, built before it is used.
const sidecarImage = await baseImage().dockerfileCommands(["RUN echo 'I live in the sidecar' > /sidecar.txt"]).build(a);

const sb = await modal.sandboxes.create(a, baseImage());
try {
  // A server in the main container, listening on its loopback only.
  await sh(sb, "mkdir -p /srv && echo 'hello from main' > /srv/index.html && (cd /srv && nohup python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &)");

  const helper = await sb.experimentalSidecars.create("helper", sidecarImage, { env: { ROLE: "helper" } });
  console.log("sidecar file:", (await sh(helper, "cat /sidecar.txt")).trim());
  console.log("main container has it:", (await sh(sb, "test -e /sidecar.txt && echo yes || echo no")).trim());
  const fetchMain = "import time, urllib.request\nfor _ in range(100):\n  try:\n    print(urllib.request.urlopen('http://127.0.0.1:8080/').read().decode().strip()); break\n  except OSError: time.sleep(0.1)";
  console.log("sidecar reached the main server:", (await sh(helper, `python3 -c "${fetchMain}"`)).trim());
  console.log("sidecars:", (await sb.experimentalSidecars.list()).map((c) => c.containerName));

  const code = await helper.terminate({ wait: true });
  console.log(`after terminate: exit code ${code}, sandbox still running: ${(await sb.poll()) === null}`);

  const worker = await sb.experimentalSidecars.create("worker", sidecarImage, { command: ["sh", "-c", "exit 4"] });
  console.log("worker exited with", await worker.wait());
} finally {
  await sb.terminate();
}
