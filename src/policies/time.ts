/** Calendar arithmetic in a shop's IANA time zone, with nothing but Intl. */

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: "full" | "date", timeZone: string): Intl.DateTimeFormat {
  const key = `${kind}:${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f =
      kind === "full"
        ? new Intl.DateTimeFormat("en-US", {
            timeZone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
          })
        : new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(key, f);
  }
  return f;
}

function offsetMs(instant: number, timeZone: string): number {
  const parts = formatter("full", timeZone).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The local calendar date of an instant, as YYYY-MM-DD. */
export function localDate(instant: Date, timeZone: string): string {
  return formatter("date", timeZone).format(instant);
}

/** Adds whole calendar days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/**
 * The first instant of a local calendar date, daylight saving included: 00:00 local, or the first
 * instant that exists when clocks jump over midnight (e.g. 01:00 in Santiago on its DST day).
 */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const key = `${timeZone} ${date}`;
  let start = dayStarts.get(key);
  if (start === undefined) {
    if (dayStarts.size >= 10_000) dayStarts.clear();
    start = findStartOfLocalDay(date, timeZone);
    dayStarts.set(key, start);
  }
  return new Date(start);
}

/**
 * Where a day starts depends only on the date and the zone's rules, and finding it takes four Intl
 * calls (~15 µs): the policy engine asks for the same few days for every line and case type it
 * answers, so the answers are kept (a bounded map, emptied when full).
 */
const dayStarts = new Map<string, number>();

function findStartOfLocalDay(date: string, timeZone: string): number {
  const [y, m, d] = date.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - offsetMs(guess, timeZone);
  t = guess - offsetMs(t, timeZone);
  if (localDate(new Date(t), timeZone) === date && localDate(new Date(t - 1), timeZone) < date) return t;
  // Midnight did not exist (or the offset guess missed): find the first instant of that date.
  let lo = guess - 36 * 3600_000; // surely before the date starts anywhere
  let hi = guess + 36 * 3600_000; // surely after
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(new Date(mid), timeZone) >= date) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The last instant of an after-sales window of `days` calendar days counted from the day after
 * delivery (签收次日), the last day included: delivered on the 1st, 7 days → ends the 8th, 23:59:59.999.
 */
export function windowEnd(deliveredAt: Date, days: number, timeZone: string): { end: Date; lastDay: string; deliveredDay: string } {
  const deliveredDay = localDate(deliveredAt, timeZone);
  const lastDay = addDays(deliveredDay, days);
  return { end: new Date(startOfLocalDay(addDays(lastDay, 1), timeZone).getTime() - 1), lastDay, deliveredDay };
}
