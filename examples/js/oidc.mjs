// OIDC identity tokens: a sandbox created with includeOidcIdentityToken finds a signed JWT in MODAL_IDENTITY_TOKEN
// that names it (sandbox, app, environment). A service checks it the OIDC way: the issuer's discovery document, the
// key set it points at, the ES256 signature, the audience and the expiry. Here the issuer is read from the token to
// keep the example short; a real service pins the issuer URL it trusts (the engine logs it at start).
import { webcrypto as crypto } from "node:crypto";
import { modal, baseImage, app } from "./common.mjs";

const decode = (part) => JSON.parse(Buffer.from(part, "base64url").toString());

const sb = await modal.sandboxes.create(await app(), baseImage(), { includeOidcIdentityToken: true });
try {
  const p = await sb.exec(["sh", "-c", 'echo "$MODAL_IDENTITY_TOKEN"']);
  const token = (await p.stdout.readText()).trim();
  const [header, payload, signature] = token.split(".");
  const claims = decode(payload);
  console.log("token for:", claims.sandbox_id === sb.sandboxId ? "this sandbox" : claims.sandbox_id, "in app", claims.app_name);

  const discovery = await (await fetch(`${claims.iss}/.well-known/openid-configuration`)).json();
  const { keys } = await (await fetch(discovery.jwks_uri)).json();
  const jwk = keys.find((k) => k.kid === decode(header).kid);
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(signature, "base64url"), Buffer.from(`${header}.${payload}`));
  console.log("signature valid:", valid, "| algorithm:", decode(header).alg, "| audience:", claims.aud === new URL(discovery.issuer).host);
  console.log("expires in the future:", claims.exp * 1000 > Date.now());

  const plain = await modal.sandboxes.create(await app(), baseImage());
  const q = await plain.exec(["sh", "-c", 'echo "${MODAL_IDENTITY_TOKEN:-no token}"']);
  console.log("without the option:", (await q.stdout.readText()).trim());
  await plain.terminate();
} finally {
  await sb.terminate();
}
