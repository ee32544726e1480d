/**
 * Distinguished names: parsing the RFC 4514 string form users write
 * (`CN=web1,OU=hosts,DC=example,DC=ch`, most specific first), validating it, and turning it
 * into the X.509 RDN sequence (least specific first) with the ASN.1 string type each
 * attribute needs. Pure: no `@pulumi/pulumi`.
 */
import { isOneLine } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";

/** The attribute types a DN in this library may use (RFC 4519 short names). */
const DN_ATTRIBUTES = ["DC", "C", "ST", "L", "O", "OU", "CN", "UID"] as const;

/** One attribute type of {@link DN_ATTRIBUTES}. */
export type DnAttribute = (typeof DN_ATTRIBUTES)[number];

/** One relative distinguished name with a single attribute. */
export interface Rdn {
  /** Attribute type, upper-case short name. */
  readonly type: DnAttribute;
  /** Attribute value, unescaped. */
  readonly value: string;
}

/** Object identifiers of {@link DN_ATTRIBUTES}. */
const DN_ATTRIBUTE_OIDS: Readonly<Record<DnAttribute, string>> = {
  DC: "0.9.2342.19200300.100.1.25",
  C: "2.5.4.6",
  ST: "2.5.4.8",
  L: "2.5.4.7",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  CN: "2.5.4.3",
  UID: "0.9.2342.19200300.100.1.1",
};

/** Upper bounds on value length from RFC 5280 appendix A (`ub-*`). */
const MAX_LENGTH: Readonly<Record<DnAttribute, number>> = {
  DC: 63,
  C: 2,
  ST: 128,
  L: 128,
  O: 64,
  OU: 64,
  CN: 64,
  UID: 256,
};

/** The result of {@link parseDn}: the RDNs (most specific first) or what is wrong. */
export type ParsedDn =
  | { readonly ok: true; readonly rdns: readonly Rdn[] }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses an RFC 4514 DN string such as `CN=web1,OU=hosts,DC=example,DC=ch`. Attribute
 * types are case-insensitive; values may escape `,`, `+`, `"`, `\`, `<`, `>`, `;`, `=` and
 * leading/trailing spaces with a backslash, or any byte as `\XX`. Multi-valued RDNs
 * (`+`) are refused: no CA in this library issues them.
 */
export function parseDn(text: string): ParsedDn {
  if (text.trim() === "") return { ok: false, problem: "is empty" };
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      current += c + (text[i + 1] ?? "");
      i++;
    } else if (c === ",") {
      parts.push(current);
      current = "";
    } else if (c === "+") {
      return { ok: false, problem: "has a multi-valued RDN (+)" };
    } else {
      current += c;
    }
  }
  parts.push(current);
  const rdns: Rdn[] = [];
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0)
      return { ok: false, problem: `has an RDN without "type=value": ${JSON.stringify(part)}` };
    const type = part.slice(0, eq).trim().toUpperCase();
    if (!(DN_ATTRIBUTES as readonly string[]).includes(type)) {
      return { ok: false, problem: `has an unsupported attribute type ${JSON.stringify(type)}` };
    }
    // Spaces around a value are not part of it, but an escaped one (`\ `) is.
    const raw = part
      .slice(eq + 1)
      .trimStart()
      .replace(/(?<!\\)\s+$/, "");
    const value = unescapeValue(raw);
    if (value === undefined)
      return { ok: false, problem: `has a bad escape in ${JSON.stringify(part)}` };
    if (value === "") return { ok: false, problem: `has an empty ${type} value` };
    if (!isOneLine(value)) {
      return {
        ok: false,
        problem: `has a control character (a line break, tab or NUL) in ${type}`,
      };
    }
    const max = MAX_LENGTH[type as DnAttribute];
    if (value.length > max) {
      return { ok: false, problem: `has a ${type} longer than ${max} characters` };
    }
    if (type === "DC" && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(value)) {
      return { ok: false, problem: `has DC=${JSON.stringify(value)}, which is not a DNS label` };
    }
    if (type === "C" && !/^[A-Z]{2}$/.test(value)) {
      return {
        ok: false,
        problem: `has C=${JSON.stringify(value)}, which is not an ISO 3166 code`,
      };
    }
    rdns.push({ type: type as DnAttribute, value });
  }
  return { ok: true, rdns };
}

function unescapeValue(raw: string): string | undefined {
  let out = "";
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString("utf8");
      bytes.length = 0;
    }
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== "\\") {
      flush();
      out += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
      continue;
    }
    const next = raw[i + 1];
    if (next === undefined || !' ,+"\\<>;=#'.includes(next)) return undefined;
    flush();
    out += next;
    i++;
  }
  flush();
  return out;
}

/** Formats RDNs (most specific first) as an RFC 4514 string, escaping what must be. */
export function formatDn(rdns: readonly Rdn[]): string {
  return rdns.map((r) => `${r.type}=${escapeValue(r.value)}`).join(",");
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(" ") || out.startsWith("#")) out = `\\${out}`;
  if (out.endsWith(" ")) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Validates a base DN (the part every subject ends with): parses, has no CN. */
export function validateBaseDn(argument: string, value: unknown): Violation[] {
  const fix = 'write it most specific first, e.g. "dc=example,dc=ch" or "O=Example,C=CH"';
  if (typeof value !== "string") return [violation(argument, value, "is not a string", fix)];
  const parsed = parseDn(value);
  if (!parsed.ok)
    return [violation(argument, value, `is not a valid DN: it ${parsed.problem}`, fix)];
  if (parsed.rdns.some((r) => r.type === "CN")) {
    return [
      violation(
        argument,
        value,
        "contains a CN",
        "the base names the organization; each certificate adds its own CN",
      ),
    ];
  }
  return [];
}

/**
 * The subject of a certificate below `baseDn`: `CN=<commonName>[,OU=<unit>],<base>`.
 * Throws on a malformed base (validate it first with {@link validateBaseDn}).
 */
export function subjectBelow(baseDn: string, commonName: string, unit?: string): Rdn[] {
  const base = parseDn(baseDn);
  if (!base.ok) throw new Error(`base DN ${JSON.stringify(baseDn)} ${base.problem}`);
  return [
    { type: "CN", value: commonName },
    ...(unit === undefined ? [] : [{ type: "OU" as const, value: unit }]),
    ...base.rdns,
  ];
}

/** The first DC (or else O) value of a base DN: a default organization label. */
export function organizationOf(baseDn: string): string {
  const base = parseDn(baseDn);
  if (!base.ok) return baseDn;
  const dc = base.rdns.find((r) => r.type === "DC") ?? base.rdns.find((r) => r.type === "O");
  return dc?.value ?? base.rdns[0]?.value ?? baseDn;
}

/** ASN.1 string type of a DN attribute value in an X.509 name. */
export type AsnStringType = "utf8String" | "ia5String" | "printableString";

/**
 * The ASN.1 string type each attribute is encoded with: DC is an IA5String (RFC 4519),
 * C a PrintableString (RFC 5280), everything else a UTF8String (RFC 5280 4.1.2.6).
 */
function asnStringType(type: DnAttribute): AsnStringType {
  if (type === "DC") return "ia5String";
  if (type === "C") return "printableString";
  return "utf8String";
}

/** One RDN in X.509 (ASN.1) order with its OID and string type, as a signer consumes it. */
export interface EncodedRdn {
  /** Attribute OID. */
  readonly oid: string;
  /** ASN.1 string type of the value. */
  readonly encoding: AsnStringType;
  /** The value. */
  readonly value: string;
}

/**
 * Turns RDNs written most specific first into the X.509 RDN sequence, which starts at
 * the root of the tree: `CN=a,DC=example,DC=ch` becomes DC=ch, DC=example, CN=a.
 */
export function toX509Order(rdns: readonly Rdn[]): EncodedRdn[] {
  return [...rdns].reverse().map((r) => ({
    oid: DN_ATTRIBUTE_OIDS[r.type],
    encoding: asnStringType(r.type),
    value: r.value,
  }));
}
