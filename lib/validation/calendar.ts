/**
 * A pure check of systemd calendar expressions (systemd.time(7), `OnCalendar=`), so that a
 * schedule systemd cannot parse is refused at preview, not when the builder's timer is loaded.
 *
 * It accepts a subset of what systemd accepts, the forms a schedule is written in:
 * - a shorthand: minutely, hourly, daily, weekly, monthly, yearly, annually, quarterly,
 *   semiannually (any case), optionally followed by a time zone;
 * - `[weekdays] [date] [time] [time zone]`, one space apart, at least one of the first three:
 *   - weekdays: `Mon`, `Monday` (any case), ranges `Mon..Fri` (in week order), lists `Sat,Sun`;
 *   - date: `[year-]month-day`, or `[year-]month~day` (the day counted from the month's end:
 *     one value or range within 1..28, no list, no repetition: systemd 252 lowers the limit
 *     by 3 for each further list item, so `*~26,2` fails there); year 1970..2199 in four
 *     digits, month 1..12, day 1..31;
 *   - time: `hour:minute[:second]`, hour 0..23, minute and second 0..59, a second value with
 *     up to six decimals (a range of seconds is of whole seconds and, without a repetition,
 *     not a single second);
 *   - each date or time component: `*`, or a list `a,b` of values and ranges `a..b` (a <= b),
 *     each with an optional repetition `/n` that fits the component's range (1 <= n <=
 *     max - min, a + n <= max: one repetition at least);
 *   - time zone: `UTC`, or an IANA zone name (`Europe/Zurich`) that this Node.js knows.
 * Anything else is refused, also what systemd would take (two-digit years, `@epoch`, runs of
 * spaces): the refusal says which form to use. The render tier checks that every expression
 * this accepts is one `systemd-analyze calendar` accepts (test/render/buildfarm.test.ts).
 * Pure: no Pulumi, no file system.
 */

const SHORTHANDS = new Set([
  "minutely",
  "hourly",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "annually",
  "quarterly",
  "semiannually",
]);
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEKDAY_NAMES = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
];

/** The week index (0 = Monday) of a weekday name or abbreviation, or -1. */
function weekday(word: string): number {
  const w = word.toLowerCase();
  const short = WEEKDAYS.indexOf(w);
  return short >= 0 ? short : WEEKDAY_NAMES.indexOf(w);
}

function isWeekdays(text: string): boolean {
  return text.split(",").every((item) => {
    const [from, to, ...rest] = item.split("..");
    if (rest.length > 0 || from === undefined) return false;
    const a = weekday(from);
    if (to === undefined) return a >= 0;
    const b = weekday(to);
    return a >= 0 && b >= a;
  });
}

const INTEGER = /^\d+$/;
const SECONDS = /^\d+(?:\.\d{1,6})?$/;

/**
 * One date or time component: `*` or a list of values and ranges with optional repetitions,
 * within `min..max`; `digits` restricts how values are written (the year's four digits).
 */
function isComponent(
  text: string,
  min: number,
  max: number,
  options: { decimals?: boolean; digits?: number; repeat?: boolean } = {},
): boolean {
  if (text === "*") return true;
  const number = options.decimals ? SECONDS : INTEGER;
  const value = (s: string | undefined) => {
    if (s === undefined || !number.test(s)) return Number.NaN;
    if (options.digits !== undefined && s.length !== options.digits) return Number.NaN;
    const n = Number(s);
    return n >= min && n <= max ? n : Number.NaN;
  };
  return text.split(",").every((item) => {
    const [range, repeat, ...rest] = item.split("/");
    if (rest.length > 0 || range === undefined) return false;
    const [from, to, ...more] = range.split("..");
    if (more.length > 0) return false;
    const a = value(from);
    if (Number.isNaN(a)) return false;
    if (repeat !== undefined) {
      // At least one repetition within the component's range, as systemd wants.
      const r = INTEGER.test(repeat) ? Number(repeat) : 0;
      if (options.repeat === false || r < 1 || r > max - min || a + r > max) return false;
    }
    if (to === undefined) return true;
    const b = value(to);
    if (options.decimals) {
      // Seconds: a range is of whole seconds, and one without a repetition is longer than 0 s.
      if (!INTEGER.test(from ?? "") || !INTEGER.test(to)) return false;
      if (repeat === undefined && a === b) return false;
    }
    return !Number.isNaN(b) && a <= b;
  });
}

function isDate(text: string): boolean {
  const m = /^(?:([^-~]+)-)?([^-~]+)([-~])([^-~]+)$/.exec(text);
  if (!m) return false;
  const [, year, month = "", separator, day = ""] = m;
  return (
    (year === undefined || isComponent(year, 1970, 2199, { digits: 4 })) &&
    isComponent(month, 1, 12) &&
    (separator === "~"
      ? // Counted from the month's end: within the shortest month, no list, no repetition.
        !day.includes(",") && isComponent(day, 1, 28, { repeat: false })
      : isComponent(day, 1, 31))
  );
}

function isTime(text: string): boolean {
  const parts = text.split(":");
  if (parts.length < 2 || parts.length > 3) return false;
  const [hour = "", minute = "", second] = parts;
  return (
    isComponent(hour, 0, 23) &&
    isComponent(minute, 0, 59) &&
    (second === undefined || isComponent(second, 0, 59, { decimals: true }))
  );
}

function isTimeZone(text: string): boolean {
  if (text === "UTC") return true;
  if (!/^[A-Z][A-Za-z_]+(?:\/[A-Z][A-Za-z0-9_+-]+)+$/.test(text)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: text });
    return true;
  } catch {
    return false;
  }
}

/** True when `value` is a calendar expression of the subset above. */
export function isCalendarExpression(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 200) return false;
  const words = value.split(" ");
  if (words.some((w) => w === "")) return false;
  // An optional time zone at the end (not after a lone weekday list: "Mon UTC" is two words
  // of which the second is the zone).
  const last = words[words.length - 1] ?? "";
  const zoned = words.length > 1 && isTimeZone(last);
  const rest = zoned ? words.slice(0, -1) : words;
  if (rest.length === 1 && SHORTHANDS.has((rest[0] ?? "").toLowerCase())) return true;
  let i = 0;
  if (rest[i] !== undefined && isWeekdays(rest[i] as string)) i++;
  if (rest[i] !== undefined && isDate(rest[i] as string)) i++;
  if (rest[i] !== undefined && isTime(rest[i] as string)) i++;
  return i > 0 && i === rest.length;
}

/** The fix text of a refused calendar expression. */
export const CALENDAR_FIX =
  'use a systemd calendar expression such as "daily", "*-*-* 03:00:00", "Mon..Fri 22:30" or "Sun *-*-* 04:00 UTC"';
