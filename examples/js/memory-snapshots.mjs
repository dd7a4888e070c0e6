// Memory snapshots, exit snapshots and a per-sandbox runtime on the local engine.
// A Python process counts in memory; the sandbox is snapshotted (gVisor checkpoints it whole) and a new sandbox
// restored from the snapshot carries on counting. This engine's gVisor stops the sandbox it snapshots.
import { modal, baseImage, app, sh } from "./common.mjs";

const counter = "import time\nn = 0\nwhile True:\n    n += 1\n    open('/tmp/n', 'w').write(str(n))\n    time.sleep(0.1)\n";

const sb = await modal.sandboxes.create(await app(), baseImage(), { experimentalEnableSnapshot: true, blockNetwork: true });
await sh(sb, `nohup python3 -c "${counter}" >/dev/null 2>&1 &`);
await new Promise((r) => setTimeout(r, 1500));
console.log(`counted before the snapshot: ${await sh(sb, "cat /tmp/n")}`);
const snapshot = await sb.experimentalSnapshot();
const restored = await modal.sandboxes.experimentalFromSnapshot(await modal.sandboxSnapshots.fromId(snapshot.snapshotId));
await new Promise((r) => setTimeout(r, 1000));
console.log(`the restored sandbox counts on: ${await sh(restored, "cat /tmp/n")}`);
await restored.terminate();

// runtime: "gvisor" runs one sandbox under gVisor whatever the engine's default runtime.
const gvisor = await modal.sandboxes.create(await app(), baseImage(), { runtime: "gvisor" });
console.log(`gVisor kernel: ${(await sh(gvisor, "cat /proc/version")).trim()}`);
await gvisor.terminate();

// Exit snapshots: what the sandbox wrote becomes an image when it ends.
const exiting = await modal.sandboxes.create(await app(), baseImage(), { experimentalOptions: { enable_exit_snapshot: true } });
await sh(exiting, "echo kept after exit > /root/note.txt");
await exiting.terminate();
const image = await exiting.experimentalGetExitSnapshot();
const next = await modal.sandboxes.create(await app(), image);
console.log(`a sandbox from the exit snapshot reads: ${(await sh(next, "cat /root/note.txt")).trim()}`);
await next.terminate();
