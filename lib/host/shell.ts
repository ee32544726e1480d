/** Quotes a string for POSIX sh: single quotes, each `'` written as `'\''`. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A word for a command line printed for a person to paste: as it is when it holds only
 * characters no shell treats specially (letters, digits and `_@%+=:,./-`), otherwise
 * {@link shQuote}d. Either way the shell reads it back as the same one word.
 */
export function shWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : shQuote(value);
}
