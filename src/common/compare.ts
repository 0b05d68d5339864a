// String order for sorting names and ISO timestamps: by UTF-16 code units, as Array.prototype.sort orders strings
// by default. String.prototype.localeCompare loads ICU's collator at its first call, 9 ms of a short command such
// as `skiff ps` or `skiff images` (issue 15), for an order that is the same on timestamps and lower-case names.
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
