// Tunnels, filesystem snapshots and the idle timeout.
// - a port declared at create is forwarded from 127.0.0.1:<port> on the host (sb.tunnels());
// - snapshotFilesystem() returns an image that starts new sandboxes with the files;
// - a sandbox with an idle timeout ends with IDLE_TIMEOUT when nothing runs in it.
import { modal, app, sh } from "./common.mjs";

const a = await app();
// python3 serves HTTP; IMAGE can name any image with python3 (the Debian default gets it from its apt packages).
const image = modal.images
  .fromRegistry(process.env.IMAGE ?? "debian:bookworm-slim")
  .dockerfileCommands(process.env.IMAGE ? [] : ["RUN apt-get update && apt-get install -y --no-install-recommends python3"]);

const web = await modal.sandboxes.create(a, image, {
  command: ["python3", "-m", "http.server", "8080", "--directory", "/srv"],
  encryptedPorts: [8080],
  workdir: "/srv",
});
await sh(web, "echo 'served from the sandbox' > /srv/index.html");
const tunnel = (await web.tunnels())[8080];
const [host, port] = tunnel.tcpSocket;
for (let i = 0; i < 50; i++) {
  try {
    console.log("through the tunnel:", (await (await fetch(`http://${host}:${port}/`)).text()).trim());
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}

const snapshot = await web.snapshotFilesystem();
await web.terminate();
const restored = await modal.sandboxes.create(a, snapshot);
console.log("a sandbox from the snapshot sees:", (await sh(restored, "cat /srv/index.html")).trim());
await restored.terminate();

const idle = await modal.sandboxes.create(a, image, { idleTimeoutMs: 2000 });
console.log("idle sandbox ended with", await idle.wait(), "(124 = idle timeout)");
