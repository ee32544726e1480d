/** Quotes a string for POSIX sh: single quotes, each `'` written as `'\''`. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
