// Volumes: a named volume outlives sandboxes (and engine restarts); two sandboxes can share it; a read-only mount
// refuses writes.
import { modal, baseImage, app, sh } from "./common.mjs";

const a = await app();
const vol = await modal.volumes.fromName("examples-data", { createIfMissing: true });

const writer = await modal.sandboxes.create(a, baseImage(), { volumes: { "/data": vol } });
await sh(writer, "date > /data/last-run.txt && echo written");
const reader = await modal.sandboxes.create(a, baseImage(), { volumes: { "/data": vol.withMountOptions({ readOnly: true }) } });
console.log("the reader sees:", await sh(reader, "cat /data/last-run.txt"));
const denied = await reader.exec(["sh", "-c", "echo x > /data/nope.txt"]);
console.log("a write to the read-only mount exits with", await denied.wait(), (await denied.stderr.readText()).trim());
await Promise.all([writer.terminate(), reader.terminate()]);

const later = await modal.sandboxes.create(a, baseImage(), { volumes: { "/mnt/again": vol } });
console.log("a later sandbox sees:", await sh(later, "cat /mnt/again/last-run.txt"));
await later.terminate();
