// Directory snapshots, image mounts, volume reloads and sub paths with Modal's JS SDK against the local engine.
// Run: MODAL_CONFIG_PATH=<state-dir>/modal.toml node filesystems-advanced.mjs
import { modal, baseImage, app, sh } from "./common.mjs";

const builder = await modal.sandboxes.create(await app(), baseImage());
const worker = await modal.sandboxes.create(await app(), baseImage());
try {
  // Build something in one sandbox and keep just that directory as an image.
  await sh(builder, "mkdir -p /build/dist && echo 'compiled artifact' > /build/dist/app.txt");
  const dist = await builder.snapshotDirectory("/build/dist");
  console.log("directory snapshot:", dist.imageId);

  // Mount it read-only in another running sandbox, then take it away again.
  await worker.mountImage("/opt/dist", dist);
  console.log("mounted:", (await sh(worker, "cat /opt/dist/app.txt")).trim());
  await worker.unmountImage("/opt/dist");
  console.log("after unmount, files:", (await sh(worker, "ls -A /opt/dist | wc -l")).trim());

  // With no image, mountImage gives an empty writable directory.
  await worker.mountImage("/scratch");
  console.log("scratch:", (await sh(worker, "echo ok > /scratch/f && cat /scratch/f")).trim());
} finally {
  await builder.terminate();
  await worker.terminate();
}

// Volumes: mount only one directory of a volume (subPath); reloadVolumes shows the latest state.
const vol = await modal.volumes.fromName("examples-advanced", { createIfMissing: true });
const writer = await modal.sandboxes.create(await app(), baseImage(), { volumes: { "/vol": vol } });
try {
  await sh(writer, "mkdir -p /vol/projects/alpha && echo 'alpha notes' > /vol/projects/alpha/notes.txt");
  const reader = await modal.sandboxes.create(await app(), baseImage(), {
    volumes: { "/alpha": vol.withMountOptions({ subPath: "projects/alpha", readOnly: true }) },
  });
  try {
    console.log("sub path shows:", (await sh(reader, "ls /alpha")).trim());
    await sh(writer, "echo 'more' >> /vol/projects/alpha/notes.txt");
    await reader.reloadVolumes();
    console.log("after reloadVolumes:", (await sh(reader, "wc -l < /alpha/notes.txt")).trim(), "lines");
  } finally {
    await reader.terminate();
  }
} finally {
  await writer.terminate();
}
modal.close?.();
