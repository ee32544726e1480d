/**
 * Render tier for BinhostMirror's nginx.conf: golden files reviewed as text, then
 * `nginx -t -c <file> -p <temp prefix>` parses the whole configuration, loads the TLS
 * certificate and key, and checks every directive in its context. It never touches
 * /etc/nginx and binds no port (-t does not listen).
 *
 * The tool runs on a copy rendered with temporary cert, key, log and pid paths (nginx -t
 * opens them); the test asserts that the copy differs from the golden file in exactly those
 * lines. The CRL publisher script runs under python3 on a temporary directory.
 * What this does not prove: the served MIME types, autoindex output, redirects, the
 * 404s for unknown paths, or that Portage fetches from it (the end-to-end tier does).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type BinhostNginxArgs, renderBinhostNginxConf } from "../../lib/binhost/nginx-conf";
import { CRL_PUBLISHER_SCRIPT } from "../../lib/binhost/upload";
import { expectGolden } from "../support/golden-files";
import { requireTools } from "../support/tools";

const GOLDEN = join(__dirname, "golden", "binhost");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const work = mkdtempSync(join(tmpdir(), "gi-render-binhost-"));
after(() => rmSync(work, { recursive: true, force: true }));

const args: BinhostNginxArgs = {
  serverName: "binhost.example.ch",
  certificatePath: "/etc/ssl/gentoo-infra/binhost.pem",
  keyPath: "/etc/ssl/gentoo-infra/binhost.key",
  buildProfiles: [
    { environment: "production", arch: "amd64", stack: "web" },
    { environment: "production", arch: "amd64", stack: "base" },
    { environment: "staging", arch: "arm64", stack: "base" },
  ],
};

function run(cmd: string, argv: readonly string[]) {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Renders `conf` with temporary paths and runs nginx -t on it. */
function nginxTest(
  name: string,
  conf: BinhostNginxArgs,
  mutate: (text: string) => string = (t) => t,
) {
  const prefix = join(work, name);
  mkdirSync(join(prefix, "logs"), { recursive: true });
  const cert = join(work, "cert.pem");
  const key = join(work, "key.pem");
  const local = {
    ...conf,
    certificatePath: cert,
    keyPath: key,
    logDir: join(prefix, "logs"),
    pidFile: join(prefix, "nginx.pid"),
  };
  const text = mutate(renderBinhostNginxConf(local));
  const file = join(prefix, "nginx.conf");
  writeFileSync(file, text);
  return { text, ...run("nginx", ["-t", "-q", "-c", file, "-p", `${prefix}/`]) };
}

describe("binhost nginx.conf", () => {
  it("matches the golden files (redirect and off)", () => {
    expectGolden(GOLDEN, "nginx-redirect.conf", renderBinhostNginxConf(args));
    expectGolden(
      GOLDEN,
      "nginx-http-off.conf",
      renderBinhostNginxConf({ ...args, http: "off", rootDir: "/var/www/binhost" }),
    );
  });

  it("passes nginx -t with a real certificate and key", (t) => {
    if (!requireTools(t, ["nginx", "openssl"], APT_HINT)) return;
    const gen = run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=binhost.example.ch",
      "-keyout",
      join(work, "key.pem"),
      "-out",
      join(work, "cert.pem"),
    ]);
    assert.equal(gen.status, 0, gen.output);
    for (const [name, conf] of [
      ["redirect", args],
      ["off", { ...args, http: "off" as const }],
    ] as const) {
      const r = nginxTest(name, conf);
      assert.equal(r.status, 0, r.output);
      const golden = renderBinhostNginxConf(conf).split("\n");
      const changed = r.text
        .split("\n")
        .filter((line, i) => line !== golden[i])
        .map((l) => l.trim().split(" ")[0]);
      assert.deepEqual(changed, [
        "pid",
        "error_log",
        "access_log",
        "ssl_certificate",
        "ssl_certificate_key",
      ]);
    }
  });

  it("nginx -t rejects a directive in the wrong context, so the check above can fail", (t) => {
    if (!requireTools(t, ["nginx", "openssl"], APT_HINT)) return;
    const r = nginxTest("broken", args, (text) =>
      text.replace("autoindex on;", "autoindex on; listen 8443;"),
    );
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /"listen" directive is not allowed here/);
  });
});

describe("binhost CRL publisher", () => {
  const script = join(work, "publish-crls");
  writeFileSync(script, CRL_PUBLISHER_SCRIPT);

  it("writes every CRL of the bundle, removes CRLs no longer signed and leaves other files", (t) => {
    if (!requireTools(t, ["python3"], APT_HINT)) return;
    const dir = join(work, "crl");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "retired.crl"), "old");
    writeFileSync(join(dir, "README"), "kept");
    const bundle = join(work, "crl-files.json");
    writeFileSync(
      bundle,
      JSON.stringify({ "root.crl": "ROOT\n", "production-host.crl": "HOST\n" }),
    );
    const r = run("python3", [script, bundle, dir]);
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(readdirSync(dir).sort(), ["README", "production-host.crl", "root.crl"]);
    assert.equal(readFileSync(join(dir, "root.crl"), "utf8"), "ROOT\n");
    assert.equal(statSync(join(dir, "production-host.crl")).mode & 0o777, 0o644);
  });

  it("refuses a bundle naming a path instead of a file, writing nothing", (t) => {
    if (!requireTools(t, ["python3"], APT_HINT)) return;
    const dir = join(work, "crl-bad");
    const bundle = join(work, "bad.json");
    writeFileSync(bundle, JSON.stringify({ "../escape.crl": "X" }));
    const r = run("python3", [script, bundle, dir]);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /refusing file name '..\/escape.crl'/);
    assert.equal(existsSync(dir), false);
  });
});
