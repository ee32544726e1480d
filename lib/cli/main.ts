/** Entry point of scripts/gentoo-infra: runs the CLI on process.argv. */
import { run } from "./run";

run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
