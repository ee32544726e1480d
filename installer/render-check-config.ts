/**
 * Renders an install configuration for installer/check-installer with the project's own
 * renderer (lib/pxe/install-config.ts), so that the installer is proven against the exact
 * format PxeInstallHost serves. Usage: tsx installer/render-check-config.ts ARGS.json
 * (ARGS.json: the InstallConfigArgs as JSON); prints the configuration.
 */
import { readFileSync } from "node:fs";
import { type InstallConfigArgs, renderInstallConfig } from "../lib/pxe/install-config";

const file = process.argv[2];
if (!file) throw new Error("usage: render-check-config.ts ARGS.json");
const args = JSON.parse(readFileSync(file, "utf8")) as InstallConfigArgs;
process.stdout.write(renderInstallConfig(args));
