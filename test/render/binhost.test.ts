/**
 * Render tier for BinhostMirror's nginx.conf: golden files reviewed as text, then
 * `nginx -t -c <file> -p <temp prefix>` parses the whole configuration, loads the TLS
 * certificate and key, and checks every directive in its context. It never touches
 * /etc/nginx and binds no port (-t does not listen).
 *
 * The tool runs on a copy rendered with temporary cert, key, log and pid paths (nginx -t
 * opens them); the test asserts that the copy differs from the golden file in exactly those
 * lines. The CRL publisher script runs under python3 on a temporary directory.
 *
 * Git: the rendered configuration really serves git. nginx (workers as www-data) and
 * fcgiwrap (as www-data) run on a loopback port against a temporary repository root that
 * the rendered setup commands created for another user (`daemon` stands in for the admin
 * user), filled by the rendered push script through a fake `ssh` that runs the remote
 * command as that user. `git clone` over HTTPS gets the pushed branches; a push over HTTPS
 * and an unlisted repository are refused; without git-http-backend's configuration the
 * same clone fails (dubious ownership), so the check can fail. shellcheck reads the push
 * script. Not proven here: systemd's fcgiwrap.socket, SSH itself and the pinned host key
 * (the libvirt tier).
 *
 * What this does not prove: the served MIME types, autoindex output, redirects, the
 * 404s for unknown paths, or that Portage fetches from it (the end-to-end tier does).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  binhostGitSetupCommands,
  gitHttpBackendConfig,
  gitPushRemote,
  gitPushScript,
} from "../../lib/binhost/git";
import { type BinhostNginxArgs, renderBinhostNginxConf } from "../../lib/binhost/nginx-conf";
import { CRL_PUBLISHER_SCRIPT } from "../../lib/binhost/upload";
import { commit, initRepo } from "../support/git-fixture";
import { expectGolden } from "../support/golden-files";
import { requireRoot, requireTools } from "../support/tools";

const GOLDEN = join(__dirname, "golden", "binhost");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const GIT_HINT = `${APT_HINT}; fcgiwrap: apt-get install fcgiwrap`;
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
const withGit: BinhostNginxArgs = { ...args, gitRepositories: ["overlay", "gentoo"] };

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
  it("matches the golden files (redirect, off, and with git repositories)", () => {
    expectGolden(GOLDEN, "nginx-redirect.conf", renderBinhostNginxConf(args));
    expectGolden(
      GOLDEN,
      "nginx-http-off.conf",
      renderBinhostNginxConf({ ...args, http: "off", rootDir: "/var/www/binhost" }),
    );
    expectGolden(GOLDEN, "nginx-git.conf", renderBinhostNginxConf(withGit));
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
      ["git", withGit],
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

describe("binhost git over smart HTTP (nginx, fcgiwrap, git-http-backend)", () => {
  const OWNER = "daemon"; // stands in for the admin user: not www-data, not root
  const HOST = "binhost.example.ch";
  const dir = join(work, "git");
  const root = join(dir, "srv-git");
  const cert = join(dir, "cert.pem");
  const gitConfig = join(dir, "git-http-backend.gitconfig");
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill("SIGTERM");
  });
  // Git for the test's own commands: no system or global configuration, no HOME of root's.
  const gitEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_"))),
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
  const sh = (script: string, env: NodeJS.ProcessEnv = gitEnv) => {
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env });
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  };
  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 100; i++) {
      if (ok()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`${what} did not come up`);
  };

  it("passes shellcheck (the push script)", (t) => {
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const file = join(work, "git-push.sh");
    writeFileSync(
      file,
      gitPushScript({
        clone: "../gentoo",
        remote: gitPushRemote("gi-admin", "192.168.150.10", "gentoo"),
        branches: { master: "1".repeat(40), "release/2026.1": "2".repeat(40) },
      }),
    );
    const lint = run("shellcheck", ["--shell=bash", "--severity=style", file]);
    assert.equal(lint.status, 0, lint.output);
  });

  it("serves the pushed branches to git clone over HTTPS, and refuses pushes and unlisted repositories", async (t) => {
    const tools = ["nginx", "openssl", "git", "fcgiwrap", "setpriv", "runuser", "curl"];
    if (!requireTools(t, tools, GIT_HINT)) return;
    if (!requireRoot(t, "nginx and fcgiwrap run as www-data over repositories of another user"))
      return;
    mkdirSync(join(dir, "logs"), { recursive: true });
    mkdirSync(join(dir, "run"));
    chmodSync(work, 0o755);
    chmodSync(dir, 0o755);
    chownSync(join(dir, "run"), Number(sh("id -u www-data").output), 0);

    // The binhost side, as the install command does it (minus systemd).
    const setup = binhostGitSetupCommands(
      [
        { name: "gentoo", head: "master" },
        { name: "overlay", head: "develop" },
      ],
      OWNER,
      root,
    ).filter((c) => !c.startsWith("systemctl "));
    const made = sh(setup.join(" && "));
    assert.equal(made.status, 0, made.output);
    writeFileSync(gitConfig, gitHttpBackendConfig(["gentoo", "overlay"], root));

    // The clone on the machine running Pulumi, pushed by the rendered script.
    const clone = initRepo(join(dir, "clone"));
    const one = commit(clone, "one", { profiles: "1" });
    const two = commit(clone, "two", { profiles: "2" });
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "ssh"),
      `#!/bin/bash\n# A fake ssh: runs the remote command locally as ${OWNER}, as sshd would.\nexec runuser -u ${OWNER} -- sh -c "\${!#}"\n`,
    );
    chmodSync(join(bin, "ssh"), 0o755);
    const pushEnv = {
      ...gitEnv,
      PATH: `${bin}:${process.env.PATH}`,
      GI_SSH_KEY: "not a key: the fake ssh ignores it",
      GI_KNOWN_HOSTS: `${HOST} ssh-ed25519 AAAA`,
    };
    for (const [name, branches] of [
      ["gentoo", { master: two, develop: one }],
      ["overlay", { develop: one }],
    ] as const) {
      const script = gitPushScript({
        clone,
        remote: gitPushRemote(OWNER, "192.0.2.10", name, root),
        branches,
      });
      const pushed = sh(script, pushEnv);
      assert.equal(pushed.status, 0, pushed.output);
    }
    assert.equal(sh(`stat -c %U ${root}/gentoo.git/refs/heads/master`).output.trim(), OWNER);

    // The rendered nginx.conf on a loopback port, fcgiwrap as www-data on its own socket.
    const gen = run("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      ...["-days", "1", "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=DNS:${HOST}`],
      ...["-keyout", join(dir, "key.pem"), "-out", cert],
    ]);
    assert.equal(gen.status, 0, gen.output);
    const socket = join(dir, "run", "fcgiwrap.socket");
    const fcgiwrap = spawn(
      "setpriv",
      ["--reuid=www-data", "--regid=www-data", "--clear-groups"].concat([
        "fcgiwrap",
        "-f",
        "-s",
        `unix:${socket}`,
      ]),
      { stdio: "ignore" },
    );
    children.push(fcgiwrap);
    await until("fcgiwrap", () => existsSync(socket));
    const port = await freePort();
    const conf = renderBinhostNginxConf({
      ...withGit,
      http: "off",
      certificatePath: cert,
      keyPath: join(dir, "key.pem"),
      logDir: join(dir, "logs"),
      pidFile: join(dir, "nginx.pid"),
      gitRoot: root,
      gitConfigPath: gitConfig,
      fcgiwrapSocket: socket,
    }).replace("listen 443 ssl;", `listen 127.0.0.1:${port} ssl;`);
    writeFileSync(join(dir, "nginx.conf"), conf);
    const nginx = spawn(
      "nginx",
      ["-c", join(dir, "nginx.conf"), "-p", `${dir}/`, "-g", "daemon off;"],
      { stdio: "ignore" },
    );
    children.push(nginx);
    const base = `https://${HOST}:${port}/git`;
    const client = {
      ...gitEnv,
      GIT_SSL_CAINFO: cert,
      GIT_TERMINAL_PROMPT: "0",
    };
    const resolve = `-c http.curloptResolve=${HOST}:${port}:127.0.0.1`;
    const status = (method: string, path: string) =>
      sh(
        `curl -s -o /dev/null -w '%{http_code}' --cacert ${cert} --resolve ${HOST}:${port}:127.0.0.1 -X ${method} '${base}/${path}'`,
      ).output;
    await until("nginx", () => status("GET", "gentoo.git/info/refs") !== "000");

    const cloned = sh(`git ${resolve} clone --quiet ${base}/gentoo.git ${dir}/out`, client);
    assert.equal(
      cloned.status,
      0,
      `${cloned.output}\n${readFileSync(join(dir, "logs", "error.log"), "utf8")}`,
    );
    assert.equal(sh(`git -C ${dir}/out rev-parse HEAD`).output.trim(), two);
    assert.equal(
      sh(`git ${resolve} ls-remote --heads ${base}/gentoo.git`, client).output,
      `${one}\trefs/heads/develop\n${two}\trefs/heads/master\n`,
    );
    assert.equal(
      sh(`git ${resolve} ls-remote --heads ${base}/overlay.git`, client).output,
      `${one}\trefs/heads/develop\n`,
    );

    // Pushes over HTTPS are refused; the repository is unchanged.
    const before = sh(`git --git-dir=${root}/gentoo.git for-each-ref`).output;
    const push = sh(`git -C ${dir}/out ${resolve} push origin HEAD:refs/heads/evil`, client);
    assert.notEqual(push.status, 0, push.output);
    assert.match(push.output, /403/);
    assert.equal(status("POST", "gentoo.git/git-receive-pack"), "403");
    assert.equal(status("GET", "gentoo.git/info/refs?service=git-receive-pack"), "403");
    assert.equal(status("PUT", "gentoo.git/info/refs"), "403");
    assert.equal(sh(`git --git-dir=${root}/gentoo.git for-each-ref`).output, before);

    // A repository on disk that is not listed is not served.
    assert.equal(sh(`git init --quiet --bare ${root}/other.git`).status, 0);
    assert.equal(status("GET", "other.git/info/refs?service=git-upload-pack"), "404");
    assert.equal(status("GET", "gentoo.git"), "404");

    // Without git-http-backend's configuration git refuses the other user's repository.
    writeFileSync(gitConfig, "");
    const refused = sh(`git ${resolve} ls-remote ${base}/gentoo.git`, client);
    assert.notEqual(refused.status, 0, refused.output);
    assert.match(readFileSync(join(dir, "logs", "error.log"), "utf8"), /dubious ownership/);
    writeFileSync(gitConfig, gitHttpBackendConfig(["gentoo", "overlay"], root));
  });
});
