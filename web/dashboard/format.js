// Turns the numbers of /api/status and the file listing into text. Every function accepts
// null or undefined (a rate before the gateway has two samples, a field an older gateway lacks)
// and answers with a dash, so the views never print "NaN" or "null".

export const DASH = '—';

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

const countFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

function isNumber(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Digits after the point: none for bytes or three-digit values, one otherwise. */
function fractionDigits(value, unit) {
  return unit === 0 || value >= 100 ? 0 : 1;
}

/** Bytes in binary units: "0 B", "512 B", "1.5 KiB", "12.3 GiB", "250 TiB". */
export function formatBytes(bytes) {
  if (!isNumber(bytes)) return DASH;
  let value = Math.abs(bytes);
  let unit = 0;
  // Move up while the value would print as 1024 or more, so 1023.96 KiB reads "1.0 MiB".
  while (unit < BINARY_UNITS.length - 1 && Number(value.toFixed(fractionDigits(value, unit))) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  const sign = bytes < 0 ? '-' : '';
  return `${sign}${value.toFixed(fractionDigits(value, unit))} ${BINARY_UNITS[unit]}`;
}

/** Bytes per second: "1.2 MiB/s". */
export function formatByteRate(bytesPerSec) {
  return isNumber(bytesPerSec) ? `${formatBytes(bytesPerSec)}/s` : DASH;
}

/** A whole count with digit grouping: "12,345". */
export function formatCount(count) {
  return isNumber(count) ? countFormat.format(count) : DASH;
}

/** An operations-per-second value: "0", "3.5", "1,204". */
export function formatRate(perSec) {
  return isNumber(perSec) ? rateFormat.format(perSec) : DASH;
}

/** A fraction (0.123) as a percentage: "12.3 %". */
export function formatPercent(fraction, digits = 1) {
  return isNumber(fraction) ? `${(fraction * 100).toFixed(digits)} %` : DASH;
}

/** The age of a Unix-ms time as seen at `now` (Unix ms): "now", "3 s ago", "4 min ago". */
export function formatAge(timeMs, nowMs) {
  if (!isNumber(timeMs) || timeMs <= 0 || !isNumber(nowMs)) return DASH;
  const seconds = Math.max(0, Math.round((nowMs - timeMs) / 1000));
  if (seconds < 1) return 'now';
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/** A date for the file list, in the reader's locale; a dash for a missing or bad date. */
export function formatDate(isoText) {
  const time = Date.parse(isoText ?? '');
  return Number.isNaN(time) ? DASH : dateFormat.format(time);
}

/** A wall-clock time of day: "14:03:07". */
export function formatClock(timeMs) {
  return isNumber(timeMs) ? clockFormat.format(timeMs) : DASH;
}

/** The text ending with a full stop, to join messages from the gateway into sentences. */
export function sentence(text) {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}
