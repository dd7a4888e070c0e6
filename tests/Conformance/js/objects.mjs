// Lifecycle of named objects through Modal's JS SDK: published images and their deletion, volume and secret deletion,
// environments with objects scoped to them. Usage: node objects.mjs <scenario>
// MARKER makes the scenario's images unique to one test run; VOLUME, SECRET_NAME and ENVIRONMENT name its objects.
import { modal, image, app, capture, run, sh, withSandbox, main } from "./harness.mjs";

const marker = process.env.MARKER;
const built = async (line) => image().dockerfileCommands([`RUN echo ${line} > /marker`]).build(await app());

const scenarios = {
  async "publish"() {
    const doomed = await built(`doomed-${marker}`);
    const kept = await built(`kept-${marker}`);
    await doomed.publish(`objects-${marker}:v1`);
    await kept.publish(`objects-${marker}`);
    const byTag = await modal.images.fromName(`objects-${marker}:v1`);
    const byLatest = await modal.images.fromName(`objects-${marker}`);
    const unpublished = await capture(() => modal.images.fromName(`objects-${marker}:v2`));
    const otherEnvironment = await capture(() => modal.images.fromName(`objects-${marker}:v1`, { environment: "no-such-environment" }));
    return { doomed: doomed.imageId, kept: kept.imageId, byTag: byTag.imageId, byLatest: byLatest.imageId, unpublished, otherEnvironment };
  },
  async "delete-image"() {
    const doomed = await modal.images.fromName(`objects-${marker}:v1`);
    const kept = await modal.images.fromName(`objects-${marker}`);
    // A sandbox already running from the image keeps running after the image is deleted.
    const running = await withSandbox({}, async (sb) => {
      const deleted = await capture(() => modal.images.delete(doomed.imageId));
      const stillReads = await run(sb, ["cat", "/marker"]);
      return { deleted, stillReads };
    }, doomed);
    const byName = await capture(() => modal.images.fromName(`objects-${marker}:v1`));
    const byId = await capture(() => modal.images.fromId(doomed.imageId));
    const create = await capture(() => withSandbox({}, () => 0, doomed));
    const again = await capture(() => modal.images.delete(doomed.imageId));
    // Another image on the same base: its own deletion also reclaims what the running sandbox held back.
    const other = await built(`other-${marker}`);
    const otherDeleted = await capture(() => modal.images.delete(other.imageId));
    const keptReads = await withSandbox({}, (sb) => run(sb, ["cat", "/marker"]), kept);
    return { running, byName, byId, create, again, other: other.imageId, otherDeleted, keptReads };
  },
  async "delete-volume-and-secret"() {
    const name = process.env.VOLUME;
    const vol = await modal.volumes.fromName(name, { createIfMissing: true });
    const whileMounted = await withSandbox({ volumes: { "/data": vol } }, async (sb) => {
      await sh(sb, "echo kept > /data/file.txt");
      return capture(() => modal.volumes.delete(name));
    });
    const deleted = await capture(() => modal.volumes.delete(name));
    const lookup = await capture(() => modal.volumes.fromName(name));
    const again = await capture(() => modal.volumes.delete(name));
    const allowMissing = await capture(() => modal.volumes.delete(name, { allowMissing: true }));
    const recreated = await modal.volumes.fromName(name, { createIfMissing: true });
    const fresh = await withSandbox({ volumes: { "/data": recreated } }, (sb) => sh(sb, "ls -A /data"));
    await modal.volumes.delete(name);

    const secretName = process.env.SECRET_NAME;
    const secretDeleted = await capture(() => modal.secrets.delete(secretName));
    const secretLookup = await capture(() => modal.secrets.fromName(secretName));
    const secretAgain = await capture(() => modal.secrets.delete(secretName));
    const secretAllowMissing = await capture(() => modal.secrets.delete(secretName, { allowMissing: true }));
    return {
      volumeId: vol.volumeId, whileMounted, deleted, lookup, again, allowMissing, newId: recreated.volumeId, fresh,
      secretDeleted, secretLookup, secretAgain, secretAllowMissing,
    };
  },
  async "environments"() {
    const env = process.env.ENVIRONMENT;
    const main = await modal.environments.fromName("main");
    const unknown = await capture(() => modal.environments.fromName(env));
    await modal.environments.objects.create(env);
    const duplicate = await capture(() => modal.environments.objects.create(env));
    const badName = await capture(() => modal.cpClient.environmentCreate({ name: "bad name" }));
    const listed = [];
    for await (const e of modal.environments.objects.list()) listed.push(e.name);

    // The same names in two environments are two objects.
    const mainApp = await modal.apps.fromName("objects-app", { createIfMissing: true });
    const envApp = await modal.apps.fromName("objects-app", { environment: env, createIfMissing: true });
    const mainVolume = await modal.volumes.fromName("objects-volume", { createIfMissing: true });
    const envVolume = await modal.volumes.fromName("objects-volume", { environment: env, createIfMissing: true });
    const mainSecret = await modal.secrets.fromName(process.env.SECRET_NAME);
    const envSecret = await modal.secrets.fromName(process.env.SECRET_NAME, { environment: env });
    const appsInEnv = [];
    for await (const a of (await modal.environments.fromName(env)).apps.list()) appsInEnv.push(a.appId);
    const unknownApp = await capture(() => modal.apps.fromName("objects-app", { environment: "no-such-environment", createIfMissing: true }));

    // Deleting the environment terminates its sandboxes and removes its objects; main's stay.
    const sb = await modal.sandboxes.create(envApp, image(), { volumes: { "/data": envVolume }, secrets: [envSecret] });
    const seen = await sh(sb, "echo $OBJECTS_VALUE; echo env > /data/where.txt");
    const deleted = await capture(() => modal.environments.objects.delete(env));
    const exitCode = await sb.wait();
    const after = [];
    for await (const e of modal.environments.objects.list()) after.push(e.name);
    const volumeAfter = await capture(() => modal.volumes.fromName("objects-volume", { environment: env }));
    const appAfter = await capture(() => modal.apps.fromName("objects-app", { environment: env }));
    const mainVolumeAfter = await modal.volumes.fromName("objects-volume");
    const mainSecretAfter = await modal.secrets.fromName(process.env.SECRET_NAME);
    const deleteMain = await capture(() => modal.environments.objects.delete("main"));
    const deleteUnknown = await capture(() => modal.environments.objects.delete(env));
    await modal.volumes.delete("objects-volume");
    return {
      mainId: main.environmentId, mainName: main.name, unknown, duplicate, badName, listed,
      apps: [mainApp.appId, envApp.appId], appsInEnv, volumes: [mainVolume.volumeId, envVolume.volumeId],
      secrets: [mainSecret.secretId, envSecret.secretId], unknownApp, seen: seen.stdout, deleted, exitCode, after,
      volumeAfter, appAfter, mainVolumeKept: mainVolumeAfter.volumeId === mainVolume.volumeId,
      mainSecretKept: mainSecretAfter.secretId === mainSecret.secretId, deleteMain, deleteUnknown,
    };
  },
};

await main(scenarios);
