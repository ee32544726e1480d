import assert from "node:assert/strict";
import { describe, it } from "node:test";
// The pure modules, not the barrel: the barrel also exports BinhostMirror (Pulumi, libvirt).
import { renderBinhostNginxConf, validateBinhostNginxArgs } from "../../lib/binhost/nginx-conf";
import {
  binhostRepositoryPath,
  binhostRepositoryUrl,
  stageFileName,
  stagePath,
  stageUrl,
} from "../../lib/binhost/paths";
import {
  binhostAfterChange,
  binhostFirstBootCommands,
  knownHostsLine,
  uploadAuthorizedKeysLine,
  uploadDirectories,
} from "../../lib/binhost/upload";

const messages = (vs: readonly { argument: string; problem: string; fix: string }[]) =>
  vs.map((v) => `${v.argument}: ${v.problem}; ${v.fix}`);

const web = { environment: "production", arch: "amd64", stack: "web" };

describe("binhost paths", () => {
  it("puts a build profile's repository at <env>/<arch>/<stack>/", () => {
    assert.equal(binhostRepositoryPath(web), "production/amd64/web/");
    assert.equal(
      binhostRepositoryUrl("https://binhost.example.ch/", web),
      "https://binhost.example.ch/production/amd64/web/",
    );
  });

  it("names stages as catalyst does and files them under stages/<env>/<arch>/", () => {
    const stage = {
      environment: "production",
      arch: "x86",
      target: "stage3",
      subarch: "i686",
      versionStamp: "server-20261122T030000Z",
    } as const;
    assert.equal(stageFileName(stage), "stage3-i686-server-20261122T030000Z.tar.xz");
    assert.equal(
      stagePath({ ...stage, compression: "zst" }),
      "stages/production/x86/stage3-i686-server-20261122T030000Z.tar.zst",
    );
    assert.equal(
      stageUrl("https://binhost.example.ch", stage),
      "https://binhost.example.ch/stages/production/x86/stage3-i686-server-20261122T030000Z.tar.xz",
    );
  });
});

describe("binhost nginx.conf", () => {
  const args = {
    serverName: "binhost.example.ch",
    certificatePath: "/etc/ssl/binhost/cert.pem",
    keyPath: "/etc/ssl/binhost/key.pem",
    buildProfiles: [web],
  };

  it("renders no port-80 server when http is off", () => {
    assert.ok(renderBinhostNginxConf(args).includes("listen 80;"));
    assert.ok(!renderBinhostNginxConf({ ...args, http: "off" }).includes("listen 80;"));
  });

  it("serves only crl/ on port 80 and redirects the rest", () => {
    const conf = renderBinhostNginxConf(args);
    const port80 = conf.slice(conf.indexOf("listen 80;"), conf.indexOf("listen 443 ssl;"));
    assert.deepEqual(
      port80
        .split("\n")
        .filter((l) => /^\s*(location|return|root)\b/.test(l))
        .map((l) => l.trim()),
      [
        "root /srv/binhost;",
        "location /crl/ {",
        "location / {",
        "return 301 https://binhost.example.ch$request_uri;",
      ],
    );
  });

  it("serves exactly the listed repositories plus the fixed directories over HTTPS", () => {
    const conf = renderBinhostNginxConf({
      ...args,
      http: "off",
      buildProfiles: [web, { ...web, environment: "staging" }],
    });
    assert.deepEqual(
      conf
        .split("\n")
        .filter((l) => l.trim().startsWith("location"))
        .map((l) => l.trim()),
      [
        "location /production/amd64/web/ {",
        "location /staging/amd64/web/ {",
        "location /distfiles/ {",
        "location /stages/ {",
        "location /crl/ {",
        "location /keys/ {",
        "location ~ /\\. {",
        "location / {",
      ],
    );
  });

  it("names every bad argument", () => {
    assert.deepEqual(
      messages(
        validateBinhostNginxArgs({
          serverName: "Bin Host",
          certificatePath: "cert.pem",
          keyPath: "/etc/ssl/key.pem",
          http: "plain" as "off",
          buildProfiles: [web, { environment: "prod", arch: "amd64", stack: "../x" }, web],
        }),
      ),
      [
        "serverName: is not a DNS name; use the name in the binhost's certificate",
        "certificatePath: is not an absolute path without spaces; use e.g. /etc/ssl/binhost/cert.pem",
        "http: is not a port-80 mode; use redirect or off",
        "buildProfiles[1].stack: is not a path segment; use lower-case letters, digits, '.', '_' and '-'",
        "buildProfiles[2]: duplicates buildProfiles[0]; list each build profile once",
      ],
    );
  });
});

describe("binhost upload and server commands", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

  it("confines the upload key to rrsync in the document root, without shell or forwarding", () => {
    assert.equal(
      uploadAuthorizedKeysLine(`${key} builder@farm\n`),
      `restrict,command="/usr/bin/rrsync -no-lock /srv/binhost" ${key} gi-upload\n`,
    );
  });

  it("pins the host key for every name once, without its comment", () => {
    assert.equal(
      knownHostsLine(["binhost.example.ch", "192.168.150.10", "binhost.example.ch"], `${key} x\n`),
      `binhost.example.ch,192.168.150.10 ${key}\n`,
    );
  });

  it("lets the upload user write the repositories, distfiles and stages only", () => {
    assert.deepEqual(uploadDirectories([{ ...web, stack: "x" }, web], "/srv/b"), [
      "/srv/b/production/amd64/web",
      "/srv/b/production/amd64/x",
      "/srv/b/distfiles",
      "/srv/b/stages",
    ]);
  });

  it("creates the upload user and enables nginx at first boot", () => {
    assert.deepEqual(binhostFirstBootCommands(), [
      "id -u gi-upload >/dev/null 2>&1 || useradd --system --user-group --create-home --home-dir /var/lib/gi-upload --shell /bin/sh --password '*' gi-upload",
      "install -d -m 0755 -o root -g root /srv/binhost /srv/binhost/crl/ /srv/binhost/keys/",
      "systemctl enable --now nginx",
    ]);
  });

  it("publishes CRLs, creates upload directories and reloads nginx only if it accepts the configuration", () => {
    assert.equal(
      binhostAfterChange([web]),
      "cloud-init status --wait >/dev/null 2>&1 || true; " +
        "python3 /usr/local/libexec/gentoo-infra/binhost-publish-crls /var/lib/gentoo-infra/binhost/crl-files.json /srv/binhost/crl" +
        " && install -d -m 0755 -o gi-upload -g gi-upload '/srv/binhost/production/amd64/web' '/srv/binhost/distfiles' '/srv/binhost/stages'" +
        " && nginx -t -q && systemctl reload-or-restart nginx",
    );
  });
});
