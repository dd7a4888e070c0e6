// Filesystem parity with Modal's 0.11.1 SDK: snapshotDirectory, mountImage/unmountImage, reloadVolumes, volume
// subPath, /tmp in snapshotFilesystem. Usage: node fs-parity.mjs <scenario>  (VOLUME names the volume).
import { modal, app, image, capture, sh, withSandbox, main } from "./harness.mjs";

const volumeName = process.env.VOLUME ?? "fs-parity";

const scenarios = {
  async "tmp-in-snapshot"() {
    const snap = await withSandbox({}, async (sb) => {
      await sh(sb, "echo kept-in-tmp > /tmp/x");
      return sb.snapshotFilesystem();
    });
    const read = await withSandbox({}, (sb) => sh(sb, "cat /tmp/x"), snap);
    return { read };
  },
  async "snapshot-and-mount"() {
    const snap = await withSandbox({}, async (sb) => {
      await sh(sb, "mkdir -p /work/out/sub && echo from-a > /work/out/a.txt && echo nested > /work/out/sub/b.txt && echo elsewhere > /work/c.txt");
      const img = await sb.snapshotDirectory("/work/out");
      const missing = await capture(() => sb.snapshotDirectory("/work/none"));
      return { imageId: img.imageId, img, missing };
    });
    return withSandbox({}, async (sb) => {
      await sb.mountImage("/mnt/snap", snap.img);
      const listing = await sh(sb, "cat /mnt/snap/a.txt /mnt/snap/sub/b.txt; ls /mnt/snap");
      const write = await sh(sb, "echo no > /mnt/snap/new.txt");
      const twice = await capture(() => sb.mountImage("/mnt/snap", snap.img));
      await sb.unmountImage("/mnt/snap");
      const afterUnmount = await sh(sb, "ls -A /mnt/snap | wc -l");
      const notMounted = await capture(() => sb.unmountImage("/mnt/snap"));
      await sb.mountImage("/mnt/scratch");
      const empty = await sh(sb, "ls -A /mnt/scratch | wc -l; echo w > /mnt/scratch/f && cat /mnt/scratch/f");
      const relative = await capture(() => sb.mountImage("mnt/rel", snap.img));
      return { imageId: snap.imageId, missing: snap.missing, listing, write, twice, afterUnmount, notMounted, empty, relative };
    });
  },
  async "reload-volumes"() {
    const vol = await modal.volumes.fromName(volumeName, { createIfMissing: true });
    const a = await modal.sandboxes.create(await app(), image(), { volumes: { "/shared": vol } });
    const b = await modal.sandboxes.create(await app(), image(), { volumes: { "/shared": vol } });
    try {
      await sh(a, "echo written-by-a > /shared/reload.txt && sync");
      await b.reloadVolumes();
      const seen = await sh(b, "cat /shared/reload.txt");
      return { seen };
    } finally {
      await a.terminate();
      await b.terminate();
    }
  },
  async "sub-path"() {
    const vol = await modal.volumes.fromName(volumeName, { createIfMissing: true });
    // Another sandbox prepares the volume: a real directory, and links that point out of it.
    await withSandbox({ volumes: { "/v": vol } }, (sb) =>
      sh(sb, "mkdir -p /v/project/data && echo inside > /v/project/data/f.txt && ln -sfn /etc /v/escape && ln -sfn ../../.. /v/project/up && ln -sfn project /v/alias"));
    const sub = await withSandbox({ volumes: { "/data": vol.withMountOptions({ subPath: "project/data" }) } }, (sb) =>
      sh(sb, "cat /data/f.txt; ls -A /data"));
    const attempt = (subPath) => capture(() => withSandbox({ volumes: { "/data": vol.withMountOptions({ subPath }) } }, (sb) => sh(sb, "ls /data")));
    return {
      sub,
      absoluteLink: await attempt("escape"),
      relativeLink: await attempt("project/up"),
      linkedParent: await attempt("alias/data"),
      dotDot: await attempt("project/../.."),
      absolute: await attempt("/etc"),
      missing: await attempt("project/none"),
    };
  },
  async "mount-hides"() {
    const img = await withSandbox({}, async (sb) => {
      await sh(sb, "mkdir -p /out && echo from-image > /out/i.txt");
      return sb.snapshotDirectory("/out");
    });
    return withSandbox({}, async (sb) => withSandbox({}, async (other) => {
      await sh(sb, "mkdir -p /srv/data && echo before > /srv/data/old.txt && ls /srv/data");
      await sb.mountImage("/srv/data", img);
      const mounted = await sh(sb, "ls /srv/data; cat /srv/data/i.txt");
      const elsewhere = await sh(other, "ls -A /srv 2>/dev/null | wc -l");
      await sb.unmountImage("/srv/data");
      const after = await sh(sb, "ls /srv/data; cat /srv/data/old.txt");
      const reload = await capture(() => sb.reloadVolumes());
      return { mounted, elsewhere, after, reload };
    }));
  },
};

await main(scenarios);
