// Engine restart through Modal's JS SDK: "before" creates things on the first engine and prints their ids;
// "after" (against a new engine on the same state directory) checks them. Usage: node restart.mjs before|after
// (after reads BEFORE, the JSON "before" printed; SECRET_NAME is a named secret created through the engine).
import { modal, image, app, capture, run, withSandbox, main } from "./harness.mjs";

const builtImage = () => image().dockerfileCommands(["RUN echo survives-restart > /baked.txt"]);

const scenarios = {
  async "before"() {
    const a = await app();
    const vol = await modal.volumes.fromName("restart-volume", { createIfMissing: true });
    const img = await builtImage().build(a);
    await withSandbox({ volumes: { "/data": vol } }, (sb) => run(sb, ["sh", "-c", "echo kept > /data/kept.txt"]));
    const running = await modal.sandboxes.create(a, img, { name: "left-running", tags: { phase: "before" } });
    const finished = await modal.sandboxes.create(a, image(), { command: ["sh", "-c", "exit 3"] });
    await finished.wait();
    return { appId: a.appId, volumeId: vol.volumeId, imageId: img.imageId, running: running.sandboxId, finished: finished.sandboxId };
  },
  async "after"() {
    const before = JSON.parse(process.env.BEFORE);
    const a = await app();
    const vol = await modal.volumes.fromName("restart-volume");
    const old = await modal.sandboxes.fromId(before.running);
    const oldPoll = await old.poll();
    const oldWait = await old.wait();
    const oldExec = await capture(() => old.exec(["true"]).then((p) => p.wait()));
    const finishedPoll = await (await modal.sandboxes.fromId(before.finished)).poll();
    const byName = await capture(() => modal.sandboxes.fromName(process.env.TEST_APP ?? "features", "left-running"));
    const listed = [];
    for await (const sb of modal.sandboxes.list({ appId: a.appId })) listed.push(sb.sandboxId);
    const secret = await modal.secrets.fromName(process.env.SECRET_NAME);
    const img = await builtImage().build(a);
    const reused = await modal.images.fromId(before.imageId);
    const inside = await withSandbox({ volumes: { "/data": vol }, secrets: [secret], name: "left-running" }, async (sb) => ({
      volume: (await run(sb, ["cat", "/data/kept.txt"])).stdout,
      baked: (await run(sb, ["cat", "/baked.txt"])).stdout,
      secret: (await run(sb, ["sh", "-c", "echo $RESTART_KEY"])).stdout,
    }), img);
    return {
      sameApp: a.appId === before.appId, sameVolume: vol.volumeId === before.volumeId, sameImage: img.imageId === before.imageId,
      reusedImage: reused.imageId, oldPoll, oldWait, oldExec, finishedPoll, byName, listed, inside,
    };
  },
};

await main(scenarios);
