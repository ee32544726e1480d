/**
 * The install report: what the installer PUTs when it ends (`status`, `generation`, a one-line
 * `message`), where it lands on the install host, and how it is read. Written and read here
 * once; the installer (installer/init) and the status command follow the same format. Pure.
 */
import type { InstallRecord } from "./netboot";

/**
 * Under the state directory: nginx stores the PUT of `/report/<mac>` as `report/<mac>`
 * (the inbox: the report URL's directory, `pxeHttpPaths.report`, is this name), and the
 * netboot switch moves each report from there into `last-report/<mac>`, which the switch
 * and the status command read.
 */
export const REPORT_INBOX = "report";
export const REPORT_STORE = "last-report";

/** The first value of each `key=value` line of a report. */
function reportFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf("=");
    if (at > 0 && !fields.has(line.slice(0, at))) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/**
 * Reads an install report as the installer PUTs it: `key=value` lines, of which the switch
 * uses `status` (`success` or anything else) and `generation` (a positive whole number).
 * Returns the record of a successful install, or undefined (a failure, or unreadable).
 */
export function parseInstallReport(mac: string, text: string): InstallRecord | undefined {
  const fields = reportFields(text);
  const generation = fields.get("generation") ?? "";
  if (fields.get("status") !== "success" || !/^[1-9][0-9]{0,8}$/.test(generation)) return undefined;
  return { mac, generation: Number(generation) };
}

/** The longest report message the installer sends (nginx takes at most 4 KiB per report). */
export const REPORT_MESSAGE_MAX = 400;

/**
 * A report message as the installer sends it and the status command shows it: one line of
 * printable ASCII (anything else becomes a space), at most {@link REPORT_MESSAGE_MAX}
 * characters. The installer does the same with `tr` and `cut`.
 */
export function reportMessage(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, " ").slice(0, REPORT_MESSAGE_MAX);
}

/**
 * The report body for a finished install (what the installer PUTs): status, generation
 * and a one-line message (the cause of a failure; what was installed on success).
 */
export function renderInstallReport(
  status: "success" | "failed",
  generation: number,
  message?: string,
): string {
  const line = message === undefined ? "" : `message=${reportMessage(message)}\n`;
  return `status=${status}\ngeneration=${generation}\n${line}`;
}
