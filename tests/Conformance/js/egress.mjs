// Outbound domain allow-lists through Modal's official JavaScript SDK: the engine's egress proxy lets TLS (by SNI) and
// plain HTTP (by Host) reach only the listed names. Usage: node egress.mjs <scenario>
// Settings come from the environment: MODAL_*, PYTHON_IMAGE, EGRESS_ADDRESS (the test servers' address; the engine
// resolves api.egress.test and other.test to it), SECRET_NAME and GONE_SECRET_NAME (named secrets the test made; the
// first has API_TOKEN and NEXT_TOKEN). Prints one JSON line with what it observed; the C# test asserts on it.
import { ExperimentalOutboundPolicy } from "modal";
import { modal, image, app, capture, run, withSandbox, main } from "./harness.mjs";

// A client that names the server itself (Host, or SNI with verification off for the test's self-signed certificate),
// so no name has to resolve inside the sandbox: "-" sends no name at all.
const client = `
import socket, ssl, sys
address, port, name, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    s = socket.create_connection((address, port), timeout=10)
    if port == 443:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        s = context.wrap_socket(s, server_hostname=None if name == "-" else name)
        s.sendall(f"GET {path} HTTP/1.0\\r\\n\\r\\n".encode())
    else:
        s.sendall(f"GET {path} HTTP/1.0\\r\\nHost: {name}\\r\\n\\r\\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    sys.stdout.write(data.decode(errors="replace"))
except (OSError, ssl.SSLError) as e:
    print(f"refused: {e!r}")
    sys.exit(1)
`;

const fetchIn = (sb, port, name, path = "/hello.txt", address = process.env.EGRESS_ADDRESS) =>
  run(sb, ["python3", "-c", client, address, String(port), name, path]);

await main({
  async "domain-allowlist"() {
    const python = image(process.env.PYTHON_IMAGE);
    const allowed = await withSandbox({ outboundDomainAllowlist: ["*.egress.test"] }, async (sb) => ({
      http: await fetchIn(sb, 80, "api.egress.test"),
      // The address the sandbox connects to is not trusted: the proxy goes to the name's own address.
      pickedAddress: await fetchIn(sb, 80, "api.egress.test", "/hello.txt", "192.0.2.1"),
      otherName: await fetchIn(sb, 80, "other.test"),
      rawAddress: await fetchIn(sb, 80, process.env.EGRESS_ADDRESS),
      tls: await fetchIn(sb, 443, "api.egress.test"),
      tlsOtherName: await fetchIn(sb, 443, "other.test"),
      tlsNoName: await fetchIn(sb, 443, "-"),
    }), python);
    const badDomain = await capture(() =>
      app().then((x) => modal.sandboxes.create(x, python, { outboundDomainAllowlist: ["not a domain"] })).then((sb) => sb.terminate()));
    return { allowed, badDomain };
  },

  // Header replacements from a named secret, set by the engine's egress proxy outside the sandbox, then replaced live.
  async "outbound-headers"() {
    const python = image(process.env.PYTHON_IMAGE);
    const secret = await modal.secrets.fromName(process.env.SECRET_NAME);
    const policy = (value) => new ExperimentalOutboundPolicy().withHeaderReplacement({ domain: "*.egress.test", secret, headers: { "X-Token": value } });
    const token = (sb, name) => fetchIn(sb, 80, name, "/cgi-bin/token");
    const observed = await withSandbox({ experimentalOutboundPolicy: policy("Bearer $API_TOKEN") }, async (sb) => {
      const created = await token(sb, "api.egress.test");
      const otherName = await token(sb, "other.test");
      await sb.experimentalUpdateOutboundPolicy(policy("$NEXT_TOKEN $$5"));
      const updated = await token(sb, "api.egress.test");
      const missingKey = await capture(() => sb.experimentalUpdateOutboundPolicy(policy("$NOT_THERE")));
      const afterRefusal = await token(sb, "api.egress.test");
      return { created, otherName, updated, missingKey, afterRefusal };
    }, python);
    const create = (p) => capture(() => app().then((x) => modal.sandboxes.create(x, python, { experimentalOutboundPolicy: p })).then((sb) => sb.terminate()));
    const createMissingKey = await create(policy("$NOT_THERE"));
    const gone = await modal.secrets.fromName(process.env.GONE_SECRET_NAME);
    await modal.secrets.delete(process.env.GONE_SECRET_NAME);
    const createGoneSecret = await create(new ExperimentalOutboundPolicy().withHeaderReplacement({ domain: "api.egress.test", secret: gone, headers: { "X-Token": "$API_TOKEN" } }));
    return { ...observed, createMissingKey, createGoneSecret };
  },
});
