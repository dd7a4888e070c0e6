// Custom images: Dockerfile steps (RUN, ENV, WORKDIR) built layer by layer in build sandboxes and cached; the
// definition can be made at run time from data. A failing step fails the build with its output and exit code.
import { modal, baseImage, app, sh } from "./common.mjs";

const a = await app();
const tools = ["greet", "count"]; // an image defined from data
const defineImage = () =>
  baseImage().dockerfileCommands([
    "WORKDIR /opt/tools",
    ...tools.map((t) => `RUN echo 'echo ${t}: "$@"' > ${t} && chmod +x ${t}`),
    "ENV PATH=/opt/tools:$PATH GREETING=hello",
  ]);
const image = defineImage();

let started = Date.now();
await image.build(a);
console.log(`built ${image.imageId} in ${Date.now() - started} ms`);
started = Date.now();
const again = await defineImage().build(a);
console.log(`same definition again: ${again.imageId} in ${Date.now() - started} ms (cache hit)`);

const sb = await modal.sandboxes.create(a, image);
console.log(await sh(sb, 'greet "$GREETING" from $(pwd)'));
await sb.terminate();

try {
  await baseImage().dockerfileCommands(["RUN echo compiling... && exit 3"]).build(a);
} catch (e) {
  console.log(`a failing step fails the build:\n${e.message}`);
}
