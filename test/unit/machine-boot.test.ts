import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  consoleLines,
  consolePhase,
  machineBootPlan,
  machineInstallCommand,
  parseMachineInstall,
  pxeStatusRow,
} from "../../lib/cli/machine-boot";
import { run } from "../../lib/cli/run";
import { ValidationError } from "../../lib/validation/violations";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const outputs = {
  machines: {
    web1: {
      address: "192.168.150.50",
      mac: "52:54:00:47:49:50",
      firmware: "bios",
      user: "root",
      privateKeyOpenssh: KEY,
    },
    web2: {
      address: "192.168.150.51",
      mac: "52:54:00:47:49:51",
      firmware: "uefi",
      user: "root",
      privateKeyOpenssh: KEY,
    },
  },
  servers: { pxe: { address: "192.168.150.3", user: "admin", privateKeyOpenssh: KEY } },
  libvirt: { uri: "qemu:///system", network: "gi-development-lan", namePrefix: "gi-development" },
};

describe("gentoo-infra machine boot: the plan from the stack outputs", () => {
  it("names the domain and its files after the site and the machine", () => {
    const plan = machineBootPlan(outputs, "web2");
    assert.equal(plan.domain.name, "gi-development-machine-web2");
    assert.equal(plan.domain.firmware, "uefi");
    assert.equal(plan.domain.mac, "52:54:00:47:49:51");
    assert.equal(plan.domain.network, "gi-development-lan");
    assert.equal(plan.dir, "/var/lib/libvirt/images/gi-development-machines");
    assert.equal(plan.domain.disk, `${plan.dir}/gi-development-machine-web2.qcow2`);
    assert.equal(plan.domain.log, `${plan.dir}/gi-development-machine-web2.log`);
    assert.equal(plan.installHost.address, "192.168.150.3");
    assert.equal(
      machineBootPlan(outputs, "web1", { dir: "/srv/vm" }).domain.disk,
      "/srv/vm/gi-development-machine-web1.qcow2",
    );
  });

  it("refuses an unknown machine, naming the known ones", () => {
    assert.throws(
      () => machineBootPlan(outputs, "db1"),
      (e: unknown) =>
        e instanceof ValidationError &&
        /hostname: is not a machine of this site \(got "db1"\); use one of web1, web2/.test(
          e.message,
        ),
    );
  });

  it("names every missing output in one error", () => {
    assert.throws(
      () => machineBootPlan({ machines: { web1: { mac: "nope", firmware: "efi" } } }, "web1"),
      (e: unknown) => {
        const m = (e as Error).message;
        return (
          e instanceof ValidationError &&
          /machines\.web1\.mac/.test(m) &&
          /machines\.web1\.firmware/.test(m) &&
          /lacks address, user or privateKeyOpenssh/.test(m) &&
          /servers\.pxe/.test(m) &&
          /libvirt/.test(m) &&
          !m.includes("OPENSSH")
        );
      },
    );
  });

  it("refuses a host name that is not one, before looking it up", () => {
    assert.throws(() => machineBootPlan(outputs, "web1;reboot"), /is not a host name/);
  });
});

describe("gentoo-infra machine boot: the console's phases", () => {
  const installer = "gentoo-infra installer [3.1 s]: configuration read\n";
  const success =
    "gentoo-infra installer [80.2 s]: SUCCESS: installed web1.dev.test (development/amd64/linux, generation 1, bios) in 70 s\n";
  const booted =
    "gentoo-infra stage STAND-IN: hostname=web1 fqdn=web1.dev.test environment=development stack=linux\n";
  const ready = "gentoo-infra stage STAND-IN: ready\n";
  it("goes firmware, installer, installed, booted, ready", () => {
    assert.deepEqual(consolePhase("iPXE 1.21\n", "web1"), { phase: "firmware" });
    assert.deepEqual(consolePhase(installer, "web1"), { phase: "installer" });
    assert.equal(consolePhase(installer + success, "web1").phase, "installed");
    assert.deepEqual(consolePhase(installer + success + booted, "web1"), {
      phase: "booted",
      line: booted.trim(),
    });
    assert.deepEqual(consolePhase(installer + success + booted + ready, "web1"), {
      phase: "ready",
    });
  });

  it("reports the first FAILED line's cause", () => {
    const text = `${installer}gentoo-infra installer [9.0 s]: FAILED: stage digest mismatch for https://b/x\ngentoo-infra installer [9.1 s]: FAILED: install of web1 did not finish: stage digest mismatch\n`;
    assert.deepEqual(consolePhase(text, "web1"), {
      phase: "failed",
      cause: "stage digest mismatch for https://b/x",
    });
  });

  it("does not take another machine's success or an earlier boot's ready line", () => {
    const other = success.replaceAll("web1", "web10");
    assert.equal(consolePhase(installer + other, "web1").phase, "installer");
    assert.equal(consolePhase(ready + installer + success, "web1").phase, "installed");
  });

  it("strips escape sequences and carriage returns from console lines", () => {
    assert.deepEqual(consoleLines("\u001b[2J\u001b[01;01HBdsDxe: loading\r\n\r\n  \nok\n"), [
      "BdsDxe: loading",
      "ok",
    ]);
  });
});

describe("gentoo-infra machine boot: the install host's status and the remote command", () => {
  it("finds the machine's row of gi-pxe-status by MAC", () => {
    const out =
      "52-54-00-47-49-50  web1                  1           install  none\n52-54-00-47-49-51  web2                  1           local    success (generation 1, 2026-12-02T10:00:00Z): installed web2\n";
    assert.deepEqual(pxeStatusRow(out, "52:54:00:47:49:51"), {
      host: "web2",
      generation: "1",
      netboot: "local",
      last: "success (generation 1, 2026-12-02T10:00:00Z): installed web2",
    });
    assert.equal(pxeStatusRow(out, "52:54:00:47:49:ff"), undefined);
  });

  it("syncs, installs from the binhost only and lists the installed versions", () => {
    const cmd = machineInstallCommand("net-misc/openssh");
    assert.match(cmd, /gentoo-infra-sync 2>&1 && /);
    assert.match(
      cmd,
      /emerge --color=n --nospinner --getbinpkg --usepkgonly --oneshot net-misc\/openssh 2>&1/,
    );
    assert.match(cmd, /ls -1 \/var\/db\/pkg\/net-misc .*grep -E '\^openssh-\[0-9\]'/);
    const parsed = parseMachineInstall(
      "--- gentoo-infra machine sync\ngentoo-infra-sync: gentoo at abc\n--- gentoo-infra machine emerge\n>>> Emerging binary\n--- gentoo-infra machine installed\nopenssh-9.8_p1\n",
    );
    assert.deepEqual(parsed, {
      sync: "gentoo-infra-sync: gentoo at abc",
      emerge: ">>> Emerging binary\n",
      installed: ["openssh-9.8_p1"],
    });
  });

  it("refuses an atom with shell or option characters", () => {
    for (const atom of ["net-misc/openssh;reboot", "openssh", "--root=/ x/y", "a/b c", "a/$(id)"]) {
      assert.throws(() => machineInstallCommand(atom), /not a category\/package atom/, atom);
    }
  });
});

describe("gentoo-infra machine: usage", () => {
  const io = () => {
    const seen = { out: "", err: "" };
    return {
      seen,
      io: {
        out: (t: string) => {
          seen.out += t;
        },
        err: (t: string) => {
          seen.err += t;
        },
      },
    };
  };
  it("needs boot or remove, one host name, sane numbers", async () => {
    for (const argv of [
      ["machine"],
      ["machine", "reboot", "web1"],
      ["machine", "boot"],
      ["machine", "boot", "web1", "web2"],
      ["machine", "boot", "web1", "--timeout-minutes", "0"],
      ["machine", "boot", "web1", "--disk-gib", "4.5"],
      ["machine", "remove"],
      ["machine", "remove", "web1", "--all"],
    ]) {
      const { seen, io: cli } = io();
      assert.equal(await run(argv, cli), 2, argv.join(" "));
      assert.match(seen.err, /^gentoo-infra: /);
    }
  });
});
