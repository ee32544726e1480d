import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
// The pure modules, not the barrel: the barrel also exports BinhostMirror (Pulumi, libvirt).
import {
  binhostGitSetupCommands,
  branchNameProblem,
  GIT_PUSH_ENV,
  gitHttpBackendConfig,
  gitPushRemote,
  gitPushScript,
  gitPushTriggers,
  validateGitRepositories,
} from "../../lib/binhost/git";
import {
  binhostGitLocations,
  renderBinhostNginxConf,
  validateBinhostNginxArgs,
} from "../../lib/binhost/nginx-conf";
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
import { commit, git, initRepo, refs, scratch } from "../support/git-fixture";
import { assertRefused, hostileTexts } from "../support/refused";

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

  it("serves exactly the listed repositories plus the fixed directories (client/ included) over HTTPS", () => {
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
        "location /client/ {",
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

describe("binhost helpers check their own arguments", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  const repos = [
    { name: "gentoo", head: "master" },
    { name: "overlay", head: "develop" },
  ];

  it("the first-boot, after-change and authorized_keys commands refuse a root that would reach the shell unquoted", () => {
    for (const value of hostileTexts("/srv/binhost")) {
      assertRefused(() => binhostFirstBootCommands(value), "root", value);
      assertRefused(() => binhostAfterChange([web], value), "root", value);
      assertRefused(() => uploadAuthorizedKeysLine(key, value), "root", value);
    }
    assert.throws(() => binhostFirstBootCommands("/srv/binhost; rm -rf /"), {
      name: "ValidationError",
      message:
        'binhostFirstBootCommands: 1 problem:\n- root: is not an absolute path of plain segments (got "/srv/binhost; rm -rf /"); use e.g. /srv/binhost: letters, digits and . _ + - between slashes, no . or .. segment',
    });
  });

  it("the after-change command refuses a build profile that is not path segments", () => {
    for (const field of ["environment", "arch", "stack"] as const) {
      for (const value of [...hostileTexts(web[field]), ".."]) {
        assertRefused(
          () => binhostAfterChange([web, { ...web, [field]: value }]),
          `profiles[1].${field}`,
          value,
        );
      }
    }
  });

  it("known_hosts refuses a name that is not a DNS name or an IPv4 address", () => {
    for (const value of [
      ...hostileTexts("binhost.example.ch"),
      "a,b",
      "*",
      "binhost.example.ch ",
    ]) {
      assertRefused(() => knownHostsLine(["192.168.150.10", value], key), "names[1]", value);
    }
  });

  it("the git setup refuses an owner, a root, a name or a head that would reach the root shell", () => {
    for (const value of hostileTexts("gi-admin")) {
      assertRefused(() => binhostGitSetupCommands(repos, value), "owner", value);
      assertRefused(() => binhostGitSetupCommands([], value), "owner", value);
    }
    for (const value of hostileTexts("/srv/git")) {
      assertRefused(() => binhostGitSetupCommands(repos, "gi-admin", value), "root", value);
      assertRefused(() => gitHttpBackendConfig(["gentoo"], value), "root", value);
    }
    for (const value of [...hostileTexts("overlay"), "overlay.git", ".."]) {
      assertRefused(
        () => binhostGitSetupCommands([repos[0], { ...repos[1], name: value }], "gi-admin"),
        "repos[1].name",
        value,
      );
      assertRefused(() => gitHttpBackendConfig(["gentoo", value]), "names[1]", value);
    }
    for (const value of [...hostileTexts("develop"), "HEAD", "a..b"]) {
      assertRefused(
        () => binhostGitSetupCommands([repos[0], { ...repos[1], head: value }], "gi-admin"),
        "repos[1].head",
        value,
      );
    }
    assert.throws(() => binhostGitSetupCommands(repos, "gi-admin;id"), {
      name: "ValidationError",
      message:
        'binhostGitSetupCommands: 1 problem:\n- owner: is not a user name (got "gi-admin;id"); use e.g. gi-admin',
    });
  });
});

describe("binhost git: nginx locations", () => {
  it("sends exactly the listed repositories to git-http-backend and refuses pushes with 403", () => {
    assert.deepEqual(binhostGitLocations(["overlay", "gentoo"]), [
      "        # Git repositories gentoo, overlay: read-only smart HTTP (git-http-backend",
      "        # through fcgiwrap). Pushes are refused here and by git-http-backend.",
      "        location ~ ^/git/(?:gentoo|overlay)\\.git/git-receive-pack$ {",
      "            return 403;",
      "        }",
      "        location ~ ^/git(?<git_path>/(?:gentoo|overlay)\\.git/.*)$ {",
      "            if ($arg_service = git-receive-pack) {",
      "                return 403;",
      "            }",
      "            limit_except GET POST {",
      "                deny all;",
      "            }",
      "            # Fetch negotiation of a large repository posts more than the default 1 MiB.",
      "            client_max_body_size 0;",
      "            fastcgi_pass unix:/run/fcgiwrap.socket;",
      "            fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;",
      "            fastcgi_param GIT_PROJECT_ROOT /srv/git;",
      '            fastcgi_param GIT_HTTP_EXPORT_ALL "";',
      "            fastcgi_param GIT_CONFIG_SYSTEM /etc/gentoo-infra/git-http-backend.gitconfig;",
      "            fastcgi_param PATH_INFO $git_path;",
      "            fastcgi_param QUERY_STRING $query_string;",
      "            fastcgi_param REQUEST_METHOD $request_method;",
      "            fastcgi_param CONTENT_TYPE $content_type;",
      "            fastcgi_param CONTENT_LENGTH $content_length;",
      "            fastcgi_param REMOTE_ADDR $remote_addr;",
      "            fastcgi_param SERVER_PROTOCOL $server_protocol;",
      "            fastcgi_param GATEWAY_INTERFACE CGI/1.1;",
      "        }",
    ]);
  });

  it("escapes dots of a name in the location regex and renders nothing without repositories", () => {
    const [, , receive] = binhostGitLocations(["my.overlay"]);
    assert.equal(receive, "        location ~ ^/git/(?:my\\.overlay)\\.git/git-receive-pack$ {");
    assert.deepEqual(binhostGitLocations([]), []);
  });

  it("puts the git locations after the fixed directories and before the hidden-file 404, only when listed", () => {
    const base = {
      serverName: "binhost.example.ch",
      certificatePath: "/etc/ssl/binhost/cert.pem",
      keyPath: "/etc/ssl/binhost/key.pem",
      buildProfiles: [web],
      http: "off" as const,
    };
    const locations = (conf: string) =>
      conf
        .split("\n")
        .filter((l) => l.trim().startsWith("location"))
        .map((l) => l.trim());
    assert.deepEqual(locations(renderBinhostNginxConf({ ...base, gitRepositories: ["gentoo"] })), [
      "location /production/amd64/web/ {",
      "location /distfiles/ {",
      "location /stages/ {",
      "location /crl/ {",
      "location /keys/ {",
      "location /client/ {",
      "location ~ ^/git/(?:gentoo)\\.git/git-receive-pack$ {",
      "location ~ ^/git(?<git_path>/(?:gentoo)\\.git/.*)$ {",
      "location ~ /\\. {",
      "location / {",
    ]);
    assert.equal(
      renderBinhostNginxConf({ ...base, gitRepositories: [] }),
      renderBinhostNginxConf(base),
    );
  });

  it("names bad and duplicate repository names and bad backend paths", () => {
    assert.deepEqual(
      messages(
        validateBinhostNginxArgs({
          serverName: "binhost.example.ch",
          certificatePath: "/c.pem",
          keyPath: "/k.pem",
          buildProfiles: [web],
          gitRepositories: ["gentoo", "Overlay", "x.git", "gentoo"],
          fcgiwrapSocket: "run/fcgiwrap.socket",
        }),
      ),
      [
        "fcgiwrapSocket: is not an absolute path without spaces; use e.g. /etc/ssl/binhost/cert.pem",
        "gitRepositories[1]: is not a repository name; use lower-case letters, digits, '.', '_' and '-', without .git",
        "gitRepositories[2]: is not a repository name; use lower-case letters, digits, '.', '_' and '-', without .git",
        "gitRepositories[3]: duplicates gitRepositories[0]; list each repository once",
      ],
    );
  });
});

describe("binhost git: server configuration", () => {
  it("trusts each served repository (and the '.' git-upload-pack checks) for git-http-backend, and refuses HTTP pushes", () => {
    assert.equal(
      gitHttpBackendConfig(["overlay", "gentoo"]),
      [
        "# gentoo-infra BinhostMirror: git-http-backend's system configuration (nginx sets",
        "# GIT_CONFIG_SYSTEM to this file). Rendered file: edits are overwritten.",
        "[safe]",
        "\tdirectory = /srv/git/gentoo.git",
        "\tdirectory = /srv/git/overlay.git",
        "\tdirectory = .",
        "[http]",
        "\treceivepack = false",
        "",
      ].join("\n"),
    );
  });

  it("creates admin-owned, world-readable bare repositories, allows forced pushes, points HEAD at the first branch and starts fcgiwrap", () => {
    assert.deepEqual(
      binhostGitSetupCommands(
        [
          { name: "gentoo", head: "master" },
          { name: "overlay", head: "develop" },
        ],
        "gi-admin",
      ),
      [
        "install -d -m 0755 -o root -g root /srv/git",
        "install -d -m 0755 -o gi-admin -g gi-admin '/srv/git/gentoo.git' '/srv/git/overlay.git'",
        "runuser -u gi-admin -- git init --quiet --bare --shared=0644 '/srv/git/gentoo.git'",
        "runuser -u gi-admin -- git --git-dir='/srv/git/gentoo.git' config receive.denyNonFastForwards false",
        "runuser -u gi-admin -- git --git-dir='/srv/git/gentoo.git' config http.receivepack false",
        "runuser -u gi-admin -- git --git-dir='/srv/git/gentoo.git' symbolic-ref HEAD 'refs/heads/master'",
        "runuser -u gi-admin -- git init --quiet --bare --shared=0644 '/srv/git/overlay.git'",
        "runuser -u gi-admin -- git --git-dir='/srv/git/overlay.git' config receive.denyNonFastForwards false",
        "runuser -u gi-admin -- git --git-dir='/srv/git/overlay.git' config http.receivepack false",
        "runuser -u gi-admin -- git --git-dir='/srv/git/overlay.git' symbolic-ref HEAD 'refs/heads/develop'",
        "systemctl enable --now fcgiwrap.socket",
      ],
    );
    assert.deepEqual(binhostGitSetupCommands([], "gi-admin"), []);
  });

  it("runs the git setup after the upload directories and before nginx is checked and reloaded", () => {
    assert.equal(
      binhostAfterChange([web], "/srv/binhost", [
        "install -d /srv/git",
        "systemctl enable --now fcgiwrap.socket",
      ]),
      "cloud-init status --wait >/dev/null 2>&1 || true; " +
        "python3 /usr/local/libexec/gentoo-infra/binhost-publish-crls /var/lib/gentoo-infra/binhost/crl-files.json /srv/binhost/crl" +
        " && install -d -m 0755 -o gi-upload -g gi-upload '/srv/binhost/production/amd64/web' '/srv/binhost/distfiles' '/srv/binhost/stages'" +
        " && install -d /srv/git && systemctl enable --now fcgiwrap.socket" +
        " && nginx -t -q && systemctl reload-or-restart nginx",
    );
  });
});

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);

describe("binhost git: validation", () => {
  it("accepts git branch names and refuses what git check-ref-format refuses", () => {
    for (const ok of ["master", "develop", "release/2026.1", "feature/a_b-c", "v1.0"]) {
      assert.equal(branchNameProblem(ok), undefined, ok);
    }
    assert.deepEqual(
      [
        "-x",
        "a..b",
        "a b",
        "a/",
        "/a",
        "a//b",
        ".a",
        "a/.b",
        "a.lock",
        "a.",
        "HEAD",
        "a~1",
        "",
      ].map((b) => `${b}: ${branchNameProblem(b)}`),
      [
        "-x: starts with -",
        "a..b: contains ..",
        "a b: has characters other than letters, digits, . _ / -",
        "a/: has an empty component, or one that starts with . or ends with .lock",
        "/a: has an empty component, or one that starts with . or ends with .lock",
        "a//b: has an empty component, or one that starts with . or ends with .lock",
        ".a: has an empty component, or one that starts with . or ends with .lock",
        "a/.b: has an empty component, or one that starts with . or ends with .lock",
        "a.lock: has an empty component, or one that starts with . or ends with .lock",
        "a.: ends with .",
        "HEAD: is HEAD",
        "a~1: has characters other than letters, digits, . _ / -",
        ": has characters other than letters, digits, . _ / -",
      ],
    );
  });

  it("names every bad name, duplicate, branch and commit (clones not checked)", () => {
    assert.deepEqual(
      messages(
        validateGitRepositories(
          [
            { name: "gentoo", clone: "/c/gentoo", branches: { master: C1 } },
            { name: "Overlay", clone: "", branches: {} },
            { name: "gentoo", clone: "/c/x", branches: { "-x": C1, develop: "abc" } },
            { name: "tree.git", clone: "/c/t", branches: { master: "A".repeat(40) } },
          ],
          false,
        ),
      ),
      [
        "gitRepositories[1].name: is not a repository name; use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, without .git (e.g. gentoo)",
        'gitRepositories[1].branches: names no branch; map at least one branch to its commit, e.g. { develop: "<40 hex digits>" }',
        "gitRepositories[1].clone: is not a path; give the path of a local clone of the repository",
        "gitRepositories[2].name: is also the name of gitRepositories[0]; give each repository its own name",
        "gitRepositories[2].branches: names a branch that starts with -; use a git branch name such as develop or release/2026.1",
        "gitRepositories[2].branches.develop: is not a full commit hash; give the 40 lower-case hex digits of the commit (e.g. the tree snapshot's commit)",
        "gitRepositories[3].name: is not a repository name; use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, without .git (e.g. gentoo)",
        "gitRepositories[3].branches.master: is not a full commit hash; give the 40 lower-case hex digits of the commit (e.g. the tree snapshot's commit)",
      ],
    );
    assert.deepEqual(validateGitRepositories(undefined), []);
    assert.deepEqual(messages(validateGitRepositories("gentoo")), [
      "gitRepositories: is not a list; list the repositories, e.g. [{ name, clone, branches }]",
    ]);
  });

  it("checks that the clone is a repository and has each commit, so a missing commit fails before anything is created", () => {
    const s = scratch("gi-binhost-validate-");
    try {
      const clone = initRepo(join(s.dir, "clone"));
      const have = commit(clone, "one", { a: "1" });
      assert.deepEqual(
        validateGitRepositories([{ name: "overlay", clone, branches: { develop: have } }]),
        [],
      );
      assert.deepEqual(
        messages(
          validateGitRepositories([
            { name: "overlay", clone, branches: { develop: have, master: C2 } },
            { name: "gentoo", clone: join(s.dir, "missing"), branches: { master: C1 } },
          ]),
        ),
        [
          `gitRepositories[0].branches.master: is not a commit of ${clone}; fetch the commit into ${clone}, or pin a commit it has`,
          `gitRepositories[1].clone: is not a git repository (fatal: cannot change to '${join(s.dir, "missing")}': No such file or directory); give the path of a local clone (bare or not) of the repository`,
        ],
      );
    } finally {
      s.cleanup();
    }
  });
});

describe("binhost git: the push", () => {
  const s = scratch("gi-binhost-push-");
  after(() => s.cleanup());
  const branches = { master: "", "release/2026.1": "" };

  it("lists the commits as triggers, sorted by branch", () => {
    assert.deepEqual(gitPushTriggers({ release: C2, develop: C1 }), [
      `${C1} refs/heads/develop`,
      `${C2} refs/heads/release`,
    ]);
    assert.equal(
      gitPushRemote("gi-admin", "192.168.150.10", "gentoo"),
      "ssh://gi-admin@192.168.150.10/srv/git/gentoo.git",
    );
  });

  it("gives the script the clone, the remote and a refspec per branch sorted by branch, and names the key variables it reads", () => {
    const script = gitPushScript({
      clone: "../gentoo",
      remote: "ssh://gi-admin@192.168.150.10/srv/git/gentoo.git",
      branches: { "release/2026.1": C2, master: C1 },
    });
    assert.deepEqual(
      script.split("\n").filter((l) => /^(clone|remote|refspecs)=/.test(l)),
      [
        "clone='../gentoo'",
        "remote='ssh://gi-admin@192.168.150.10/srv/git/gentoo.git'",
        `refspecs=('${C1}:refs/heads/master' '${C2}:refs/heads/release/2026.1')`,
      ],
    );
    for (const name of Object.values(GIT_PUSH_ENV))
      assert.ok(script.includes(`"\${${name}:?`), name);
  });

  // A fake `ssh` first on PATH: it records what it was given (options, the key file's and
  // its directory's modes, the key and known_hosts contents) and runs the remote command
  // locally, as sshd would. Real host key checking is ssh's own and is not exercised here.
  const bin = join(s.dir, "bin");
  mkdirSync(bin);
  const log = join(s.dir, "ssh.log");
  writeFileSync(
    join(bin, "ssh"),
    `#!/bin/bash
set -eu
key= known=
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[i]}" in
    -i) key=\${args[i + 1]} ;;
    UserKnownHostsFile=*) known=\${args[i]#UserKnownHostsFile=} ;;
  esac
done
{
  printf 'options:'; printf ' %s' "\${args[@]:0:\${#args[@]}-1}"; printf '\\n'
  printf 'key %s %s %s\\n' "$key" "$(stat -c %a "$key")" "$(stat -c %a "$(dirname "$key")")"
  printf 'key content %s\\n' "$(base64 -w0 <"$key")"
  printf 'known_hosts %s\\n' "$(cat "$known")"
} >>"$FAKE_SSH_LOG"
exec sh -c "\${!#}"
`,
  );
  chmodSync(join(bin, "ssh"), 0o755);
  const KEY =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-material\n-----END OPENSSH PRIVATE KEY-----\n";
  const KNOWN = "binhost.example.ch,192.0.2.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq\n";
  const runPush = (script: string, env: Record<string, string | undefined>) => {
    const file = join(s.dir, "push.sh");
    writeFileSync(file, script);
    const r = spawnSync("bash", [file], {
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_SSH_LOG: log,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        ...env,
      },
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  const clone = initRepo(join(s.dir, "clone"));
  const one = commit(clone, "one", { a: "1" });
  const two = commit(clone, "two", { a: "2" });
  const three = commit(clone, "three", { a: "3" });
  const root = join(s.dir, "srv-git");
  const bare = initRepo(join(root, "gentoo.git"), { bare: true });
  git(bare, "config", "receive.denyNonFastForwards", "false");
  const served = (dir: string) => refs(dir).split("\n").sort();

  it("makes the remote's branches exactly the listed commits over SSH with a 0600 key and the pinned host key, then deletes the key", () => {
    // The remote has a branch that is no longer listed, and master ahead of its new commit.
    git(clone, "push", "--quiet", bare, `${three}:refs/heads/master`, `${one}:refs/heads/stale`);
    branches.master = two;
    branches["release/2026.1"] = one;
    const remote = gitPushRemote("gi-admin", "192.0.2.10", "gentoo", root);
    const r = runPush(gitPushScript({ clone, remote, branches }), {
      GI_SSH_KEY: KEY,
      GI_KNOWN_HOSTS: KNOWN,
    });
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(served(bare), [
      `refs/heads/master ${two}`,
      `refs/heads/release/2026.1 ${one}`,
    ]);
    assert.ok(!r.output.includes("secret-key-material"), r.output);
    const calls = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== "");
    assert.equal(calls.length, 8, calls.join("\n")); // ls-remote, then push: 4 lines each
    const keyLine = calls[1]?.split(" ") ?? [];
    assert.deepEqual(keyLine.slice(2), ["600", "700"]);
    assert.equal(existsSync(keyLine[1] ?? "/"), false, "the key file is removed");
    assert.equal(existsSync(join(keyLine[1] ?? "/", "..")), false, "its directory is removed");
    assert.equal(calls[2], `key content ${Buffer.from(`${KEY}\n`).toString("base64")}`);
    assert.equal(calls[3], `known_hosts ${KNOWN.trim()}`);
    const options = calls[0] ?? "";
    for (const option of [
      "-o IdentitiesOnly=yes",
      "-o BatchMode=yes",
      "-o StrictHostKeyChecking=yes",
      "-o GlobalKnownHostsFile=/dev/null",
      " gi-admin@192.0.2.10",
    ]) {
      assert.ok(options.includes(option), `${option} in ${options}`);
    }
  });

  it("pushes nothing when one commit is missing: the push is atomic", () => {
    const before = served(bare);
    const r = runPush(
      gitPushScript({
        clone,
        remote: gitPushRemote("gi-admin", "192.0.2.10", "gentoo", root),
        branches: { master: three, develop: C1 },
      }),
      { GI_SSH_KEY: KEY, GI_KNOWN_HOSTS: KNOWN },
    );
    assert.notEqual(r.status, 0, r.output);
    assert.deepEqual(served(bare), before);
  });

  it("refuses to run without the key or the host key in its environment", () => {
    const script = gitPushScript({
      clone,
      remote: gitPushRemote("gi-admin", "192.0.2.10", "gentoo", root),
      branches: { master: three },
    });
    const noKey = runPush(script, { GI_SSH_KEY: undefined, GI_KNOWN_HOSTS: KNOWN });
    assert.notEqual(noKey.status, 0);
    assert.match(noKey.output, /GI_SSH_KEY: must hold the admin private key/);
    const noHost = runPush(script, { GI_SSH_KEY: KEY, GI_KNOWN_HOSTS: "" });
    assert.notEqual(noHost.status, 0);
    assert.match(noHost.output, /GI_KNOWN_HOSTS: must pin the binhost host key/);
  });
});
