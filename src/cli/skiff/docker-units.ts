// Sizes and times printed the way the docker CLI prints them (github.com/docker/go-units), so scripts and eyes
// used to `docker images` read ours the same: "4.26MB", "3 days ago", "2024-05-01 10:00:00 +0000 UTC".

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/**
 * go-units HumanSizeWithPrecision: decimal units, `precision` significant digits (3 in listings; 4 in prune and
 * system df, which use go-units HumanSize), no space.
 */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < DECIMAL_UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  return `${parseFloat(n.toPrecision(precision))}${DECIMAL_UNITS[i]}`;
}

/** go-units HumanSize: three significant digits (docker images, ps -s). */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 3);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: binary units, four significant digits ("532KiB", "7.607GiB"), as docker stats shows memory. */
export function binarySize(bytes: number): string {
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < BINARY_UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${parseFloat(n.toPrecision(4))}${BINARY_UNITS[i]}`;
}

/** go-units HumanDuration: how docker says how long ago something was ("About an hour", "3 days"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** Go's time.Time.String() of a UTC time in whole seconds, as `docker images` shows CreatedAt. */
export function goTimeString(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
