// Per-sandbox runtime, memory snapshots (gVisor checkpoint/restore) and exit snapshots through Modal's JS SDK.
import { modal, app, image, capture, sh, main } from "./harness.mjs";

const python = () => image(process.env.PYTHON_IMAGE ?? "python:3.13-slim");

// A process that keeps a counter (and a random token) only in its memory, writing both to /tmp every 100 ms.
const counter = `
import os, time
token = os.urandom(6).hex()
n = 0
while True:
    n += 1
    with open('/tmp/count.new', 'w') as f:
        f.write(f'{token} {n}')
    os.replace('/tmp/count.new', '/tmp/count')
    time.sleep(0.1)
`;

const readCount = async (sb) => (await sh(sb, "cat /tmp/count")).stdout.split(" ");

async function waitForCount(sb, atLeast) {
  for (;;) {
    const [token, n] = await readCount(sb);
    if (Number(n) >= atLeast) return [token, Number(n)];
    await new Promise((r) => setTimeout(r, 100));
  }
}

await main({
  async memory() {
    const sb = await modal.sandboxes.create(await app(), python(), { experimentalEnableSnapshot: true, blockNetwork: true });
    let restored;
    try {
      await sh(sb, `echo on-disk > /root/marker; nohup python3 -c "${counter}" > /dev/null 2>&1 &`);
      const [token, before] = await waitForCount(sb, 5);
      const snapshot = await sb.experimentalSnapshot();
      const original = await sb.poll();
      const again = await modal.sandboxSnapshots.fromId(snapshot.snapshotId);
      restored = await modal.sandboxes.experimentalFromSnapshot(again);
      const [tokenAfter, after] = await waitForCount(restored, before + 5);
      const marker = (await sh(restored, "cat /root/marker")).stdout;
      const exec = await sh(restored, "echo exec-in-restored; cat /proc/1/cmdline | tr '\\0' ' '");
      return {
        snapshotId: snapshot.snapshotId, originalId: sb.sandboxId, restoredId: restored.sandboxId, originalExit: original,
        sameToken: token === tokenAfter, before, after, marker, exec: exec.stdout,
      };
    } finally {
      await restored?.terminate();
      await sb.terminate();
    }
  },

  async "snapshot-not-enabled"() {
    const sb = await modal.sandboxes.create(await app(), image(), {});
    try {
      return { refused: await capture(() => sb.experimentalSnapshot()) };
    } finally {
      await sb.terminate();
    }
  },

  async "runtime-gvisor"() {
    const gvisor = await modal.sandboxes.create(await app(), image(), { runtime: "gvisor" });
    const plain = await modal.sandboxes.create(await app(), image(), {});
    try {
      return { gvisor: (await sh(gvisor, "cat /proc/version")).stdout, plain: (await sh(plain, "cat /proc/version")).stdout };
    } finally {
      await gvisor.terminate();
      await plain.terminate();
    }
  },

  async "runtime-vm"() {
    return { refused: await capture(async () => (await modal.sandboxes.create(await app(), image(), { runtime: "vm" })).terminate()) };
  },

  async "exit-snapshot"() {
    const sb = await modal.sandboxes.create(await app(), image(), { experimentalOptions: { enable_exit_snapshot: true } });
    await sh(sb, "echo written-before-exit > /root/exit.txt");
    await sb.terminate();
    const snapshot = await sb.experimentalGetExitSnapshot();
    const plain = await modal.sandboxes.create(await app(), image(), {});
    const refused = await capture(() => plain.experimentalGetExitSnapshot({ timeoutMs: 0 }));
    await plain.terminate();
    const sb2 = await modal.sandboxes.create(await app(), snapshot, {});
    try {
      return { imageId: snapshot.imageId, file: (await sh(sb2, "cat /root/exit.txt")).stdout, refused };
    } finally {
      await sb2.terminate();
    }
  },
});
