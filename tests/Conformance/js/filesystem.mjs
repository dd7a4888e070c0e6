// sb.filesystem.* through Modal's official JavaScript SDK (every operation is an exec of the SDK's fs-tools path).
// Usage: node filesystem.mjs <scenario>   (settings come from the environment: MODAL_*, TEST_IMAGE, HOST_DIR)
// Each scenario prints one JSON line with what it observed; the C# test asserts on it.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modal, image, app, capture, sh as run, withSandbox, main } from "./harness.mjs";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

// A deterministic 5 MiB pattern that covers every byte value (not compressible to a run of one byte).
function fiveMebibytes() {
  const bytes = new Uint8Array(5 * 1024 * 1024);
  let x = 2463534242;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const entry = (f) => ({ name: f.name, path: f.path, type: f.type, size: f.size, mode: f.mode, permissions: f.permissions,
  owner: f.owner, group: f.group, modifiedTime: f.modifiedTime, symlinkTarget: f.symlinkTarget });

const scenarios = {
  async "fs-round-trip"() {
    return withSandbox({}, async (sb) => {
      const fs = sb.filesystem;
      const text = "héllo wörld ✓\nsecond line\n";
      await fs.writeText(text, "/scratch/deep/dir/hello.txt"); // parents are created
      const readText = await fs.readText("/scratch/deep/dir/hello.txt");

      const allBytes = new Uint8Array(256).map((_, i) => i);
      await fs.writeBytes(allBytes, "/scratch/all-bytes.bin");
      const readBytes = Buffer.from(await fs.readBytes("/scratch/all-bytes.bin")).toString("hex");

      await fs.writeText("a much longer first version of the file", "/scratch/overwrite.txt");
      await fs.writeText("short", "/scratch/overwrite.txt");
      const overwritten = await fs.readText("/scratch/overwrite.txt");

      await fs.writeBytes(new Uint8Array(0), "/scratch/empty.bin");
      const empty = (await fs.readBytes("/scratch/empty.bin")).length;

      const big = fiveMebibytes();
      await fs.writeBytes(big, "/scratch/big.bin");
      const bigBack = await fs.readBytes("/scratch/big.bin");
      const inSandbox = await run(sb, "sha256sum /scratch/big.bin | cut -d' ' -f1; wc -c < /scratch/big.bin");

      // What exec wrote, the filesystem reads; what the filesystem wrote, exec reads.
      await run(sb, "printf 'from exec' > /scratch/from-exec.txt");
      const fromExec = await fs.readText("/scratch/from-exec.txt");
      const catHello = await run(sb, "cat /scratch/deep/dir/hello.txt");

      // copyFromLocal / copyToLocal use the same write and read commands.
      const local = await mkdtemp(join(tmpdir(), "fs-conformance-"));
      try {
        await writeFile(join(local, "up.bin"), allBytes);
        await fs.copyFromLocal(join(local, "up.bin"), "/scratch/copied.bin");
        await fs.copyToLocal("/scratch/copied.bin", join(local, "down", "back.bin"));
        var copied = (await readFile(join(local, "down", "back.bin"))).toString("hex");
      } finally {
        await rm(local, { recursive: true, force: true });
      }

      return {
        readText, readBytes, overwritten, empty, copied, fromExec, catHello: catHello.stdout,
        big: { sent: sha256(big), received: sha256(bigBack), length: bigBack.length, sandbox: inSandbox.stdout.trim().split("\n") },
      };
    });
  },

  // A local read error aborts the upload without EOF: the file in the sandbox must keep its old content.
  async "fs-aborted-write"() {
    return withSandbox({}, async (sb) => {
      const fs = sb.filesystem;
      await fs.writeText("original", "/w/keep.txt");
      await run(sb, "chmod 600 /w/keep.txt");
      const local = await mkdtemp(join(tmpdir(), "fs-conformance-"));
      try {
        // Opening a directory works; reading it fails (EISDIR) after the exec has started.
        var aborted = await capture(() => fs.copyFromLocal(local, "/w/keep.txt"));
      } finally {
        await rm(local, { recursive: true, force: true });
      }
      const afterAbort = await fs.readText("/w/keep.txt");
      await fs.writeText("replaced", "/w/keep.txt");
      return { aborted, afterAbort, replaced: await fs.readText("/w/keep.txt"), mode: (await fs.stat("/w/keep.txt")).permissions };
    });
  },

  async "fs-directories"() {
    return withSandbox({}, async (sb) => {
      const fs = sb.filesystem;
      await fs.makeDirectory("/data/a/b/c");            // createParents defaults to true
      await fs.makeDirectory("/data/a/b/c");            // ...and is idempotent
      await fs.makeDirectory("/data/solo", { createParents: false });
      await fs.writeText("12345", "/data/file.txt");
      await run(sb, "ln -s file.txt /data/link && chmod 750 /data/solo && umask 0 && mkdir -p /data/keep && echo kept > /data/keep/k.txt");
      const listing = (await fs.listFiles("/data")).map(entry);
      const statFile = entry(await fs.stat("/data/file.txt"));
      const statDir = entry(await fs.stat("/data/solo"));
      const statLink = entry(await fs.stat("/data/link"));
      const statRoot = entry(await fs.stat("/"));
      const lsSolo = await run(sb, "stat -c '%a %U %G %s %Y' /data/solo /data/file.txt");

      // remove: a file, a symlink (not its target), an empty directory, a whole tree that holds a link to a
      // directory outside it (the link goes, the directory it points at stays).
      await fs.remove("/data/link");
      const targetAfterLinkRemoved = await fs.readText("/data/file.txt");
      await fs.remove("/data/solo");
      await run(sb, "mkdir -p /data/tree/x/y && echo 1 > /data/tree/x/y/z && echo 2 > /data/tree/top && ln -s /data/keep /data/tree/to-keep");
      await fs.remove("/data/tree", { recursive: true });
      await fs.remove("/data/file.txt");
      const after = (await fs.listFiles("/data")).map((f) => f.name);
      const keep = await fs.readText("/data/keep/k.txt");
      return { listing, statFile, statDir, statLink, statRoot, lsSolo: lsSolo.stdout.trim().split("\n"), targetAfterLinkRemoved, after, keep };
    });
  },

  async "fs-errors"() {
    return withSandbox({}, async (sb) => {
      const fs = sb.filesystem;
      await fs.writeText("x", "/e/file.txt");
      await fs.makeDirectory("/e/full/inner");
      // A sparse file over the read limit: no disk used, but its size says 6 GiB.
      await run(sb, "truncate -s 6G /tmp/huge.bin 2>/dev/null || dd if=/dev/zero of=/tmp/huge.bin bs=1 count=0 seek=6G 2>/dev/null");
      return {
        readMissing: await capture(() => fs.readText("/e/missing.txt"), "readMissing"),
        readDirectory: await capture(() => fs.readText("/e/full"), "readDirectory"),
        readHuge: await capture(() => fs.readBytes("/tmp/huge.bin"), "readHuge"),
        writeOnDirectory: await capture(() => fs.writeText("y", "/e/full"), "writeOnDirectory"),
        writeUnderFile: await capture(() => fs.writeText("y", "/e/file.txt/child.txt"), "writeUnderFile"),
        writeReadOnly: await capture(() => fs.writeText("y", "/sys/planted.txt"), "writeReadOnly"),
        listMissing: await capture(() => fs.listFiles("/e/missing"), "listMissing"),
        listFile: await capture(() => fs.listFiles("/e/file.txt"), "listFile"),
        mkdirExisting: await capture(() => fs.makeDirectory("/e/full", { createParents: false }), "mkdirExisting"),
        mkdirNoParent: await capture(() => fs.makeDirectory("/e/nope/child", { createParents: false }), "mkdirNoParent"),
        mkdirUnderFile: await capture(() => fs.makeDirectory("/e/file.txt/sub"), "mkdirUnderFile"),
        removeMissing: await capture(() => fs.remove("/e/missing.txt"), "removeMissing"),
        removeNotEmpty: await capture(() => fs.remove("/e/full"), "removeNotEmpty"),
        removeAgent: await capture(() => fs.remove("/.typedsandbox", { recursive: true }), "removeAgent"),
        statMissing: await capture(() => fs.stat("/e/missing.txt"), "statMissing"),
        statUnderFile: await capture(() => fs.stat("/e/file.txt/x"), "statUnderFile"),
        relativePath: await capture(() => fs.readText("e/file.txt"), "relativePath"),
        stillThere: await fs.readText("/e/file.txt"),
        agentStillThere: (await run(sb, "test -x /.typedsandbox/typedsandbox-agent && echo yes")).stdout.trim(),
      };
    });
  },

  // HOST_DIR is a directory on the host holding secret.txt; nothing in the sandbox may read or change it.
  async "fs-escape"() {
    const hostDir = process.env.HOST_DIR;
    return withSandbox({}, async (sb) => {
      const fs = sb.filesystem;
      await run(sb, [
        `ln -s ${hostDir}/secret.txt /tmp/secret-link`,
        `ln -s ${hostDir} /tmp/dir-link`,
        "ln -s /etc/hostname /tmp/hostname-link",
        "ln -s ../../../../../../../../etc/hostname /tmp/relative-hostname-link",
      ].join(" && "));
      const dotDots = "/tmp/../../../../../../..";
      return {
        sandboxHostname: (await run(sb, "cat /etc/hostname")).stdout,
        viaAbsoluteLink: await capture(() => fs.readText("/tmp/secret-link"), "viaAbsoluteLink"),
        viaDotDot: await capture(() => fs.readText(`${dotDots}${hostDir}/secret.txt`), "viaDotDot"),
        viaDirLink: await capture(() => fs.readText("/tmp/dir-link/secret.txt"), "viaDirLink"),
        listViaDirLink: await capture(() => fs.listFiles("/tmp/dir-link"), "listViaDirLink"),
        statViaDotDot: await capture(() => fs.stat(`${dotDots}${hostDir}/secret.txt`), "statViaDotDot"),
        hostnameViaLink: await capture(() => fs.readText("/tmp/hostname-link"), "hostnameViaLink"),
        hostnameViaRelativeLink: await capture(() => fs.readText("/tmp/relative-hostname-link"), "hostnameViaRelativeLink"),
        hostnameViaDotDot: await capture(() => fs.readText(`${dotDots}/etc/hostname`), "hostnameViaDotDot"),
        // Writes with ".." or through a link to a host path land in the sandbox (the first creates the directories there).
        writeViaDotDot: await capture(() => fs.writeText("planted", `${dotDots}${hostDir}/planted-dotdot.txt`), "writeViaDotDot"),
        writeViaDirLink: await capture(() => fs.writeText("planted", "/tmp/dir-link/planted.txt"), "writeViaDirLink"),
        overwriteViaLink: await capture(() => fs.writeText("overwritten", "/tmp/secret-link"), "overwriteViaLink"),
        readBackInSandbox: await capture(() => fs.readText(`${hostDir}/secret.txt`), "readBackInSandbox"),
        removeViaLink: await capture(() => fs.remove("/tmp/dir-link", { recursive: true }), "removeViaLink"),
        removeViaDotDot: await capture(() => fs.remove(`${dotDots}${hostDir}`, { recursive: true }), "removeViaDotDot"),
      };
    });
  },

  async "fs-watch"() {
    return withSandbox({}, async (sb) => {
      const fs = sb.filesystem;
      await fs.makeDirectory("/watched/sub");
      const events = [];
      const watcher = fs.watch("/watched", { recursive: true, timeoutMs: 60000 });
      // Keep creating files until the watcher reports one: the watch may start after the first write.
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing && i < 100; i++) {
          await run(sb, `echo n${i} > /watched/sub/file-${i}.txt`);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      for await (const event of watcher) {
        events.push(event);
        if (event.eventType === "Create" || event.eventType === "Modify") break;
      }
      writing = false;
      await writer;
      // A filtered watch reports only the kinds asked for: files made and removed while it runs give Remove events.
      const filtered = [];
      const removals = fs.watch("/watched", { recursive: true, filter: ["Remove"], timeoutMs: 60000 });
      let removing = true;
      const remover = (async () => {
        for (let i = 0; removing && i < 100; i++) {
          await run(sb, `echo r > /watched/sub/gone-${i}.txt && rm /watched/sub/gone-${i}.txt`);
        }
      })();
      for await (const event of removals) {
        filtered.push(event);
        break;
      }
      removing = false;
      await remover;
      // Nothing changes under /watched/sub/quiet: a watch there ends at its timeout with no events and no error.
      await fs.makeDirectory("/watched/quiet");
      const quiet = [];
      for await (const event of fs.watch("/watched/quiet", { timeoutMs: 1000 })) quiet.push(event);
      return {
        first: events.at(-1),
        underWatched: events.every((e) => e.paths.every((p) => p.startsWith("/watched/"))),
        removals: filtered,
        timedOutQuietly: quiet.length,
        watchMissing: await capture(async () => { for await (const _ of fs.watch("/nope", { timeoutMs: 1000 })) { /* none */ } }, "watchMissing"),
      };
    });
  },
};

await main(scenarios);
