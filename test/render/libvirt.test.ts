import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { blankDomainXml } from "../../lib/libvirt/blank-domain";
import { serialConsoleXslt } from "../../lib/libvirt/domain-xml";
import { requireTools } from "../support/tools";

// The domain XML stands in for what terraform-provider-libvirt generates before it applies
// the stylesheet (same elements: a pty console on serial port 0). xsltproc is the XSLT
// engine the provider itself runs; virt-xml-validate checks the result against libvirt's
// RelaxNG schema. Not proven here: that the provider applies it (the libvirt tier does).
const domainXml = path.join(__dirname, "testdata/libvirt/domain.xml");
const hint = "run `npm run setup` (Debian: xsltproc, libvirt-clients)";

function transform(logPath: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gi-xslt-"));
  try {
    const xslt = path.join(dir, "serial.xsl");
    fs.writeFileSync(xslt, serialConsoleXslt(logPath));
    return execFileSync("xsltproc", [xslt, domainXml]).toString();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function validates(xml: string): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gi-xml-"));
  try {
    const file = path.join(dir, "domain.xml");
    fs.writeFileSync(file, xml);
    const r = spawnSync("virt-xml-validate", [file, "domain"]);
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("serial console stylesheet", () => {
  it("replaces the pty console by one serial port writing to the log file", (t) => {
    if (!requireTools(t, ["xsltproc", "virt-xml-validate", "xmllint"], hint)) return;
    const out = transform("/var/log/libvirt/qemu/gi-development-binhost-serial.log");
    assert.doesNotMatch(out, /<console/);
    assert.equal(out.match(/<serial /g)?.length, 1);
    assert.match(
      out,
      /<serial type="file">\s*<source path="\/var\/log\/libvirt\/qemu\/gi-development-binhost-serial.log" append="on"\/>\s*<target port="0"\/>\s*<\/serial>/,
    );
    // Everything else is copied unchanged.
    assert.match(out, /<source network="gi-development-lan"\/>/);
    assert.match(out, /<mac address="52:54:00:aa:bb:cc"\/>/);
    const result = validates(out);
    assert.equal(result.ok, true, result.output);
  });

  it("escapes a quote in the log path so the XML stays well-formed", (t) => {
    if (!requireTools(t, ["xsltproc", "virt-xml-validate", "xmllint"], hint)) return;
    const out = transform("/var/log/it's.log");
    assert.match(out, /path="\/var\/log\/it's.log"/);
    assert.equal(validates(out).ok, true);
  });

  it("virt-xml-validate rejects a broken domain, so the check above can fail", (t) => {
    if (!requireTools(t, ["virt-xml-validate", "xmllint"], hint)) return;
    const result = validates("<domain type='qemu'><devices/></domain>");
    assert.equal(result.ok, false);
    assert.match(result.output, /fails to validate/);
  });
});

describe("blank machine domain (gentoo-infra machine boot, the e2e tier)", () => {
  const base = {
    name: "gi-development-machine-web1",
    mac: "52:54:00:47:49:50",
    disk: "/var/lib/libvirt/images/gi-development-machines/web1.qcow2",
    log: "/var/lib/libvirt/images/gi-development-machines/web1.log",
    network: "gi-development-lan",
    nvram: "/var/lib/libvirt/images/gi-development-machines/web1_VARS.fd",
  };

  for (const firmware of ["bios", "uefi"] as const) {
    it(`is a domain libvirt's schema accepts (${firmware})`, (t) => {
      if (!requireTools(t, ["virt-xml-validate", "xmllint"], hint)) return;
      const xml = blankDomainXml({ ...base, firmware });
      const result = validates(xml);
      assert.equal(result.ok, true, `${result.output}\n${xml}`);
      // Network first, then the disk; the console in the file.
      assert.match(xml, /<interface type='network'>[\s\S]*<boot order='1'\/>/);
      assert.match(xml, /<target dev='vda' bus='virtio'\/>\s*<boot order='2'\/>/);
      assert.match(xml, /<serial type='file'><source path='[^']+web1\.log' append='on'\/>/);
    });
  }

  it("keeps a quote or an angle bracket in a path as data", (t) => {
    if (!requireTools(t, ["virt-xml-validate", "xmllint"], hint)) return;
    const xml = blankDomainXml({ ...base, firmware: "uefi", log: "/tmp/it's <odd>.log" });
    assert.match(xml, /path='\/tmp\/it&apos;s &lt;odd&gt;\.log'/);
    assert.equal(validates(xml).ok, true);
  });
});
