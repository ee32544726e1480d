import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { goroutineSummary } from "../support/pulumi";

describe("test support: the goroutines of a provider that hung", () => {
  // Four goroutines of what the libvirt provider printed on SIGQUIT while an up hung on the
  // go-libvirt deadlock (toolchain/libvirt/patches/go-libvirt-stream-order.patch), as the CLI
  // relayed them.
  const dump = readFileSync(
    path.join(__dirname, "testdata/goroutines/libvirt-provider-deadlock.txt"),
    "utf8",
  );

  it("names each waiting goroutine by its state and its provider and library calls", () => {
    assert.equal(
      goroutineSummary(dump),
      [
        "",
        "provider goroutines at the stop:",
        "  [chan receive] go-libvirt.(*Libvirt).getResponse < go-libvirt.(*Libvirt).requestStream < go-libvirt.(*Libvirt).StorageVolCreateXML < libvirt.(*defCloudInit).UploadIso < libvirt.resourceCloudInitDiskCreate < schema.(*Resource).create",
        "  [sync.Mutex.Lock] go-libvirt.(*Libvirt).requestStream.func1 < go-libvirt.(*Libvirt).requestStream < go-libvirt.(*Libvirt).StorageVolDownload < libvirt.downloadISO.newVolumeDownloader.func1 < libvirt.downloadISO < libvirt.newCloudInitDefFromRemoteISO",
        "  [chan send] go-libvirt.(*Libvirt).callback < go-libvirt.(*Libvirt).Route < socket.listen < socket.(*Socket).listenAndRoute < socket.(*Socket).Connect.gowrap2",
      ].join("\n"),
    );
  });

  it("leaves out goroutines of Go, gRPC and Pulumi's plumbing only, and output without a dump", () => {
    const grpcOnly = dump.slice(0, dump.indexOf("goroutine 44"));
    assert.match(grpcOnly, /grpcsync/);
    assert.equal(goroutineSummary(grpcOnly), "");
    assert.equal(goroutineSummary("Updating (dev):\n error: update failed\n"), "");
  });
});
