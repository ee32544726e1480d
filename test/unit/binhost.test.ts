import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  binhostRepositoryPath,
  binhostRepositoryUrl,
  renderBinhostNginxConf,
  stageFileName,
  stagePath,
  stageUrl,
  validateBinhostNginxArgs,
} from "../../lib/binhost";

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

  it("serves exactly the listed repositories plus the fixed directories", () => {
    const conf = renderBinhostNginxConf({
      ...args,
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
