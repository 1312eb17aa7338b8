// Human figures: binary sizes, percentages, CPUs, relative dates.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; null/NaN -> "—". Three significant digits at most. */
export function bytes(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '—';
  let v = Number(n);
  const neg = v < 0;
  v = Math.abs(v);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i += 1;
  }
  return (neg ? '-' : '') + trim(v, i === 0 ? 0 : undefined) + ' ' + UNITS[i];
}

/** A rate in bytes per second: "12 KiB/s". */
export function rate(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '—';
  return bytes(n) + '/s';
}

/** Megabytes (as quotas are written) to a size: 2048 -> "2 GiB", 512 -> "512 MiB". */
export function mib(mb) {
  if (mb === null || mb === undefined || !Number.isFinite(Number(mb))) return '—';
  return bytes(Number(mb) * 1024 * 1024);
}

/** Number with at most 3 significant digits, no trailing zeros: 1.50 -> "1.5", 123.4 -> "123". */
export function trim(v, digits) {
  let d = digits;
  if (d === undefined) d = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return Number(v.toFixed(d)).toLocaleString('en-US', { maximumFractionDigits: d });
}

export function percent(p, digits = 1) {
  if (p === null || p === undefined || !Number.isFinite(Number(p))) return '—';
  return Number(p).toFixed(digits) + ' %';
}

export function cpus(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '—';
  const v = Number(n);
  return trim(v, v % 1 === 0 ? 0 : 2) + (v === 1 ? ' CPU' : ' CPUs');
}

export function count(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + 's'}`;
}

/** Parses an RFC 3339 date (or null); returns a Date or null when it does not parse. */
export function parseDate(s) {
  if (!s) return null;
  const d = s instanceof Date ? s : new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

const fullFmt = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});
const shortFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function fullDate(s) {
  const d = parseDate(s);
  return d ? fullFmt.format(d) : '—';
}

export function shortDate(s) {
  const d = parseDate(s);
  return d ? shortFmt.format(d) : '—';
}

/** "just now", "3 minutes ago", "in 2 hours", "5 days ago"; past months fall back to a date. */
export function relative(s, now = Date.now()) {
  const d = parseDate(s);
  if (!d) return '—';
  const diff = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(diff);
  if (abs < 10) return 'just now';
  const steps = [
    [60, 'second', 1],
    [3600, 'minute', 60],
    [86400, 'hour', 3600],
    [86400 * 30, 'day', 86400],
  ];
  for (const [limit, unit, per] of steps) {
    if (abs < limit) {
      const n = Math.floor(abs / per);
      const words = `${n} ${unit}${n === 1 ? '' : 's'}`;
      return diff < 0 ? `${words} ago` : `in ${words}`;
    }
  }
  return shortDate(d);
}
