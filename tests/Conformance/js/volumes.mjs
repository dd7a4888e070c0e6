// Volumes through Modal's JS SDK. Usage: node volumes.mjs <scenario>  (VOLUME names the volume).
import { modal, app, capture, run, withSandbox, main } from "./harness.mjs";

const volumeName = process.env.VOLUME ?? "features-volume";

const scenarios = {
  async "write-then-read"() {
    const missing = await capture(() => modal.volumes.fromName(volumeName + "-missing"));
    const vol = await modal.volumes.fromName(volumeName, { createIfMissing: true });
    const wrote = await withSandbox({ volumes: { "/data": vol } }, (sb) =>
      run(sb, ["sh", "-c", "mkdir -p /data/dir && echo persisted > /data/dir/file.txt && sync && cat /data/dir/file.txt"]));
    // A later sandbox, through a fresh lookup of the volume by name, at another path.
    const again = await modal.volumes.fromName(volumeName);
    const read = await withSandbox({ volumes: { "/mnt/vol": again } }, (sb) => run(sb, ["cat", "/mnt/vol/dir/file.txt"]));
    return { missing, sameId: vol.volumeId === again.volumeId, wrote, read };
  },
  async "shared-and-read-only"() {
    const vol = await modal.volumes.fromName(volumeName, { createIfMissing: true });
    const a = await modal.sandboxes.create(await app(), modal.images.fromRegistry(process.env.TEST_IMAGE), { volumes: { "/shared": vol } });
    const b = await modal.sandboxes.create(await app(), modal.images.fromRegistry(process.env.TEST_IMAGE), {
      volumes: { "/shared": vol, "/ro": vol.withMountOptions({ readOnly: true }) },
    });
    try {
      const write = await run(a, ["sh", "-c", "echo from-a > /shared/live.txt"]);
      const seenByB = await run(b, ["cat", "/shared/live.txt"]);
      const writeBack = await run(b, ["sh", "-c", "echo from-b >> /shared/live.txt"]);
      const seenByA = await run(a, ["cat", "/shared/live.txt"]);
      const readOnlyRead = await run(b, ["cat", "/ro/live.txt"]);
      const readOnlyWrite = await run(b, ["sh", "-c", "echo nope > /ro/denied.txt"]);
      const deniedExists = await run(a, ["sh", "-c", "test -e /shared/denied.txt && echo yes || echo no"]);
      return { write, seenByB, writeBack, seenByA, readOnlyRead, readOnlyWrite, deniedExists };
    } finally {
      await a.terminate();
      await b.terminate();
    }
  },
  async "read"() {
    // After an engine restart: the named volume and its data are still there.
    const vol = await modal.volumes.fromName(volumeName);
    return withSandbox({ volumes: { "/data": vol } }, (sb) => run(sb, ["cat", "/data/dir/file.txt"]));
  },
  async "bad-mounts"() {
    const vol = await modal.volumes.fromName(volumeName, { createIfMissing: true });
    const relative = await capture(() => withSandbox({ volumes: { "data": vol } }, () => 0));
    const root = await capture(() => withSandbox({ volumes: { "/": vol } }, () => 0));
    const badName = await capture(() => modal.volumes.fromName("bad name!", { createIfMissing: true }));
    const subPath = await capture(() => withSandbox({ volumes: { "/sub": vol.withMountOptions({ subPath: "../dir" }) } }, () => 0));
    return { relative, root, badName, subPath };
  },
};

await main(scenarios);
