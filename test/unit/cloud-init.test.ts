import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { parse } from "yaml";
import {
  renderNetworkConfig,
  renderUserData,
  validateStaticNetworkArgs,
  validateUserDataArgs,
} from "../../lib/cloud-init";

const messages = (vs: readonly { argument: string; problem: string; fix: string }[]) =>
  vs.map((v) => `${v.argument}: ${v.problem}; ${v.fix}`);

const KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";

describe("cloud-init user-data", () => {
  it("starts with #cloud-config and locks passwords", () => {
    const text = renderUserData({
      hostname: "b1",
      users: [{ name: "ops", sshAuthorizedKeys: [KEY] }],
    });
    assert.ok(text.startsWith("#cloud-config\n"));
    assert.deepEqual(parse(text).users, [
      { name: "ops", shell: "/bin/bash", lock_passwd: true, ssh_authorized_keys: [KEY] },
    ]);
  });

  it("keeps any file content exactly, whatever YAML would make of it", () => {
    fc.assert(
      fc.property(fc.string(), (content) => {
        const text = renderUserData({
          hostname: "b1",
          users: [{ name: "ops", sshAuthorizedKeys: [KEY] }],
          writeFiles: [{ path: "/etc/x", content }],
        });
        assert.equal(parse(text, { version: "1.1" }).write_files[0].content, content);
      }),
    );
  });

  it("names every bad argument", () => {
    assert.deepEqual(
      messages(
        validateUserDataArgs({
          hostname: "B_1",
          users: [
            { name: "ops", sshAuthorizedKeys: ["AAAA"] },
            { name: "ops", sshAuthorizedKeys: [] },
          ],
          writeFiles: [{ path: "etc/x", content: "", permissions: "644", owner: "root" }],
          runcmd: [[]],
        }),
      ),
      [
        "hostname: is not a host name; use one DNS label: a-z, 0-9 and '-'",
        "users[0].sshAuthorizedKeys[0]: is not an OpenSSH public key; paste one line of id_*.pub",
        "users[1].name: duplicates users[0].name; list each user once",
        "users[1].sshAuthorizedKeys: is empty; give at least one key: the images have no passwords",
        "writeFiles[0].path: is not an absolute file path; use e.g. /etc/motd",
        "writeFiles[0].permissions: is not an octal mode; use e.g. 0644",
        "writeFiles[0].owner: is not user:group; use e.g. root:root",
        "runcmd[0]: is empty; give a command",
      ],
    );
  });
});

describe("cloud-init pinned SSH host key", () => {
  const hostKey = {
    ed25519Private:
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n",
    ed25519Public: `${KEY.split(" ").slice(0, 2).join(" ")}\n`,
  };

  it("writes the key pair under ssh_keys, the public key as one line", () => {
    const text = renderUserData({
      hostname: "b1",
      users: [{ name: "ops", sshAuthorizedKeys: [KEY] }],
      hostKey,
    });
    assert.deepEqual(parse(text, { version: "1.1" }).ssh_keys, {
      ed25519_private: hostKey.ed25519Private,
      ed25519_public: KEY.split(" ").slice(0, 2).join(" "),
    });
  });

  it("names a bad key pair without printing the private key", () => {
    assert.deepEqual(
      validateUserDataArgs({
        hostname: "b1",
        users: [{ name: "ops", sshAuthorizedKeys: [KEY] }],
        hostKey: { ed25519Private: "SECRET MATERIAL", ed25519Public: "ssh-rsa AAAA" },
      }),
      [
        {
          argument: "hostKey.ed25519Private",
          value: "(not shown)",
          problem: "is not an OpenSSH private key",
          fix: "use tls.PrivateKey's privateKeyOpenssh of an ED25519 key",
        },
        {
          argument: "hostKey.ed25519Public",
          value: "ssh-rsa AAAA",
          problem: "is not an OpenSSH ED25519 public key",
          fix: "use tls.PrivateKey's publicKeyOpenssh of the same key",
        },
      ],
    );
  });
});

describe("cloud-init network-config", () => {
  it("quotes the MAC so YAML 1.1 readers do not take it for a sexagesimal number", () => {
    const text = renderNetworkConfig({ mac: "52-54-00-12-34-56", address: "10.0.0.5/24" });
    assert.ok(text.includes('macaddress: "52:54:00:12:34:56"'));
  });

  it("rejects a gateway outside the interface's subnet", () => {
    assert.deepEqual(
      messages(
        validateStaticNetworkArgs({
          mac: "52:54:00:12:34:56",
          address: "10.0.0.5/24",
          gateway: "10.0.1.1",
        }),
      ),
      ["gateway: is outside 10.0.0.5/24; use a router on the interface's subnet"],
    );
  });

  it("names every bad argument", () => {
    assert.deepEqual(
      messages(
        validateStaticNetworkArgs({
          mac: "x",
          address: "10.0.0.5",
          dnsServers: ["a"],
          interfaceName: "Eth0",
        }),
      ),
      [
        "mac: is not a MAC address; use six colon-separated hex pairs, e.g. 52:54:00:12:34:56",
        "interfaceName: is not an interface name; use e.g. eth0",
        "address: is not an IPv4 address with prefix length; use e.g. 10.0.0.5/24",
        "dnsServers[0]: is not an IPv4 address; use e.g. 10.0.0.1",
      ],
    );
  });
});

describe("authorizeKeysLast", () => {
  it("authorizes the keys in the last first-boot command, not when the user is created", () => {
    const doc = parse(
      renderUserData({
        hostname: "binhost",
        users: [{ name: "gi-admin", sshAuthorizedKeys: [KEY], authorizeKeysLast: true }],
        runcmd: [["systemctl", "enable", "nginx"]],
      }),
    ) as { users: Record<string, unknown>[]; runcmd: string[][] };
    assert.equal(doc.users[0]?.ssh_authorized_keys, undefined);
    assert.deepEqual(doc.runcmd[0], ["systemctl", "enable", "nginx"]);
    const last = doc.runcmd.at(-1) as string[];
    assert.deepEqual(last.slice(0, 2), ["sh", "-c"]);
    assert.deepEqual(last.slice(3), ["sh", "gi-admin", KEY]);
    assert.match(
      last[2] as string,
      /^set -e; .*authorized_keys\.new" "\$h\/\.ssh\/authorized_keys"$/,
    );
  });
});
