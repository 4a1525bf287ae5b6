/** One CSV line (RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled). */
export function csvLine(fields: Array<string | number | boolean | null | undefined>): string {
  return fields
    .map((value) => {
      const text = value === undefined || value === null ? "" : String(value);
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(",");
}
