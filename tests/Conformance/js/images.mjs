// Custom images through Modal's JS SDK: dockerfileCommands with RUN / ENV / WORKDIR, layer caching, streamed build
// logs, failing steps. Usage: node images.mjs <scenario>  (MODAL_* and TEST_IMAGE from the environment; TOKEN makes
// each run's definitions unique, the way a program builds images from its own data).
import { modal, image, app, capture, run, withSandbox, main } from "./harness.mjs";

const token = process.env.TOKEN ?? "t0";

// An image defined at run time from data: two chained layers (the SDK sends the second as FROM base + base_images).
const defineImage = (word) =>
  image()
    .dockerfileCommands([
      `RUN echo built-${word} > /built.txt && echo "step output ${word}"`,
      `ENV GREETING=hello-${word} OTHER=second`,
      "WORKDIR /srv/app",
    ])
    .dockerfileCommands(["RUN pwd > here.txt && echo $GREETING > greeting.txt"]);

async function imageGetOrCreate(a, commands) {
  return modal.cpClient.imageGetOrCreate({
    appId: a.appId,
    image: { dockerfileCommands: commands, secretIds: [], contextFiles: [], baseImages: [] },
    builderVersion: "2025.06",
  });
}

const scenarios = {
  async "build-and-use"() {
    const a = await app();
    const built = await defineImage(token).build(a);
    // The same definition again, as a fresh object: every layer is a cache hit, same id.
    const again = await defineImage(token).build(a);
    // A different word is a different image.
    const other = await defineImage(token + "-other").build(a);
    return withSandbox({}, async (sb) => ({
      imageId: built.imageId,
      againId: again.imageId,
      otherId: other.imageId,
      built: (await run(sb, ["cat", "/built.txt"])).stdout,
      greeting: (await run(sb, ["sh", "-c", "echo $GREETING $OTHER"])).stdout,
      pwd: (await run(sb, ["pwd"])).stdout,
      here: (await run(sb, ["cat", "/srv/app/here.txt"])).stdout,
      greetingFile: (await run(sb, ["cat", "/srv/app/greeting.txt"])).stdout,
    }), built);
  },
  async "cache-hit"() {
    // After build-and-use: asking for the first layer's definition answers at once with a result (no join needed).
    const a = await app();
    const commands = [
      `FROM ${process.env.TEST_IMAGE}`,
      `RUN echo built-${token} > /built.txt && echo "step output ${token}"`,
      `ENV GREETING=hello-${token} OTHER=second`,
      "WORKDIR /srv/app",
    ];
    const first = await imageGetOrCreate(a, commands);
    let firstStatus = first.result?.status ?? 0;
    if (!firstStatus) {
      for await (const item of modal.cpClient.imageJoinStreaming({ imageId: first.imageId, timeout: 55, lastEntryId: "" })) {
        if (item.result?.status) {
          firstStatus = item.result.status;
          break;
        }
      }
    }
    const second = await imageGetOrCreate(a, commands);
    return { firstStatus, secondId: second.imageId, firstId: first.imageId, secondStatus: second.result?.status ?? 0 };
  },
  async "streamed-logs"() {
    // Follow a build's log the way the SDK does (ImageJoinStreaming); record what each message carried.
    const a = await app();
    const resp = await imageGetOrCreate(a, [
      `FROM ${process.env.TEST_IMAGE}`,
      `RUN echo first-line-${token}; sleep 2; echo second-line-${token}`,
    ]);
    const messages = [];
    let lastEntryId = "";
    let result;
    while (!result) {
      for await (const item of modal.cpClient.imageJoinStreaming({ imageId: resp.imageId, timeout: 55, lastEntryId })) {
        if (item.entryId) lastEntryId = item.entryId;
        messages.push({ text: item.taskLogs.map((l) => l.data).join(""), status: item.result?.status ?? 0 });
        if (item.result?.status) {
          result = item.result;
          break;
        }
      }
    }
    return { status: result.status, messages };
  },
  async "failing-step"() {
    const a = await app();
    const failing = image().dockerfileCommands([`RUN echo about-to-fail-${token} && echo on-stderr >&2 && exit 3`]);
    const first = await capture(() => failing.build(a));
    // A failed build is not cached as a success: asking again fails again.
    const second = await capture(() => image().dockerfileCommands([`RUN echo about-to-fail-${token} && echo on-stderr >&2 && exit 3`]).build(a));
    // A sandbox on the failed image is refused too.
    const sandbox = await capture(() =>
      modal.sandboxes.create(a, image().dockerfileCommands([`RUN echo about-to-fail-${token} && echo on-stderr >&2 && exit 3`])).then((sb) => sb.terminate()));
    return { first, second, sandbox };
  },
  async "build-secrets"() {
    // Per-layer env and secrets are environment for the RUN steps only; their values take part in the image's identity.
    const a = await app();
    const define = async (value) =>
      image().dockerfileCommands([`RUN echo "$TOKEN_A-$SECRET_B" > /from-build.txt`], {
        env: { TOKEN_A: value },
        secrets: [await modal.secrets.fromObject({ SECRET_B: `b-${token}` })],
      });
    const first = await (await define("a1")).build(a);
    const same = await (await define("a1")).build(a);
    const changed = await (await define("a2")).build(a);
    const read = (img) =>
      withSandbox({}, (sb) => run(sb, ["sh", "-c", "cat /from-build.txt; echo ${TOKEN_A-unset} ${SECRET_B-unset}"]), img);
    return {
      firstId: first.imageId, sameId: same.imageId, changedId: changed.imageId,
      first: (await read(first)).stdout, changed: (await read(changed)).stdout,
    };
  },
  async "metadata-instructions"() {
    // CMD, ENTRYPOINT, LABEL and EXPOSE are accepted; sandboxes run their own command (or idle), never the image's.
    const a = await app();
    const define = (label) => image().dockerfileCommands([
      `LABEL org.example.token=${label}`,
      "EXPOSE 8080",
      'ENTRYPOINT ["/bin/false"]',
      'CMD ["never-run"]',
      `RUN echo after-metadata-${token} > /after.txt`,
    ]);
    const built = await define(token).build(a);
    const relabelled = await define(token + "-other").build(a);
    const idle = await withSandbox({}, async (sb) => ({ poll: await sb.poll(), after: (await run(sb, ["cat", "/after.txt"])).stdout }), built);
    const own = await modal.sandboxes.create(a, built, { command: ["sh", "-c", "echo own-command; exit 4"] });
    const ownOut = await own.stdout.readText();
    return { imageId: built.imageId, relabelledId: relabelled.imageId, idle, ownOut, ownCode: await own.wait() };
  },
  async "bad-instruction"() {
    const a = await app();
    return capture(() => image().dockerfileCommands(["FROBNICATE now"]).build(a));
  },
};

await main(scenarios);
